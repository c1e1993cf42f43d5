-- kargo: every call against a fake Kargo API server (Connect protocol) that checks requests
-- against KargoService's definition.
local kargo = require("assay.kargo")
local here = arg[0]:match("^(.*)/") or "."
local fake = dofile(here .. "/fake_kargo.lua").start{
  admin_password = "admin-pw",
  tokens = {["ci-token"] = {sub = "system:serviceaccount:shop:ci", role = "admin"},
    ["viewer-token"] = {sub = "system:serviceaccount:shop:viewer", role = "viewer"}},
}

after_each(function()
  local seen = fake.violations
  fake:reset()
  assert.eq(seen, {}, "requests the real Kargo API would not take")
end)

local function client(o)
  o = o or {}
  o.url = o.url or fake.url
  if o.token == nil and o.password == nil then o.token = "ci-token" end
  return kargo.client(o)
end

test("client options: unknown ones raise naming them; the url keeps no credentials", function()
  assert.raises(function() kargo.client{url = fake.url, tokn = "x"} end,
    [[kargo\.client: bad argument #1 'opts' \(unknown option 'tokn'; expected url, token, password]])
  assert.raises(function() kargo.client{url = "ftp://u:hunter2@x"} end, [[bad url .*u:\*\*\*@x]])
  local c = kargo.client{url = fake.url .. "/", token = "t"}
  assert.eq(c.url, fake.url)
  assert.eq(tostring(c), "kargo.client(" .. fake.url .. ")")
end)

test("admin login, then the ID token on every call; a Connect POST with JSON", function()
  local c = client{password = "admin-pw"}
  assert.eq(c:projects()[1].metadata.name, "shop")
  assert.eq(fake.requests[1].path, "/akuity.io.kargo.service.v1alpha1.KargoService/AdminLogin")
  assert.eq(json.parse(fake.requests[1].body), {password = "admin-pw"})
  local last = fake:last()
  assert.eq(last.method, "POST")
  assert.eq(last.path, "/akuity.io.kargo.service.v1alpha1.KargoService/ListProjects")
  assert.eq(last.headers.authorization, "Bearer admin-id-token-1")
  assert.eq(last.headers["connect-protocol-version"], "1")
end)

test("401: a wrong password, a bad token, with Kargo's text and no secret", function()
  local c = client{password = "wrong-pw-123"}
  local ok, err = pcall(c.projects, c)
  assert.eq(ok, false)
  assert.eq(err, "kargo.login: POST /akuity.io.kargo.service.v1alpha1.KargoService/AdminLogin: 401 invalid password")
  assert.eq(err:find("wrong-pw-123", 1, true), nil)
  local t = client{token = "forged"}
  assert.raises(function() t:stages("shop") end,
    [[^kargo\.stages: POST /akuity\.io\.kargo\.service\.v1alpha1\.KargoService/ListStages: 401 invalid token$]])
end)

test("stages: list, get, refresh; 404 -> nil and Kargo's error", function()
  local c = client()
  local names = {}
  for _, s in ipairs(c:stages("shop")) do names[#names + 1] = s.metadata.name end
  assert.eq(names, {"prod", "test"})
  assert.eq(c:stage_get("shop", "prod").spec.requestedFreight[1].sources.stages, {"test"})
  local s, e = c:stage_get("shop", "staging")
  assert.eq(s, nil)
  assert.eq(e, {code = "not_found", message = 'Stage "staging" not found in namespace "shop"'})
  assert.eq(c:stage_refresh("shop", "test").metadata.name, "test")
  assert.raises(function() c:stages("nope") end, [[404 project "nope" not found$]])
end)

test("freight: query (stage, origins, group_by), get by name or alias, approve", function()
  local c = client()
  assert.eq(#c:freight("shop"), 2)
  assert.eq(json.parse(fake:last().body), {project = "shop"})
  assert.eq(#c:freight("shop", {stage = "test", origins = {"shop"}}), 2)
  assert.eq(#c:freight("shop", {stage = "prod"}), 0)      -- nothing verified in test yet
  local groups = c:freight("shop", {group_by = "image_repo", order_by = "tag", reverse = true})
  assert.eq(#groups["ghcr.io/acme/shop"].freight, 2)
  assert.eq(c:freight_get("shop", {alias = "mighty-elk"}).metadata.name, "f1a2b3c4d5e6")
  assert.eq(c:freight_get("shop", {name = "a9b8c7d6e5f4"}).alias, "brave-owl")
  assert.eq(c:freight_get("shop", {alias = "lazy-cat"}), nil)
  assert.raises(function() c:freight_get("shop", {}) end, "exactly one of name, alias expected")
  assert.eq(c:freight_approve("shop", {alias = "brave-owl"}, "prod"), true)
  assert.eq(#c:freight("shop", {stage = "prod"}), 1)
end)

test("promote, then wait: Pending -> Running -> Succeeded; the stage has the freight", function()
  local c = client()
  local p = c:promote("shop", "test", {alias = "mighty-elk"})
  assert.eq(json.parse(fake:last().body), {project = "shop", stage = "test", freightAlias = "mighty-elk"})
  assert.eq(p.status.phase, "Pending")
  assert.eq(p.spec.freight, "f1a2b3c4d5e6")
  local done = c:promotion_wait("shop", p.metadata.name, {timeout = 5, interval = 0.05})
  assert.eq(done.status.phase, "Succeeded")
  assert.eq(c:stage_get("shop", "test").status.lastPromotion.freight.name, "f1a2b3c4d5e6")
  -- now verified in test, so available to prod
  local p2 = c:promote("shop", "prod", {freight = "f1a2b3c4d5e6"})
  c:promotion_wait("shop", p2.metadata.name, {timeout = 5, interval = 0.05})
  assert.eq(#c:promotions("shop"), 2)
  assert.eq(#c:promotions("shop", {stage = "prod"}), 1)
  assert.eq(c:promotion_get("shop", p2.metadata.name).spec.stage, "prod")
  assert.eq(c:promotion_get("shop", "nope"), nil)
end)

test("a promotion refused: 400 failed_precondition with Kargo's text", function()
  local c = client()
  assert.raises(function() c:promote("shop", "prod", {freight = "a9b8c7d6e5f4"}) end,
    [[^kargo\.promote: POST /akuity\.io\.kargo\.service\.v1alpha1\.KargoService/PromoteToStage: 400 Freight "a9b8c7d6e5f4" is not available to Stage "prod"$]])
  assert.raises(function() c:promote("shop", "prod", {freight = "x", alias = "y"}) end,
    "exactly one of freight, alias expected")
end)

test("403 for a viewer, with Kubernetes' RBAC text", function()
  local c = client{token = "viewer-token"}
  assert.eq(#c:stages("shop"), 2)
  assert.raises(function() c:promote("shop", "test", {alias = "mighty-elk"}) end,
    [[: 403 promotions\.kargo\.akuity\.io is forbidden: User "system:serviceaccount:shop:viewer" cannot create resource "promotions"]])
end)

test("wait: a timeout raises with the last phase; a failed promotion raises at once", function()
  local slow = dofile(here .. "/fake_kargo.lua").start{tokens = {t = {sub = "ci", role = "admin"}}, promotion_polls = 1000}
  local c = kargo.client{url = slow.url, token = "t"}
  local p = c:promote("shop", "test", {alias = "mighty-elk"})
  assert.raises(function() c:promotion_wait("shop", p.metadata.name, {timeout = 0.2, interval = 0.05}) end,
    [[^kargo\.promotion_wait: shop/test\.01jf0001\.f1a2b3c: timed out after 0\.2s; last state: phase Running$]])
  assert.raises(function() c:promotion_wait("shop", "ghost", {timeout = 0.1, interval = 0.05}) end, "last state: not found$")
  assert.raises(function() c:promotion_wait("shop", "x", {interval = 0}) end, [[bad argument #3 'opts\.interval']])
  assert.eq(slow.violations, {})
  slow:stop()
  local bad = dofile(here .. "/fake_kargo.lua").start{tokens = {t = {sub = "ci", role = "admin"}}, fail_promotions = true}
  local b = kargo.client{url = bad.url, token = "t"}
  local bp = b:promote("shop", "test", {alias = "mighty-elk"})
  assert.raises(function() b:promotion_wait("shop", bp.metadata.name, {timeout = 5, interval = 0.05}) end,
    [[^kargo\.promotion_wait: shop/[^:]+: Failed: step "argocd-update" failed]])
  assert.eq(bad.violations, {})
  bad:stop()
end)

test("network errors carry the client's message without a position", function()
  local c = kargo.client{url = "http://127.0.0.1:1", token = "t", timeout = 2}
  local ok, err = pcall(c.projects, c)
  assert.eq(ok, false)
  assert.matches(err, "^kargo\\.projects: ")
  assert.eq(err:find("kargo_test.lua", 1, true), nil)
end)

describe("the fake is strict", function()
  local base = fake.url .. "/akuity.io.kargo.service.v1alpha1.KargoService/"
  local H = {authorization = "Bearer ci-token", ["content-type"] = "application/json"}
  local function expect_violation(resp, status, pat)
    assert.eq(resp.status, status)
    assert.eq(#fake.violations, 1)
    assert.matches(fake.violations[1], pat)
    fake.violations = {}
  end
  test("wrong method, content type, field, unknown RPC", function()
    expect_violation(http.get(base .. "ListStages", {headers = H}), 405, "are POST")
    expect_violation(http.post(base .. "ListStages", "project=shop",
      {headers = {authorization = H.authorization, ["content-type"] = "text/plain"}}), 415, "content type")
    expect_violation(http.post(base .. "ListStages", json.encode{project = "shop", namespace = "shop"}, {headers = H}),
      400, "unknown field")
    expect_violation(http.post(base .. "PromoteStage", json.encode{project = "shop"}, {headers = H}), 501,
      "not a KargoService method")
    expect_violation(http.post(fake.url .. "/api/v1/stages", "{}", {headers = H}), 404, "no such path")
  end)
end)
