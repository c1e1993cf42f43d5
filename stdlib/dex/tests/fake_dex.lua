-- A fake Dex for the dex package's tests, written with Assay's own http.server.
--
-- It follows Dex's documented endpoints (https://dexidp.io/docs/ ; discovery per
-- https://openid.net/specs/openid-connect-discovery-1_0.html, the token endpoint per
-- RFC 6749 sections 2.3.1, 4.3 and 4.4 as Dex's server/handlers.go implements them, JWKS per
-- RFC 7517): GET <issuer>/.well-known/openid-configuration, POST <issuer>/token
-- (application/x-www-form-urlencoded; client authenticated by HTTP basic auth with the id and
-- secret form-urlencoded; OAuth2 errors as JSON {error, error_description}), GET <issuer>/keys,
-- GET <issuer>/userinfo (bearer access token; 401 access_denied "Invalid bearer token.").
--
-- It CHECKS every request (method, path, query, content type, form fields, client auth) and
-- records what the real Dex would not take in `fake.violations`, which the tests assert empty.
-- ID tokens are signed RS256 with tests/test_key.pem (a key made for these tests only) by
-- crypto.jwt_sign; the JWKS publishes its public half (n below, e = AQAB).

local fake = {}

local KEY_N = "1JKu0FCufTGi8dUOphkrCxhY4NTk5We8Dj4kLvKnS8cQOxiK57iN_j15aUknb4SGWXH-lMLuXbIgT5WkpyxlbZo6-mfU4G0MZBH6J4qFvXHOil-BphxaG9wCZ6GAZlDNJkB7LMfPs08Zhv5VMceq22ZL1EGBXNe_5DhTSVEZqTwjmS1JTv-ytGdEnSWEtDGXmLDLmi2EM0WHiMfEYFwAk7eOkoK_sYDtLbx89EHahcqFxnBZPNAI_NpY49OUKwlJtHoTgpmJbaFNxiuz0ErpviiRM7otG1s0HEPoRTSdqFQGnA_07tCCuRrv4f-rxo2fXPwUp1Hhba7RuTA5rABsBw"

