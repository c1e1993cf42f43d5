-- Policies, AppRole login, tokens, auth methods and secrets engines, health: against the real
-- OpenBao dev server (scripts/bao-server).
local vault = require("assay.vault")
local S = require("support")

local c = S.root()

test("policies: write, read, list, delete; a missing one is nil", function()
  local name = S.unique("pol")
  local hcl = 'path "secret/data/app/*" {\n  capabilities = ["read"]\n}\n'
  assert.eq(c:policy_write(name, hcl), true)
  assert.eq(c:policy_read(name), hcl)
  assert.contains(c:policy_list(), name)
  assert.contains(c:policy_list(), "root")
  assert.eq(c:policy_delete(name), true)
  assert.is_nil(c:policy_read(name))
  -- OpenBao answers 204 for a policy that is not there: true again
  assert.eq(c:policy_delete(name), true)
  assert.eq(c:policy_list()[name] == nil, true)
  -- a policy that does not parse: the server's text
  assert.raises(function() c:policy_write(name, "path {") end,
    "^vault\\.policy_write: PUT /v1/sys/policies/acl/" .. name .. ": 400 .*pars")
end)

test("engines: enable, list, disable", function()
  local path = S.unique("eng")
  assert.eq(c:secrets_enable("kv", {path = path, description = "assay test", options = {version = "1"}}), true)
  local mounts = c:secrets_list()
  assert.eq(mounts[path .. "/"].type, "kv")
  assert.eq(mounts[path .. "/"].description, "assay test")
  assert.raises(function() c:secrets_enable("kv", {path = path}) end,
    "^vault\\.secrets_enable: POST /v1/sys/mounts/" .. path .. ": 400 .*already in use")
  assert.eq(c:secrets_disable(path), true)
  assert.is_nil(c:secrets_list()[path .. "/"])

  local apath = S.unique("auth")
  assert.eq(c:auth_enable("userpass", {path = apath}), true)
  assert.eq(c:auth_list()[apath .. "/"].type, "userpass")
  assert.eq(c:auth_list()["token/"].type, "token")
  assert.eq(c:auth_disable(apath), true)
  assert.is_nil(c:auth_list()[apath .. "/"])
  assert.raises(function() c:secrets_enable("no-such-engine", {path = S.unique("x")}) end,
    "^vault\\.secrets_enable: POST .*: 400 ")
end)

test("AppRole: a role made through the package logs in; the token is kept and used", function()
  local mount = S.unique("approle")
  local kv = S.unique("kvapp")
  local pol = S.unique("app-read")
  c:auth_enable("approle", {path = mount})
  c:secrets_enable("kv", {path = kv, options = {version = "2"}})
  c:kv_put(kv, "app/config", {feature = "on"})
  c:policy_write(pol, 'path "' .. kv .. '/data/app/*" { capabilities = ["read"] }')
  c:approle_write_role("web", {token_policies = {pol}, token_ttl = "10m", token_max_ttl = "1h"},
    {mount = mount})
  local role_id = c:approle_role_id("web", {mount = mount})
  local sid = c:approle_secret_id("web", {metadata = json.encode({env = "test"})}, {mount = mount})
  assert.matches(role_id, "^[0-9a-f-]{36}$")
  assert.ne(sid.secret_id, nil)

  local app = vault.client{url = S.addr, token = ""}
  app:set_token(nil)
  local auth = app:login_approle(role_id, sid.secret_id, {mount = mount})
  assert.eq(app.token, auth.client_token)
  assert.contains(auth.policies, pol)
  -- the kept token reads what the policy allows, and nothing else
  assert.eq(app:kv_get(kv, "app/config"), {feature = "on"})
  local ok, err = pcall(app.kv_put, app, kv, "app/config", {feature = "off"})
  assert.eq(ok, false)
  assert.eq(err, "vault.kv_put: POST /v1/" .. kv .. "/data/app/config: 403 permission denied")
  assert.eq(err:find(auth.client_token, 1, true), nil)

  -- token lifecycle on the AppRole token
  local me = app:token_lookup_self()
  assert.contains(me.policies, pol)
  assert.le(me.ttl, 600)
  local renewed = app:token_renew_self({increment = "30m"})
  assert.eq(renewed.client_token, auth.client_token)
  assert.gt(renewed.lease_duration, 600)
  assert.eq(c:token_lookup(auth.client_token).accessor, auth.accessor)
  assert.eq(app:token_revoke_self(), true)
  assert.is_nil(app.token)
  app:set_token(auth.client_token)
  assert.raises(function() app:token_lookup_self() end, "403 permission denied")

  -- a wrong secret_id: the server's text, without the secret
  ok, err = pcall(app.login_approle, app, role_id, "wrong-secret-id-123", {mount = mount})
  assert.eq(ok, false)
  assert.matches(err, "^vault\\.login_approle: POST /v1/auth/" .. mount .. "/login: 400 .*invalid")
  assert.eq(err:find("wrong-secret-id-123", 1, true), nil)
  c:auth_disable(mount)
  c:secrets_disable(kv)
  c:policy_delete(pol)
end)

test("tokens: create, lookup, renew, revoke another token", function()
  local child = c:token_create({policies = {"default"}, ttl = "5m", renewable = true})
  assert.ne(child.client_token, nil)
  local info = c:token_lookup(child.client_token)
  assert.contains(info.policies, "default")
  local r = c:token_renew(child.client_token, {increment = 600})
  assert.gt(r.lease_duration, 300)
  local other = vault.client{url = S.addr, token = child.client_token}
  assert.eq(other:token_lookup_self().accessor, child.accessor)
  assert.eq(c:token_revoke(child.client_token), true)
  assert.raises(function() other:token_lookup_self() end, "403")
  -- the root client's own token still works
  assert.contains(c:token_lookup_self().policies, "root")
end)

test("health on the dev server: active, initialized, unsealed", function()
  local h, status = c:health()
  assert.eq(status, 200)
  assert.eq(h.initialized, true)
  assert.eq(h.sealed, false)
  assert.eq(h.standby, false)
  local st = c:seal_status()
  assert.eq(st.sealed, false)
  assert.eq(c:init_status(), true)
  -- health needs no token
  local anon = vault.client{url = S.addr, token = ""}
  anon:set_token(nil)
  assert.eq(select(2, anon:health()), 200)
  assert.eq(c:wait_unsealed{timeout = 5}.sealed, false)
end)

test("the generic logical API: write, read, list, delete", function()
  local mount = S.unique("gen")
  c:secrets_enable("kv", {path = mount, options = {version = "1"}})
  assert.eq(c:write(mount .. "/a", {x = "1"}), true)   -- 204: no body
  local data, body = c:read(mount .. "/a")
  assert.eq(data, {x = "1"})
  assert.eq(type(body.lease_duration), "number")
  assert.eq(c:list(mount), {"a"})
  assert.eq(c:delete(mount .. "/a"), true)
  assert.is_nil(c:read(mount .. "/a"))
  c:secrets_disable(mount)
end)
