-- Health, search, dashboards and folders against the fake Grafana.
local grafana = require("assay.grafana")
local here = arg[0]:match("^(.*)/") or "."
local fake = dofile(here .. "/fake_grafana.lua").start{token = "admin-token"}
local c = grafana.client{url = fake.url, token = "admin-token"}

after_each(function()
  local seen = fake.violations
  fake:reset()
  assert.eq(seen, {}, "requests the real Grafana API would not take")
end)

local function sent()
  local req = fake:last()
  return req, req.body and req.body ~= "" and json.parse(req.body) or nil
end

describe("health", function()
  test("database ok", function()
    local h = c:health()
    assert.eq(h.database, "ok")
    assert.eq(h.version, "11.3.0")
    assert.eq(fake:last().path, "/api/health")
  end)

  test("a failing database (503) is data", function()
    fake.database_failing = true
    assert.eq(c:health().database, "failing")
    fake.database_failing = nil
  end)
end)

describe("dashboards", function()
  test("upsert creates, with the id sent as null and overwrite true", function()
    local r = c:dashboard_upsert({uid = "web-overview", title = "Web Overview", tags = {"web"}, panels = {},
      id = 12}, {message = "from assay"})
    assert.eq(r.status, "success")
    assert.eq(r.uid, "web-overview")
    assert.eq(r.version, 1)
    assert.eq(r.url, "/d/web-overview/web-overview")
    local req, body = sent()
    assert.eq(req.method, "POST")
    assert.eq(req.path, "/api/dashboards/db")
    assert.matches(req.headers["content-type"], "^application/json")
    assert.eq(body.dashboard.id, json.null)
    assert.eq(body.overwrite, true)
    assert.eq(body.message, "from assay")
    assert.eq(body.folderUid, nil)
  end)

  test("get returns {dashboard, meta}; upsert again bumps the version", function()
    c:dashboard_upsert({uid = "web", title = "Web"})
    local d = c:dashboard_get("web")
    assert.eq(d.dashboard.title, "Web")
    assert.eq(d.dashboard.version, 1)
    assert.eq(d.meta.slug, "web")
    assert.eq(fake:last().path, "/api/dashboards/uid/web")
    d.dashboard.title = "Web (v2)"
    local r = c:dashboard_upsert(d.dashboard)
    assert.eq(r.version, 2)
    assert.eq(c:dashboard_get("web").dashboard.title, "Web (v2)")
  end)

  test("into a folder with folderUid", function()
    c:folder_create("Team A", {uid = "team-a"})
    local r = c:dashboard_upsert({uid = "a1", title = "A1"}, {folderUid = "team-a"})
    assert.eq(r.folderUid, "team-a")
    local _, body = sent()
    assert.eq(body.folderUid, "team-a")
    assert.eq(c:dashboard_get("a1").meta.folderTitle, "Team A")
  end)

  test("overwrite = false gives Grafana's 412 on a version conflict", function()
    c:dashboard_upsert({uid = "v", title = "V"})
    c:dashboard_upsert({uid = "v", title = "V"})
    assert.raises(function() c:dashboard_upsert({uid = "v", title = "V", version = 1}, {overwrite = false}) end,
      [[^grafana\.dashboard_upsert: POST /api/dashboards/db: 412 The dashboard has been changed by someone else$]])
  end)

  test("400 with Grafana's message for an empty title", function()
    assert.raises(function() c:dashboard_upsert({uid = "x", title = ""}) end,
      [[^grafana\.dashboard_upsert: POST /api/dashboards/db: 400 Dashboard title cannot be empty$]])
  end)

  test("found: a get returns the one value (no raw response after it)", function()
    c:dashboard_upsert({uid = "one", title = "One"})
    assert.eq(select("#", c:dashboard_get("one")), 1)
    assert.eq(select("#", c:datasource_get("prom-main")), 1)
  end)

  test("missing: get and delete return nil and Grafana's answer", function()
    local d, err = c:dashboard_get("nope")
    assert.eq(d, nil)
    assert.eq(err, {message = "Dashboard not found"})
    local r, err2 = c:dashboard_delete("nope")
    assert.eq(r, nil)
    assert.eq(err2.message, "Dashboard not found")
  end)

  test("delete", function()
    c:dashboard_upsert({uid = "gone", title = "Gone Soon"})
    assert.eq({c:dashboard_delete("gone")}, {true})
    assert.eq(fake:last().method, "DELETE")
    assert.eq(fake:last().path, "/api/dashboards/uid/gone")
    assert.eq(c:dashboard_get("gone"), nil)
  end)

  test("uids are escaped in the path", function()
    assert.eq(c:dashboard_get("a b/c"), nil)
    assert.eq(fake:last().path, "/api/dashboards/uid/a%20b%2Fc")
  end)

  test("bad arguments raise", function()
    assert.raises(function() c:dashboard_get("") end, [[grafana\.dashboard_get: bad argument #1 'uid']])
    assert.raises(function() c:dashboard_upsert("x") end, [[bad argument #1 'dashboard' \(table expected]])
    assert.raises(function() c:dashboard_upsert({title = "x"}, {folderUID = "f"}) end,
      "unknown option 'folderUID'; expected folderUid, message, overwrite")
    assert.raises(function() c:dashboard_delete(nil) end, [[bad argument #1 'uid']])
  end)
end)

describe("search", function()
  test("filters as Grafana's query parameters; lists repeat", function()
    c:folder_create("Ops", {uid = "ops"})
    c:dashboard_upsert({uid = "d1", title = "Alpha", tags = {"prod", "web"}}, {folderUid = "ops"})
    c:dashboard_upsert({uid = "d2", title = "Beta", tags = {"prod"}})
    local all = c:search()
    assert.eq(#all, 3)
    assert.eq(fake:last().query, {})
    local hits = c:search{type = "dash-db", tag = {"prod", "web"}, limit = 10, page = 1, starred = false}
    assert.eq(#hits, 1)
    assert.eq(hits[1].uid, "d1")
    assert.eq(hits[1].folderUid, "ops")
    assert.eq(fake:last().query, {type = "dash-db", tag = {"prod", "web"}, limit = "10", page = "1",
      starred = "false"})
    hits = c:search{query = "bet", tag = "prod"}
    assert.eq(#hits, 1)
    assert.eq(fake:last().query, {query = "bet", tag = "prod"})
    hits = c:search{folderUIDs = {"ops"}, dashboardUIDs = "d1", sort = "alpha-desc"}
    assert.eq(#hits, 1)
    assert.eq(c:search{type = "dash-folder"}[1].uid, "ops")
  end)

  test("bad options raise", function()
    assert.raises(function() c:search{tags = "x"} end, "unknown option 'tags'")
    assert.raises(function() c:search{type = "dashboard"} end, [[grafana\.search: bad argument #1 'opts' \(field 'type': "dash-db" or "dash-folder" expected]])
    assert.raises(function() c:search{tag = {1}} end,
      [[grafana\.search: bad argument #1 'opts' \(field 'tag': item 1: string expected, got number\)]])
  end)
end)

describe("folders", function()
  test("create, get, list, delete", function()
    local f = c:folder_create("Platform", {uid = "platform"})
    assert.eq(f.uid, "platform")
    assert.eq(f.title, "Platform")
    local _, body = sent()
    assert.eq(body, {title = "Platform", uid = "platform"})
    local child = c:folder_create("Platform / DB", {parentUid = "platform", description = "nested"})
    assert.eq(child.parentUid, "platform")
    assert.eq(c:folder_get("platform").title, "Platform")
    local list = c:folders()
    assert.eq(#list, 1)
    assert.eq(list[1].uid, "platform")
    assert.eq(#c:folders{parentUid = "platform", limit = 5, page = 1}, 1)
    assert.eq(fake:last().query, {parentUid = "platform", limit = "5", page = "1"})
    assert.eq({c:folder_delete("platform")}, {true})
    assert.eq(c:folder_get("platform"), nil)
  end)

  test("delete with forceDeleteRules; a folder with rules is refused without", function()
    c:folder_create("Alerts", {uid = "alerts"})
    c:alert_rule_upsert({title = "r", ruleGroup = "g", folderUID = "alerts", condition = "A", ["for"] = "1m",
      data = {{refId = "A", datasourceUid = "prom-main", model = {expr = "up"}}}})
    assert.raises(function() c:folder_delete("alerts") end,
      [[^grafana\.folder_delete: DELETE /api/folders/alerts: 400 folder cannot be deleted: folder contains alert rules$]])
    assert.eq(c:folder_delete("alerts", {forceDeleteRules = true}), true)
    assert.eq(fake:last().query, {forceDeleteRules = "true"})
    assert.eq(c:folder_get("alerts"), nil)
  end)

  test("missing folders are nil; 409 for a duplicate uid", function()
    local f, err = c:folder_get("nope")
    assert.eq(f, nil)
    assert.eq(err.message, "folder not found")
    local r, derr = c:folder_delete("nope")
    assert.eq(r, nil)
    assert.eq(derr.message, "folder not found")
    c:folder_create("One", {uid = "one"})
    assert.raises(function() c:folder_create("Other", {uid = "one"}) end,
      [[^grafana\.folder_create: POST /api/folders: 409 a folder with the same uid already exists$]])
  end)

  test("bad arguments raise", function()
    assert.raises(function() c:folder_create("") end, [[grafana\.folder_create: bad argument #1 'title']])
    assert.raises(function() c:folder_create("x", {parent = "p"}) end, "unknown option 'parent'")
    assert.raises(function() c:folders{limit = {}} end,
      [[grafana\.folders: bad argument #1 'opts' \(field 'limit': string, number or boolean expected, got table\)]])
    assert.raises(function() c:folder_delete("x", {force = true}) end, "unknown option 'force'")
  end)
end)