function fake.start(opts)
  opts = opts or {}
  local here = opts.dir
  local self = { violations = {}, requests = {}, kid = "test-key-1", issued = {} }
  self.private_key = fs.read(here .. "/test_key.pem")
  local clients = opts.clients or { cli = "s3cr et/+" }
  local users = opts.users or { ["admin@example.com"] = "password" }

  local function violation(req, text)
    self.violations[#self.violations + 1] = ("%s %s: %s"):format(req.method, req.path, text)
  end
  local function oauth_error(status, err, desc)
    return { status = status, json = { error = err, error_description = desc } }
  end

  local function issuer() return self.url .. "/dex" end

  local function sign(claims, kid)
    return crypto.jwt_sign(claims, self.private_key, { alg = "RS256", kid = kid or self.kid })
  end
  self.sign = function(_, claims, kid) return sign(claims, kid) end

  local function no_query(req)
    if next(req.query) then violation(req, "this endpoint takes no query parameters") end
  end

  local routes = { GET = {}, POST = {} }

  routes.GET["/dex/.well-known/openid-configuration"] = function(req)
    self.requests[#self.requests + 1] = req
    no_query(req)
    if self.no_discovery then return { status = 404, body = "404 page not found\n" } end
    local i = issuer()
    return { status = 200, json = {
      issuer = self.wrong_issuer or i,
      authorization_endpoint = i .. "/auth",
      token_endpoint = i .. "/token",
      jwks_uri = i .. "/keys",
      userinfo_endpoint = i .. "/userinfo",
      device_authorization_endpoint = i .. "/device/code",
      introspection_endpoint = i .. "/token/introspect",
      grant_types_supported = { "authorization_code", "client_credentials", "password",
        "refresh_token", "urn:ietf:params:oauth:grant-type:device_code",
        "urn:ietf:params:oauth:grant-type:token-exchange" },
      response_types_supported = { "code" },
      subject_types_supported = { "public" },
      id_token_signing_alg_values_supported = { "RS256" },
      code_challenge_methods_supported = { "S256", "plain" },
      scopes_supported = { "openid", "email", "groups", "profile", "offline_access" },
      token_endpoint_auth_methods_supported = { "client_secret_basic", "client_secret_post" },
      claims_supported = { "iss", "sub", "aud", "iat", "exp", "email", "email_verified", "locale",
        "name", "preferred_username", "at_hash" },
    } }
  end

  routes.GET["/dex/keys"] = function(req)
    self.requests[#self.requests + 1] = req
    no_query(req)
    return { status = 200, json = { keys = {
      { use = "sig", kty = "RSA", kid = self.kid, alg = "RS256", n = KEY_N, e = "AQAB" },
    } } }
  end

  -- Dex's handleUserInfo: a bearer access token it issued, else 401 access_denied.
  routes.GET["/dex/userinfo"] = function(req)
    self.requests[#self.requests + 1] = req
    no_query(req)
    local h = req.headers.authorization or ""
    local tok = h:match("^[Bb]earer (.+)$")
    if not tok then
      return { status = 401, headers = { ["www-authenticate"] = "Bearer" },
        json = { error = "access_denied", error_description = "Invalid bearer token." } }
    end
    local ok, decoded = pcall(crypto.jwt_decode, tok)
    if not ok or not self.issued[tok] then
      return { status = 401, headers = { ["www-authenticate"] = "Bearer" },
        json = { error = "access_denied", error_description = "Invalid bearer token." } }
    end
    return { status = 200, json = decoded.claims }
  end

  routes.POST["/dex/token"] = function(req)
    self.requests[#self.requests + 1] = req
    no_query(req)
    local ctype = req.headers["content-type"] or ""
    if not ctype:find("application/x-www-form-urlencoded", 1, true) then
      violation(req, "content type " .. ctype .. " (the token endpoint takes a form)")
      return oauth_error(400, "invalid_request", "Couldn't parse data")
    end
    local form = url.query_decode(req.body or "")
    local allowed = { grant_type = true, scope = true, username = true, password = true,
      connector_id = true, client_id = true, client_secret = true }
    for k, v in pairs(form) do
      if not allowed[k] then violation(req, "unexpected form field " .. k) end
      if type(v) == "table" then violation(req, "form field " .. k .. " given more than once") end
    end
    -- Client authentication: basic, id and secret form-urlencoded (RFC 6749 2.3.1).
    local h = req.headers.authorization or ""
    local id, secret
    local b = h:match("^Basic (.+)$")
    if b then
      local raw = base64.decode(b)
      local i, s = raw:match("^([^:]*):(.*)$")
      if i then id, secret = url.decode(i), url.decode(s) end
    else
      violation(req, "client not authenticated with HTTP basic auth")
      id, secret = form.client_id, form.client_secret
    end
    if id == nil or clients[id] == nil or clients[id] ~= secret then
      return oauth_error(401, "invalid_client", "Invalid client credentials.")
    end
    local grant = form.grant_type
    local scopes = {}
    for s in (form.scope or ""):gmatch("%S+") do scopes[s] = true end
    local now = math.floor(time())
    local claims = { iss = issuer(), aud = id, iat = now, exp = now + 3600 }
    if grant == "password" then
      if not form.username then return oauth_error(400, "invalid_request", "Required param: username.") end
      if not form.password then return oauth_error(400, "invalid_request", "Required param: password.") end
      if users[form.username] ~= form.password then
        return oauth_error(401, "access_denied", "Invalid username or password")
      end
      claims.sub = "user-" .. form.username
      if scopes.email then claims.email, claims.email_verified = form.username, true end
    elseif grant == "client_credentials" then
      if form.username or form.password then violation(req, "username/password on a client_credentials grant") end
      claims.sub = "client-" .. id
    else
      violation(req, "grant_type " .. tostring(grant))
      return oauth_error(400, "unsupported_grant_type", "")
    end
    local resp = { access_token = sign(claims), token_type = "bearer", expires_in = 3600 }
    self.issued[resp.access_token] = true
    if scopes.openid then resp.id_token = sign(claims) end
    if scopes.offline_access and grant == "password" then resp.refresh_token = "refresh-" .. now end
    return { status = 200, json = resp }
  end

  local server = http.server(routes, {
    host = "127.0.0.1",
    port = 0,
    after = function(req, resp)
      if resp.status == 404 and not self.no_discovery then
        violation(req, "no such endpoint in Dex")
      elseif resp.status == 405 then
        violation(req, "method not allowed on this endpoint")
      end
    end,
  })
  self.url = "http://127.0.0.1:" .. server.port
  self.issuer = self.url .. "/dex"
  function self:reset()
    self.violations, self.requests = {}, {}
    self.no_discovery, self.wrong_issuer = nil, nil
  end
  function self:stop() server:stop() end
  function self:last() return self.requests[#self.requests] end
  return self
end

return fake
