-- dex against a fake Dex that checks every request (fake_dex.lua cites the API followed).
local dex = require("assay.dex")
local here = arg[0]:match("^(.*)/") or "."
local Fake = dofile(here .. "/fake_dex.lua")
local fake = Fake.start{dir = here}

after_each(function()
  local seen = fake.violations
  fake:reset()
  assert.eq(seen, {}, "requests the real Dex would not take")
end)

local function client(o)
  o = o or {}
  o.url = o.url or fake.issuer
  o.client_id = o.client_id or "cli"
  o.client_secret = o.client_secret or "s3cr et/+"
  return dex.client(o)
end

test("discovery: the issuer's configuration, cached", function()
  local c = client()
  local d = c:discovery()
  assert.eq(d.issuer, fake.issuer)
  assert.eq(d.token_endpoint, fake.issuer .. "/token")
  local n = #fake.requests
  c:discovery()
  assert.eq(#fake.requests, n)
end)

test("discovery: 404 -> nil, body", function()
  fake.no_discovery = true
  local d, body = client():discovery()
  assert.eq(d, nil)
  assert.matches(body, "404 page not found")
end)

test("discovery: an issuer that differs is refused", function()
  fake.wrong_issuer = "http://evil.example/dex"
  assert.raises(function() client():discovery() end, [[issuer "http://evil.example/dex" differs]])
end)

test("password grant: form POST, basic client auth, an ID token that verifies", function()
  local c = client()
  local tok = c:token{username = "admin@example.com", password = "password", scope = {"openid", "email"}}
  local req = fake:last()
  assert.eq(req.method, "POST")
  assert.eq(req.path, "/dex/token")
  assert.matches(req.headers["content-type"], "application/x-www-form-urlencoded")
  assert.eq(req.headers.authorization, "Basic " .. base64.encode("cli:s3cr%20et%2F%2B"))
  local form = url.query_decode(req.body)
  assert.eq(form.grant_type, "password")
  assert.eq(form.scope, "openid email")
  assert.eq(tok.token_type, "bearer")
  local claims = c:verify(tok.id_token)
  assert.eq(claims.sub, "user-admin@example.com")
  assert.eq(claims.email, "admin@example.com")
  assert.eq(claims.aud, "cli")
end)

test("client credentials grant", function()
  local c = client()
  local tok = c:token{grant = "client_credentials"}
  assert.eq(url.query_decode(fake:last().body).grant_type, "client_credentials")
  assert.eq(c:verify(tok.id_token).sub, "client-cli")
  -- without username the grant defaults to client_credentials
  assert.eq(type(c:token().access_token), "string")
end)

test("401 invalid_client with Dex's text; the secret never in the message", function()
  local c = client{client_secret = "wrong-secret"}
  local ok, err = pcall(c.token, c, {grant = "client_credentials"})
  assert.eq(ok, false)
  assert.eq(err, "dex.token: POST /dex/token: 401 invalid_client: Invalid client credentials.")
  assert.eq(err:find("wrong-secret", 1, true), nil)
end)

test("401 access_denied for a wrong password; the password never in the message", function()
  local c = client()
  local ok, err = pcall(c.token, c, {username = "admin@example.com", password = "hunter2"})
  assert.eq(ok, false)
  assert.eq(err, "dex.token: POST /dex/token: 401 access_denied: Invalid username or password")
  assert.eq(err:find("hunter2", 1, true), nil)
end)

test("jwks: the provider's keys", function()
  local k = client():jwks()
  assert.eq(k.keys[1].kty, "RSA")
  assert.eq(k.keys[1].kid, "test-key-1")
end)

test("jwk_to_pem gives a key crypto.jwt_verify accepts", function()
  local pem = dex.jwk_to_pem(client():jwks().keys[1])
  assert.matches(pem, "^-----BEGIN RSA PUBLIC KEY-----\n")
  local t = fake:sign({sub = "x", exp = math.floor(time()) + 60})
  assert.eq(crypto.jwt_verify(t, pem, {algs = {"RS256"}}).sub, "x")
  assert.raises(function() dex.jwk_to_pem({kty = "EC", crv = "P-256"}) end, "only RSA keys")
end)

test("verify refuses: wrong audience, wrong issuer, expired, unknown kid, tampered, HS256", function()
  local c = client()
  local now = math.floor(time())
  local base = {iss = fake.issuer, aud = "cli", sub = "u", iat = now, exp = now + 60}
  local function with(t) local o = {} for k, v in pairs(base) do o[k] = v end for k, v in pairs(t) do o[k] = v end return o end
  assert.eq(c:verify(fake:sign(base)).sub, "u")
  assert.raises(function() c:verify(fake:sign(with{aud = "other"})) end, [[^dex\.verify: ]])
  assert.raises(function() c:verify(fake:sign(with{iss = "http://evil"})) end, [[^dex\.verify: ]])
  assert.raises(function() c:verify(fake:sign(with{exp = now - 600})) end, [[^dex\.verify: ]])
  assert.raises(function() c:verify(fake:sign(base, "rotated-away")) end, [[no signing key with kid "rotated-away"]])
  local t = fake:sign(base)
  local h, p, s = t:match("^([^.]+)%.([^.]+)%.([^.]+)$")
  local forged = h .. "." .. base64.encode(json.encode(with{sub = "admin"}), {url = true, pad = false}) .. "." .. s
  assert.raises(function() c:verify(forged) end, [[^dex\.verify: ]])
  local hs = crypto.jwt_sign(base, "shared-secret", {alg = "HS256", kid = "test-key-1"})
  assert.raises(function() c:verify(hs) end, [[^dex\.verify: ]])
  assert.raises(function() c:verify(fake:sign(with{nonce = "a"}), {nonce = "b"}) end, "nonce differs")
  assert.eq(c:verify(fake:sign(with{aud = "other"}), {aud = "other"}).sub, "u")
end)

test("bad arguments and options are named", function()
  assert.raises(function() dex.client{tiemout = 1} end, "unknown option 'tiemout'")
  assert.raises(function() dex.client{url = "ftp://x"} end, "bad url")
  local c = client()
  assert.raises(function() c:token{grant = "implicit"} end, "field 'grant'")
  assert.raises(function() c:token{grant = "password", username = "a"} end, "field 'password'")
  assert.raises(function() c:verify(nil) end, "bad argument #1 'id_token'")
  assert.eq(tostring(dex.client{url = "http://u:pw@127.0.0.1:1/dex"}):find("pw", 1, true), nil)
end)

test("network errors name the method", function()
  local c = dex.client{url = "http://127.0.0.1:1/dex", timeout = 2}
  assert.raises(function() c:discovery() end, [[^dex\.discovery: ]])
end)

test("environment defaults", function()
  local c = dex.client()
  assert.eq(type(c.url), "string")
end)

test("the fake records what Dex would refuse (its checks are live)", function()
  local c = client()
  c._http:post(fake.issuer .. "/token", {grant_type = "password"})
  c._http:post(fake.issuer .. "/token", nil, {form = {grant_type = "implicit", client_id = "cli", client_secret = "s3cr et/+"}})
  c._http:get(fake.issuer .. "/userinfo")
  local seen = fake.violations
  fake.violations = {}
  assert.eq(#seen >= 3, true, table.concat(seen, "\n"))
end)

test("userinfo with the access token; 401 with Dex's text for a bad one", function()
  local c = client()
  local tok = c:token{username = "admin@example.com", password = "password", scope = {"openid", "email"}}
  local info = c:userinfo(tok.access_token)
  assert.eq(info.email, "admin@example.com")
  assert.eq(fake:last().headers.authorization, "Bearer " .. tok.access_token)
  local ok, err = pcall(c.userinfo, c, "forged-token-value")
  assert.eq(ok, false)
  assert.eq(err, "dex.userinfo: GET /dex/userinfo: 401 access_denied: Invalid bearer token.")
  assert.eq(err:find("forged-token-value", 1, true), nil)
end)
