-- Service accounts and their tokens against the fake Grafana.
local grafana = require("assay.grafana")
local here = arg[0]:match("^(.*)/") or "."
local fake = dofile(here .. "/fake_grafana.lua").start{token = "admin-token"}
local c = grafana.client{url = fake.url, token = "admin-token"}

after_each(function()
  local seen = fake.violations
  fake:reset()
  assert.eq(seen, {}, "requests the real Grafana API would not take")
end)

test("create, get, list (search), delete", function()
  local sa = c:service_account_create("ci-deployer", {role = "Editor"})
  assert.eq(fake:last().method, "POST")
  assert.eq(fake:last().path, "/api/serviceaccounts")
  assert.eq(json.parse(fake:last().body), {name = "ci-deployer", role = "Editor"})
  assert.eq(sa.name, "ci-deployer")
  assert.eq(sa.role, "Editor")
  assert.eq(sa.isDisabled, false)
  assert.eq(c:service_account_get(sa.id).login, sa.login)
  assert.eq(fake:last().path, "/api/serviceaccounts/" .. sa.id)
  c:service_account_create("reader", {isDisabled = true})
  local list, total = c:service_accounts()
  assert.eq(total, 2)
  assert.eq(#list, 2)
  assert.eq(fake:last().path, "/api/serviceaccounts/search")
  list, total = c:service_accounts{query = "ci", page = 1, perpage = 10}
  assert.eq(total, 1)
  assert.eq(list[1].id, sa.id)
  assert.eq(fake:last().query, {query = "ci", page = "1", perpage = "10"})
  list = c:service_accounts{disabled = true}
  assert.eq(list[1].name, "reader")
  assert.eq({c:service_account_delete(sa.id)}, {true})
  assert.eq(c:service_account_get(sa.id), nil)
end)

test("tokens: create (the key once), list without keys, delete", function()
  local sa = c:service_account_create("ci")
  local t = c:service_account_token_create(sa.id, "pipeline", {secondsToLive = 3600})
  assert.eq(fake:last().path, "/api/serviceaccounts/" .. sa.id .. "/tokens")
  assert.eq(json.parse(fake:last().body), {name = "pipeline", secondsToLive = 3600})
  assert.eq(t.name, "pipeline")
  assert.matches(t.key, "^glsa_")
  c:service_account_token_create(sa.id, "forever")
  local tokens = c:service_account_tokens(sa.id)
  assert.eq(#tokens, 2)
  assert.eq(tokens[1].name, "pipeline")
  assert.eq(tokens[1].key, nil)
  assert.eq(c:service_account_get(sa.id).tokens, 2)
  assert.eq({c:service_account_token_delete(sa.id, t.id)}, {true})
  assert.eq(fake:last().method, "DELETE")
  assert.eq(fake:last().path, ("/api/serviceaccounts/%d/tokens/%d"):format(sa.id, t.id))
  assert.eq(#c:service_account_tokens(sa.id), 1)
end)

test("ids may be given as strings of digits", function()
  local sa = c:service_account_create("s")
  assert.eq(c:service_account_get(tostring(sa.id)).name, "s")
end)

test("missing accounts and tokens are nil with Grafana's answer", function()
  local sa, err = c:service_account_get(999)
  assert.eq(sa, nil)
  assert.eq(err.message, "service account not found")
  local d, derr = c:service_account_delete(999)
  assert.eq(d, nil)
  assert.eq(derr.message, "service account not found")
  local real = c:service_account_create("x")
  local t, terr = c:service_account_token_delete(real.id, 12345)
  assert.eq(t, nil)
  assert.eq(terr.message, "service account token not found")
end)

test("409 for a duplicate name, with Grafana's message", function()
  c:service_account_create("dup")
  assert.raises(function() c:service_account_create("dup") end,
    [[^grafana\.service_account_create: POST /api/serviceaccounts: 409 service account already exists$]])
  local sa = c:service_account_create("one")
  c:service_account_token_create(sa.id, "t")
  assert.raises(function() c:service_account_token_create(sa.id, "t") end,
    ("^grafana\\.service_account_token_create: POST /api/serviceaccounts/%d/tokens: 409 "):format(sa.id))
end)

test("listing the tokens of a missing account raises (a list, not a get)", function()
  assert.raises(function() c:service_account_tokens(4242) end,
    [[^grafana\.service_account_tokens: GET /api/serviceaccounts/4242/tokens: 404 service account not found$]])
end)

test("bad arguments raise", function()
  assert.raises(function() c:service_account_create("") end, [[grafana\.service_account_create: bad argument #1 'name']])
  assert.raises(function() c:service_account_create("x", {role = "Editor", disabled = true}) end,
    "unknown option 'disabled'; expected role, isDisabled")
  assert.raises(function() c:service_account_get("abc") end,
    [[grafana\.service_account_get: bad argument #1 'id' \(integer id expected, got "abc"\)]])
  assert.raises(function() c:service_account_get(1.5) end, [[bad argument #1 'id']])
  assert.raises(function() c:service_account_token_create(1, nil) end, [[bad argument #2 'name']])
  assert.raises(function() c:service_account_token_create(1, "t", {ttl = 5}) end, "unknown option 'ttl'")
  assert.raises(function() c:service_account_token_delete(1, "x") end, [[bad argument #2 'token_id']])
  assert.raises(function() c:service_accounts{per_page = 5} end, "unknown option 'per_page'")
  assert.eq(#fake.requests, 0)
end)
