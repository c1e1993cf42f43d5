-- Alert-rule provisioning against the fake Grafana.
local grafana = require("assay.grafana")
local here = arg[0]:match("^(.*)/") or "."
local fake = dofile(here .. "/fake_grafana.lua").start{token = "admin-token"}
local c = grafana.client{url = fake.url, token = "admin-token"}

after_each(function()
  local seen = fake.violations
  fake:reset()
  assert.eq(seen, {}, "requests the real Grafana API would not take")
end)

local function rule(extra)
  local r = {
    title = "High error rate", ruleGroup = "web", folderUID = "alerts", condition = "C", ["for"] = "5m",
    noDataState = "OK", execErrState = "Error", labels = {severity = "page"},
    annotations = {summary = "5xx above 5%"},
    data = {
      {refId = "A", datasourceUid = "prom-main", relativeTimeRange = {from = 600, to = 0},
        model = {expr = "sum(rate(http_requests_total{code=~\"5..\"}[5m]))", refId = "A"}},
      {refId = "C", datasourceUid = "__expr__", relativeTimeRange = {from = 0, to = 0},
        model = {type = "threshold", expression = "A", refId = "C",
          conditions = {{evaluator = {type = "gt", params = {5}}}}}},
    },
  }
  for k, v in pairs(extra or {}) do r[k] = v end
  return r
end

before_each(function() c:folder_create("Alerts", {uid = "alerts"}) end)

test("upsert without uid creates (POST); Grafana picks the uid", function()
  local r = c:alert_rule_upsert(rule())
  assert.eq(fake:last().method, "POST")
  assert.eq(fake:last().path, "/api/v1/provisioning/alert-rules")
  assert.matches(fake:last().headers["content-type"], "^application/json")
  assert.not_nil(r.uid)
  assert.eq(r.title, "High error rate")
  assert.eq(r.provenance, "api")
end)

test("upsert with a new uid: PUT answers 404, then POST", function()
  local r = c:alert_rule_upsert(rule{uid = "high-errors"})
  assert.eq(r.uid, "high-errors")
  local methods = {}
  for _, req in ipairs(fake.requests) do
    if req.path:find("alert-rules", 1, true) then methods[#methods + 1] = req.method .. " " .. req.path end
  end
  assert.eq(methods, {"PUT /api/v1/provisioning/alert-rules/high-errors", "POST /api/v1/provisioning/alert-rules"})
end)

test("upsert of an existing uid replaces it with PUT", function()
  c:alert_rule_upsert(rule{uid = "r1"})
  local r = c:alert_rule_upsert(rule{uid = "r1", title = "Renamed", ["for"] = "10m"})
  assert.eq(fake:last().method, "PUT")
  assert.eq(r.title, "Renamed")
  assert.eq(c:alert_rule_get("r1")["for"], "10m")
end)

test("disable_provenance sends X-Disable-Provenance: true", function()
  local r = c:alert_rule_upsert(rule{uid = "editable"}, {disable_provenance = true})
  assert.eq(fake:last().headers["x-disable-provenance"], "true")
  assert.eq(r.provenance, "")
end)

test("get and list", function()
  c:alert_rule_upsert(rule{uid = "b", title = "B"})
  c:alert_rule_upsert(rule{uid = "a", title = "A"})
  local all = c:alert_rules()
  assert.eq(#all, 2)
  assert.eq(all[1].uid, "a")
  assert.eq(fake:last().path, "/api/v1/provisioning/alert-rules")
  local r = c:alert_rule_get("b")
  assert.eq(r.title, "B")
  assert.eq(r.data[1].model.expr, "sum(rate(http_requests_total{code=~\"5..\"}[5m]))")
end)

test("a missing rule is nil (Grafana's 404 has no body)", function()
  local r, body = c:alert_rule_get("nope")
  assert.eq(r, nil)
  assert.eq(body, nil)
  assert.eq(#c:alert_rules(), 0)
end)

test("Grafana's 400 for an invalid rule raises with its message", function()
  assert.raises(function() c:alert_rule_upsert(rule{folderUID = "missing"}) end,
    [[^grafana\.alert_rule_upsert: POST /api/v1/provisioning/alert-rules: 400 invalid alert rule: folder does not exist$]])
  assert.raises(function() c:alert_rule_upsert(rule{uid = "x", condition = "Z"}) end,
    [[^grafana\.alert_rule_upsert: POST /api/v1/provisioning/alert-rules: 400 invalid alert rule: condition Z does not exist]])
  fake.violations = {} -- the fake records the invalid rule too; here it was the point
end)

test("bad arguments raise", function()
  assert.raises(function() c:alert_rule_upsert(nil) end, [[grafana\.alert_rule_upsert: bad argument #1 'rule' \(table expected]])
  assert.raises(function() c:alert_rule_upsert(rule(), {provenance = false}) end, "unknown option 'provenance'")
  assert.raises(function() c:alert_rule_upsert(rule{uid = ""}) end, [[bad argument #1 'rule.uid']])
  assert.raises(function() c:alert_rule_get("") end, [[grafana\.alert_rule_get: bad argument #1 'uid']])
end)
