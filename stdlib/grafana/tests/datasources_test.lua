-- Data sources and annotations against the fake Grafana.
local grafana = require("assay.grafana")
local here = arg[0]:match("^(.*)/") or "."
local fake = dofile(here .. "/fake_grafana.lua").start{token = "admin-token"}
local c = grafana.client{url = fake.url, token = "admin-token"}

after_each(function()
  local seen = fake.violations
  fake:reset()
  assert.eq(seen, {}, "requests the real Grafana API would not take")
end)

describe("datasources", function()
  test("list", function()
    local all = c:datasources()
    assert.eq(#all, 2)
    assert.eq(all[1].uid, "prom-main")
    assert.eq(all[1].type, "prometheus")
    assert.eq(fake:last().path, "/api/datasources")
  end)

  test("get by uid and by name (escaped)", function()
    assert.eq(c:datasource_get("loki-logs").name, "Loki Logs")
    assert.eq(fake:last().path, "/api/datasources/uid/loki-logs")
    local ds = c:datasource_get_by_name("Prometheus Main")
    assert.eq(ds.uid, "prom-main")
    assert.eq(fake:last().path, "/api/datasources/name/Prometheus%20Main")
  end)

  test("missing ones are nil with Grafana's answer", function()
    local ds, err = c:datasource_get("nope")
    assert.eq(ds, nil)
    assert.eq(err, {message = "Data source not found"})
    assert.eq(c:datasource_get_by_name("Nope"), nil)
    assert.eq(c:datasource_health("nope"), nil)
  end)

  test("health: OK, and a failing check (400 with a status) is data", function()
    local h = c:datasource_health("prom-main")
    assert.eq(h.status, "OK")
    assert.eq(fake:last().path, "/api/datasources/uid/prom-main/health")
    local bad = c:datasource_health("loki-logs")
    assert.eq(bad.status, "ERROR")
    assert.matches(bad.message, "Unable to connect with Loki")
  end)

  test("bad arguments raise", function()
    assert.raises(function() c:datasource_get(1) end, [[grafana\.datasource_get: bad argument #1 'uid' \(non-empty string expected, got number\)]])
    assert.raises(function() c:datasource_get_by_name("") end, [[bad argument #1 'name']])
    assert.raises(function() c:datasource_health() end, [[bad argument #1 'uid']])
  end)
end)

describe("annotations", function()
  test("create: times in seconds become Grafana's milliseconds", function()
    c:dashboard_upsert({uid = "web", title = "Web"})
    local r = c:annotation_create{text = "deployed v2", tags = {"deploy", "web"}, time = 1700000000,
      timeEnd = 1700000060.5, dashboardUID = "web", panelId = 2, data = {version = "v2"}}
    assert.eq(r.message, "Annotation added")
    assert.not_nil(r.id)
    local req = fake:last()
    assert.eq(req.method, "POST")
    assert.eq(req.path, "/api/annotations")
    local body = json.parse(req.body)
    assert.eq(body.time, 1700000000000)
    assert.eq(body.timeEnd, 1700000060500)
    assert.eq(body.tags, {"deploy", "web"})
    assert.eq(body.dashboardUID, "web")
  end)

  test("create with RFC 3339 time, or none (Grafana's now)", function()
    c:annotation_create{text = "rfc", time = "2023-11-14T22:13:20Z"}
    assert.eq(json.parse(fake:last().body).time, 1700000000000)
    c:annotation_create{text = "now", tags = "single"}
    local body = json.parse(fake:last().body)
    assert.eq(body.time, nil)
    assert.eq(body.tags, {"single"})
  end)

  test("list with filters: from/to as milliseconds, tags repeated", function()
    c:annotation_create{text = "a", tags = {"deploy"}, time = 1700000000}
    c:annotation_create{text = "b", tags = {"deploy", "db"}, time = 1700000100}
    c:annotation_create{text = "c", tags = {"incident"}, time = 1700000200}
    local all = c:annotations()
    assert.eq(#all, 3)
    assert.eq(all[1].text, "c") -- newest first
    local list = c:annotations{from = 1700000050, to = "2023-11-14T22:20:00Z", tags = {"deploy"}, limit = 10,
      type = "annotation"}
    assert.eq(#list, 1)
    assert.eq(list[1].text, "b")
    assert.eq(list[1].time, 1700000100000)
    assert.eq(fake:last().query, {from = "1700000050000", to = "1700000400000", tags = "deploy", limit = "10",
      type = "annotation"})
    list = c:annotations{tags = {"db", "incident"}, matchAny = true}
    assert.eq(#list, 2)
    assert.eq(fake:last().query, {tags = {"db", "incident"}, matchAny = "true"})
  end)

  test("milliseconds where seconds are expected are refused before sending", function()
    assert.raises(function() c:annotations{from = 1700000000000} end,
      [[grafana\.annotations: bad argument #1 'opts' \(field 'from': seconds since the epoch expected; 1700000000000 looks like milliseconds\)]])
    assert.raises(function() c:annotation_create{text = "x", time = 1700000000000} end, "looks like milliseconds")
    assert.eq(#fake.requests, 0)
  end)

  test("bad arguments raise", function()
    assert.raises(function() c:annotation_create{tags = {"x"}} end, [[field 'text': non-empty string expected]])
    assert.raises(function() c:annotation_create("text") end, [[bad argument #1 'annotation' \(table expected]])
    assert.raises(function() c:annotation_create{text = "x", dashboardId = 3} end, "unknown option 'dashboardId'")
    assert.raises(function() c:annotation_create{text = "x", time = "noon"} end,
      [[grafana\.annotation_create: bad argument #1 'annotation' \(field 'time': seconds or RFC 3339 expected, got "noon"\)]])
    assert.raises(function() c:annotations{from = 1700000000000} end,
      [[grafana\.annotations: bad argument #1 'opts' \(field 'from': seconds since the epoch expected; 1700000000000 looks like milliseconds\)]])
    assert.raises(function() c:annotations{type = "alerts"} end, [[grafana\.annotations: bad argument #1 'opts' \(field 'type': "alert" or "annotation" expected]])
    assert.raises(function() c:annotations{tag = "x"} end, "unknown option 'tag'")
  end)

  test("an annotation on a missing dashboard: Grafana's 404 raises (it is not a get)", function()
    assert.raises(function() c:annotation_create{text = "x", dashboardUID = "nope"} end,
      [[^grafana\.annotation_create: POST /api/annotations: 404 Dashboard not found$]])
  end)
end)
