-- Error paths with Grafana's own messages, and proof that the fake refuses what the real
-- Grafana API refuses.
local grafana = require("assay.grafana")
local here = arg[0]:match("^(.*)/") or "."
local fake = dofile(here .. "/fake_grafana.lua").start{token = "admin-token", viewer_token = "viewer-token",
  basic = {"admin", "right-password"}}

after_each(function()
  local seen = fake.violations
  fake:reset()
  assert.eq(seen, {}, "requests the real Grafana API would not take")
end)

test("401 for an invalid token; the token never in the message", function()
  local c = grafana.client{url = fake.url, token = "glsa_secret_wrong"}
  local ok, err = pcall(c.search, c)
  assert.eq(ok, false)
  assert.eq(err, "grafana.search: GET /api/search: 401 Invalid API key")
  assert.eq(err:find("glsa_secret_wrong", 1, true), nil)
end)

test("401 for a wrong password; the password never in the message", function()
  local c = grafana.client{url = fake.url, user = "admin", password = "hunter2-wrong"}
  local ok, err = pcall(c.dashboard_get, c, "x")
  assert.eq(ok, false)
  assert.eq(err, "grafana.dashboard_get: GET /api/dashboards/uid/x: 401 Invalid username or password")
  assert.eq(err:find("hunter2", 1, true), nil)
end)

test("401 without credentials; health needs none", function()
  local c = grafana.client{url = fake.url}
  assert.eq(c:health().database, "ok")
  assert.raises(function() c:datasources() end, [[^grafana\.datasources: GET /api/datasources: 401 Unauthorized$]])
end)

