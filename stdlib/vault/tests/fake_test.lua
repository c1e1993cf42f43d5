-- Answers the real OpenBao never gives (a 404 on a delete, a login answer without a token, a
-- server that does not answer) and what a client sends for a URL with credentials: a fake
-- written with http.server, which checks every request against Vault's documented API
-- (X-Vault-Token, X-Vault-Request, the path and the body) and answers documented responses.
local vault = require("assay.vault")

local TOKEN = "s.fake-token-1234"
local seen, problems = {}, {}
local function expect(cond, what)
  if not cond then problems[#problems + 1] = what end
end
local function check(req, method, path, auth)
  seen[#seen + 1] = req
  expect(req.method == method, "method " .. tostring(req.method) .. " for " .. req.path)
  expect(req.path == path, "path " .. tostring(req.path))
  expect(req.headers["x-vault-token"] == TOKEN, "x-vault-token: " .. tostring(req.headers["x-vault-token"]))
  expect(req.headers["x-vault-request"] == "true", "x-vault-request missing")
  expect(req.headers.authorization == auth, "authorization: " .. tostring(req.headers.authorization))
end

local BASIC = "Basic " .. base64.encode("ops:hunter2")
local srv = http.server({
  DELETE = {
    -- a delete of something absent: Vault's 404 with its (empty) errors list
    ["/v1/secret/metadata/gone"] = function(req)
      check(req, "DELETE", "/v1/secret/metadata/gone", nil)
      return {status = 404, json = {errors = json.array({})}}
    end,
    ["/v1/sys/policies/acl/there"] = function(req)
      check(req, "DELETE", "/v1/sys/policies/acl/there", nil)
      return {status = 204}
    end,
  },
  POST = {
    -- a login answer without auth (a misbehaving proxy): the method's own name in the error
    ["/v1/auth/approle/login"] = function(req)
      check(req, "POST", "/v1/auth/approle/login", nil)
      local body = json.parse(req.body)
      expect(body.role_id == "r" and body.secret_id == "s", "login body " .. req.body)
      return {status = 200, json = {auth = json.null, data = json.null}}
    end,
  },
  GET = {
    -- behind a proxy with basic authorization from the URL
    ["/v1/secret/data/app"] = function(req)
      check(req, "GET", "/v1/secret/data/app", BASIC)
      return {status = 403, json = {errors = {"permission denied"}}}
    end,
    -- a server that does not answer in time
    ["/v1/sys/seal-status"] = function(req)
      check(req, "GET", "/v1/sys/seal-status", nil)
      sleep(4)
      return {status = 200, json = {initialized = true, sealed = false}}
    end,
  },
}, {host = "127.0.0.1"})
local base = "http://127.0.0.1:" .. srv.port

test("a delete answered 404 returns nil and the error body; 204 returns true", function()
  local c = vault.client{url = base, token = TOKEN}
  local ok, body = c:kv_metadata_delete("secret", "gone")
  assert.is_nil(ok)
  assert.eq(body, {errors = {}})
  assert.eq(c:policy_delete("there"), true)
  assert.eq(problems, {})
end)

test("a login answer without auth.client_token names the login method", function()
  local c = vault.client{url = base, token = TOKEN}
  assert.raises(function() c:login_approle("r", "s") end,
    "^vault\\.login_approle: the server's answer has no auth\\.client_token$")
  assert.eq(c.token, TOKEN)
  assert.eq(problems, {})
end)

test("a URL's user:password is basic authorization, never shown", function()
  local c = vault.client{url = "http://ops:hunter2@127.0.0.1:" .. srv.port .. "/", token = TOKEN}
  assert.eq(c.url, base)
  assert.eq(tostring(c), "vault.client(" .. base .. ")")
  local ok, err = pcall(c.kv_get, c, "secret", "app")
  assert.eq(ok, false)
  assert.eq(err, "vault.kv_get: GET /v1/secret/data/app: 403 permission denied")
  assert.eq(problems, {})
  -- a bad url: the password masked
  local e = assert.raises(function() vault.client{url = "ops:hunter2@vault:8200"} end)
  -- a bad argument: the caller's position (this file), as the builtins' errors
  assert.eq(e:gsub("^.-_test%.lua:%d+: ", ""), 'vault.client: bad url (an http(s) URL expected, got "ops:***@vault:8200")')
  assert.matches(e, "^[^ ]*fake_test\\.lua:\\d+: ")
  -- a network failure: the http client's message, without the password
  local gone = vault.client{url = "http://ops:hunter2@127.0.0.1:1", timeout = 5}
  ok, err = pcall(gone.kv_get, gone, "secret", "app")
  assert.eq(ok, false)
  assert.eq(err:find("hunter2", 1, true), nil)
end)

test("wait_unsealed: each poll is bounded by the time left, not the client's timeout", function()
  local c = vault.client{url = base, token = TOKEN, timeout = 30}
  local t0 = time.monotonic()
  local err = assert.raises(function() c:wait_unsealed{timeout = 1, interval = 0.2} end)
  local spent = time.monotonic() - t0
  assert.lt(spent, 2.5)
  assert.matches(err, "^vault\\.wait_unsealed: not unsealed after 1s: ")
  assert.eq(problems, {})
end)

test("option errors: one wording for the constructor and the methods", function()
  local c = vault.client{url = base, token = TOKEN}
  assert.raises(function() c:wait_unsealed{timout = 1} end,
    "^.*_test\\.lua:\\d+: vault\\.wait_unsealed: bad argument #1 'opts' \\(unknown option 'timout'; expected interval, timeout\\)$")
  assert.raises(function() c:wait_unsealed{timeout = "1m"} end,
    "^.*_test\\.lua:\\d+: vault\\.wait_unsealed: bad argument #1 'opts' \\(field 'timeout': number expected, got string\\)$")
  assert.raises(function() c.transit:hmac("transit", "k", "x", {algo = "x"}) end,
    "^.*_test\\.lua:\\d+: vault\\.transit\\.hmac: bad argument #4 'opts' \\(unknown option 'algo'; expected algorithm, key_version\\)$")
  assert.raises(function() c.pki:generate_root("pki", "internals", {}) end,
    "^.*_test\\.lua:\\d+: vault\\.pki\\.generate_root: bad argument #2 'kind' ")
  assert.raises(function() c:secrets_enable(nil) end,
    "^.*_test\\.lua:\\d+: vault\\.secrets_enable: bad argument #1 'kind' \\(string expected, got nil\\)$")
end)

test("stop the fake", function()
  srv:stop()
end)