test("403 for a Viewer's writes, with Grafana's access-control message", function()
  local c = grafana.client{url = fake.url, token = "viewer-token"}
  assert.eq(#c:search(), 0)
  assert.raises(function() c:dashboard_upsert({uid = "x", title = "X"}) end,
    [[^grafana\.dashboard_upsert: POST /api/dashboards/db: 403 You'll need additional permissions to perform this action\. Permissions needed: dashboards:write$]])
  assert.raises(function() c:folder_create("F") end, [[^grafana\.folder_create: POST /api/folders: 403 .*folders:create$]])
  assert.raises(function() c:dashboard_delete("x") end, [[^grafana\.dashboard_delete: DELETE /api/dashboards/uid/x: 403 ]])
  assert.raises(function() c:annotation_create{text = "x"} end, [[^grafana\.annotation_create: POST /api/annotations: 403 ]])
  assert.raises(function() c:alert_rule_upsert({title = "t"}) end, [[^grafana\.alert_rule_upsert: POST /api/v1/provisioning/alert-rules: 403 ]])
  assert.raises(function() c:service_account_create("sa") end, [[^grafana\.service_account_create: POST /api/serviceaccounts: 403 ]])
  assert.raises(function() c:service_account_delete(1) end, [[^grafana\.service_account_delete: DELETE /api/serviceaccounts/1: 403 ]])
  assert.raises(function() c:service_account_token_create(1, "t") end, [[: 403 ]])
  assert.raises(function() c:service_account_token_delete(1, 2) end, [[: 403 ]])
  assert.raises(function() c:folder_delete("f") end, [[^grafana\.folder_delete: DELETE /api/folders/f: 403 ]])
end)

test("an org the credentials do not belong to", function()
  local c = grafana.client{url = fake.url, token = "admin-token", org_id = 7}
  assert.raises(function() c:folders() end, [[^grafana\.folders: GET /api/folders: 401 Unauthorized$]])
end)

test("a 500 with a text body keeps the text; a JSON body without message is shown as JSON", function()
  local srv = http.server({
    GET = {
      ["/api/folders"] = function() return {status = 502, body = "Bad Gateway\n"} end,
      ["/api/datasources"] = function() return {status = 500, json = {status = "broken"}} end,
      ["/api/health"] = function() return {status = 500, json = {message = "db down", error = "dial tcp: refused"}} end,
      ["/sub/api/health"] = function() return {status = 503, body = "Service Unavailable"} end,
    },
  }, {host = "127.0.0.1", port = 0})
  local c = grafana.client{url = "http://127.0.0.1:" .. srv.port, token = "t"}
  assert.raises(function() c:folders() end, [[^grafana\.folders: GET /api/folders: 502 Bad Gateway$]])
  assert.raises(function() c:datasources() end, [[^grafana\.datasources: GET /api/datasources: 500 \{"status":"broken"\}$]])
  assert.raises(function() c:health() end, [[^grafana\.health: GET /api/health: 500 db down: dial tcp: refused$]])
  local sub = grafana.client{url = "http://127.0.0.1:" .. srv.port .. "/sub"}
  assert.raises(function() sub:health() end, [[^grafana\.health: GET /api/health: 503 Service Unavailable$]])
  srv:stop()
end)

test("a 200 that is not JSON (a proxy's login page) raises", function()
  local srv = http.server({GET = {["/api/folders"] = function()
    return {status = 200, headers = {["content-type"] = "text/html"}, body = "<html>Sign in</html>"}
  end}}, {host = "127.0.0.1", port = 0})
  local c = grafana.client{url = "http://127.0.0.1:" .. srv.port, token = "t"}
  assert.raises(function() c:folders() end,
    [[^grafana\.folders: GET /api/folders: 200 answer is not JSON: <html>Sign in</html>$]])
  srv:stop()
  -- alert_rule_upsert's PUT too (it tries PUT before POST)
  local put = http.server({PUT = {["/api/v1/provisioning/alert-rules/:uid"] = function()
    return {status = 200, headers = {["content-type"] = "text/html"}, body = "<html>Sign in</html>"}
  end}}, {host = "127.0.0.1", port = 0})
  c = grafana.client{url = "http://127.0.0.1:" .. put.port, token = "t"}
  assert.raises(function() c:alert_rule_upsert{uid = "r1", title = "r"} end,
    [[^grafana\.alert_rule_upsert: PUT /api/v1/provisioning/alert-rules/r1: 200 answer is not JSON: <html>Sign in</html>$]])
  put:stop()
end)

describe("the fake is strict", function()
  local H = {authorization = "Bearer admin-token"}

  local function expect_violation(resp, status, pat)
    assert.eq(resp.status, status)
    assert.eq(#fake.violations, 1, "one violation recorded")
    assert.matches(fake.violations[1], pat)
    fake.violations = {}
  end

  test("unknown paths and methods", function()
    expect_violation(http.get(fake.url .. "/api/dashboard/uid/x", {headers = H}), 404, "no such endpoint")
    expect_violation(http.get(fake.url .. "/api/datasource/name/x", {headers = H}), 404, "no such endpoint")
    expect_violation(http.put(fake.url .. "/api/dashboards/db", {}, {headers = H}), 405, "method not allowed")
    expect_violation(http.post(fake.url .. "/api/v1/provisioning/alert-rules/x", {}, {headers = H}), 405,
      "method not allowed")
  end)

  test("query parameters: unknown names, seconds for milliseconds, bad values", function()
    expect_violation(http.get(fake.url .. "/api/search", {headers = H, query = {tags = "x"}}), 400,
      "unexpected query parameter 'tags'")
    expect_violation(http.get(fake.url .. "/api/search", {headers = H, query = {type = "dashboard"}}), 400,
      "type must be")
    expect_violation(http.get(fake.url .. "/api/annotations", {headers = H, query = {from = "1700000000"}}), 400,
      "milliseconds")
    expect_violation(http.get(fake.url .. "/api/folders", {headers = H, query = {limit = "ten"}}), 400,
      "must be an integer")
    expect_violation(http.delete(fake.url .. "/api/folders/x", {headers = H, query = {forceDeleteRules = "yes"}}),
      400, "true or false")
  end)

  test("bodies: content type, unknown fields, types, milliseconds", function()
    expect_violation(http.post(fake.url .. "/api/folders", '{"title":"x"}', {headers = H}), 400,
      "content-type must be application/json")
    expect_violation(http.post(fake.url .. "/api/folders", {title = "x", parent_uid = "p"}, {headers = H}), 400,
      [[unknown field "parent_uid"]])
    expect_violation(http.post(fake.url .. "/api/dashboards/db", {dashboard = {title = "x"}, folderUID = "f"},
      {headers = H}), 400, [[unknown field "folderUID"]])
    expect_violation(http.post(fake.url .. "/api/annotations", {text = "x", time = 1700000000}, {headers = H}),
      400, "not epoch milliseconds")
    expect_violation(http.post(fake.url .. "/api/serviceaccounts", {name = "x", role = "Owner"}, {headers = H}),
      400, "invalid role")
  end)

  test("path ids must be numbers", function()
    local r = http.post(fake.url .. "/api/serviceaccounts/abc/tokens", {name = "x"}, {headers = H})
    expect_violation(r, 400, "Service Account ID is invalid")
  end)
end)
