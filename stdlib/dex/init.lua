--- assay.dex: a client for Dex, the OpenID Connect provider.
---
--- API followed: https://dexidp.io/docs/ (OpenID Connect Discovery 1.0,
--- https://openid.net/specs/openid-connect-discovery-1_0.html; RFC 6749 token endpoint;
--- RFC 7517 JWKS). Dex serves discovery at <issuer>/.well-known/openid-configuration.
---
--- local dex = require("assay.dex")
--- local c = dex.client{url = "http://dex:5556/dex", client_id = "cli", client_secret = "s3cret"}
--- local tok = c:token{grant = "password", username = "admin@example.com", password = "pw"}
--- local claims = c:verify(tok.id_token)

---@class dex
local M = {}

---@class dex.Client
---@field url string the issuer URL (without credentials)
---@field client_id string|nil the OAuth2 client id
local Client = {}
Client.__index = Client
Client.__tostring = function(self) return ("dex.Client(%s)"):format(self.url) end

local DEFAULT_URL = "http://127.0.0.1:5556/dex"
local CLIENT_OPTIONS = { "url", "client_id", "client_secret", "timeout", "ca_cert", "insecure", "headers" }

local api = require("assay.apiclient")
api.own_source()
local raise = api.raise

local function trim(s) return (s:gsub("^%s+", ""):gsub("%s+$", "")) end

-- The service's own error text: OAuth2 errors are JSON {error, error_description}; Dex's other
-- pages answer plain text.
local function error_text(resp)
  local body = resp.body or ""
  if body:match("^%s*{") then
    local ok, d = pcall(json.parse, body)
    if ok and type(d) == "table" then
      if type(d.error) == "string" then
        if type(d.error_description) == "string" and d.error_description ~= "" then
          return d.error .. ": " .. d.error_description
        end
        return d.error
      end
      if type(d.message) == "string" then return d.message end
    end
  end
  body = trim(body)
  if #body > 512 then body = body:sub(1, 512) .. "..." end
  return body
end

local function path_of(u)
  return (u:match("^https?://[^/]+(/[^?#]*)") or "/")
end

---@private
function Client:_request(fname, method, u, opts)
  local ok, resp = pcall(self._http.request, self._http, method, u, opts or {})
  if not ok then api.network_error("dex", fname, resp) end
  return resp
end

---@private
function Client:_fail(fname, method, u, resp)
  error(("dex.%s: %s %s: %d %s"):format(fname, method, path_of(u), resp.status, error_text(resp)), 0)
end

---@private
function Client:_get_json(fname, u)
  local resp = self:_request(fname, "GET", u)
  if resp.status == 404 then return nil, resp.body end
  if resp.status ~= 200 then self:_fail(fname, "GET", u, resp) end
  local ok, body = pcall(resp.json, resp)
  if not ok or type(body) ~= "table" then
    error(("dex.%s: GET %s: %d answer is not JSON: %s"):format(fname, path_of(u), resp.status,
      error_text(resp)), 0)
  end
  return body
end

---@class dex.ClientOptions
---@field url? string the issuer URL (default: $DEX_ISSUER, then $DEX_URL, then http://127.0.0.1:5556/dex)
---@field client_id? string OAuth2 client id (default: $DEX_CLIENT_ID)
---@field client_secret? string OAuth2 client secret (default: $DEX_CLIENT_SECRET); sent by HTTP basic auth
---@field timeout? number|false seconds for each request
---@field ca_cert? string PEM file path or PEM text added to the system roots
---@field insecure? boolean skip TLS verification
---@field headers? table<string,string> extra headers sent with every request

--- Creates a client; one pooled HTTP client per Dex client. Nothing is fetched until a call.
---@param opts? dex.ClientOptions
---@return dex.Client
function M.client(opts)
  opts = api.check_options("dex", "client", 1, opts, CLIENT_OPTIONS)
  for _, k in ipairs({ "url", "client_id", "client_secret" }) do
    if opts[k] ~= nil and type(opts[k]) ~= "string" then
      raise(("dex.client: bad argument #1 'opts' (field '%s': string expected, got %s)"):format(k, type(opts[k])))
    end
  end
  local raw = opts.url or api.env("DEX_ISSUER", "DEX_URL") or DEFAULT_URL
  local parts = api.split_url(raw)
  if not parts then
    raise(("dex.client: bad url (an http(s) URL expected, got %q)"):format(api.mask_url(raw)))
  end
  local headers = { accept = "application/json" }
  for k, v in pairs(opts.headers or {}) do headers[k] = v end
  local hopts = { headers = headers }
  if opts.timeout ~= nil then hopts.timeout = opts.timeout end
  if opts.ca_cert ~= nil then hopts.ca_cert = opts.ca_cert end
  if opts.insecure ~= nil then hopts.insecure = opts.insecure end
  local hok, hc = pcall(http.client, hopts)
  if not hok then raise("dex.client: " .. api.strip_position(hc)) end
  return setmetatable({
    url = (api.strip_userinfo(raw):gsub("/+$", "")),
    client_id = opts.client_id or api.env("DEX_CLIENT_ID"),
    _secret = opts.client_secret or api.env("DEX_CLIENT_SECRET"),
    _http = hc,
  }, Client)
end

--- The provider's OpenID configuration (`GET <issuer>/.well-known/openid-configuration`),
--- fetched once and cached. Raises when its `issuer` differs from the client's URL.
---@return table|nil config `{issuer, token_endpoint, jwks_uri, ...}`; nil and the body on 404
---@return string|nil body
function Client:discovery()
  if self._discovery then return self._discovery end
  local u = self.url .. "/.well-known/openid-configuration"
  local d, body = self:_get_json("discovery", u)
  if d == nil then return nil, body end
  if d.issuer ~= self.url then
    error(("dex.discovery: GET %s: issuer %q differs from the client's url %q"):format(
      path_of(u), tostring(d.issuer), self.url), 0)
  end
  self._discovery = d
  return d
end

---@private
function Client:_endpoint(fname, key)
  local d = self:discovery()
  if d == nil then
    error(("dex.%s: GET %s: 404 no OpenID configuration at this issuer"):format(fname,
      path_of(self.url .. "/.well-known/openid-configuration")), 0)
  end
  if type(d[key]) ~= "string" then
    error(("dex.%s: the OpenID configuration has no %s"):format(fname, key), 0)
  end
  return d[key]
end

---@class dex.TokenOptions
---@field grant? "client_credentials"|"password" default "password" when `username` is given, else "client_credentials"
---@field username? string for the password grant
---@field password? string for the password grant
---@field scope? string|string[] default "openid" (a list is joined with spaces)
---@field connector_id? string Dex's `connector_id` for the password grant (the password connector to use)

--- Requests a token from the token endpoint (form-encoded POST, client authenticated with
--- HTTP basic auth as RFC 6749 section 2.3.1 says: id and secret form-urlencoded first).
---@param opts dex.TokenOptions
---@return table token `{access_token, token_type, expires_in, id_token?, refresh_token?}`
function Client:token(opts)
  opts = api.check_options("dex", "token", 1, opts,
    { "grant", "username", "password", "scope", "connector_id" })
  local grant = opts.grant or (opts.username and "password" or "client_credentials")
  if grant ~= "password" and grant ~= "client_credentials" then
    raise(("dex.token: bad argument #1 'opts' (field 'grant': \"client_credentials\" or \"password\" expected, got %s)"):format(
      tostring(grant)))
  end
  if grant == "password" then
    for _, k in ipairs({ "username", "password" }) do
      if type(opts[k]) ~= "string" then
        raise(("dex.token: bad argument #1 'opts' (field '%s': string expected, got %s)"):format(k, type(opts[k])))
      end
    end
  end
  if type(self.client_id) ~= "string" or self.client_id == "" then
    raise("dex.token: the client has no client_id (give it to dex.client or set DEX_CLIENT_ID)")
  end
  local scope = opts.scope or "openid"
  if type(scope) == "table" then scope = table.concat(scope, " ") end
  if type(scope) ~= "string" then
    raise(("dex.token: bad argument #1 'opts' (field 'scope': string or list expected, got %s)"):format(type(scope)))
  end
  local form = { grant_type = grant, scope = scope }
  if grant == "password" then
    form.username, form.password = opts.username, opts.password
    form.connector_id = opts.connector_id
  end
  local u = self:_endpoint("token", "token_endpoint")
  local resp = self:_request("token", "POST", u, {
    form = form,
    auth = { url.encode(self.client_id), url.encode(self._secret or "") },
  })
  if resp.status ~= 200 then self:_fail("token", "POST", u, resp) end
  local ok, body = pcall(resp.json, resp)
  if not ok or type(body) ~= "table" or type(body.access_token) ~= "string" then
    error(("dex.token: POST %s: %d answer is not a token: %s"):format(path_of(u), resp.status,
      error_text(resp)), 0)
  end
  return body
end

--- The provider's signing keys (`GET <jwks_uri>`), fetched on each call.
---@return table|nil jwks `{keys = {{kty, kid, alg, use, n, e}, ...}}`; nil and the body on 404
---@return string|nil body
function Client:jwks()
  return self:_get_json("jwks", self:_endpoint("jwks", "jwks_uri"))
end

--- The user's claims from the userinfo endpoint (`GET <userinfo_endpoint>` with the access
--- token as a bearer token).
---@param access_token string
---@return table claims
function Client:userinfo(access_token)
  if type(access_token) ~= "string" or access_token == "" then
    raise(("dex.userinfo: bad argument #1 'access_token' (non-empty string expected, got %s)"):format(
      type(access_token) == "string" and "an empty string" or type(access_token)))
  end
  local u = self:_endpoint("userinfo", "userinfo_endpoint")
  local resp = self:_request("userinfo", "GET", u, { auth = { bearer = access_token } })
  if resp.status ~= 200 then self:_fail("userinfo", "GET", u, resp) end
  local ok, body = pcall(resp.json, resp)
  if not ok or type(body) ~= "table" then
    error(("dex.userinfo: GET %s: %d answer is not JSON: %s"):format(path_of(u), resp.status,
      error_text(resp)), 0)
  end
  return body
end

-- DER, just enough for an RSA public key (PKCS#1 RSAPublicKey) --------------------------------

local function der_len(n)
  if n < 0x80 then return string.char(n) end
  local bytes = {}
  while n > 0 do table.insert(bytes, 1, string.char(n & 0xff)); n = n >> 8 end
  return string.char(0x80 | #bytes) .. table.concat(bytes)
end

local function der_int(b)
  b = b:gsub("^%z+", "")
  if b == "" then b = "\0" end
  if b:byte(1) >= 0x80 then b = "\0" .. b end
  return "\2" .. der_len(#b) .. b
end

--- Converts an RSA JWK (`kty = "RSA"`, base64url `n` and `e`) to a PEM public key
--- (`-----BEGIN RSA PUBLIC KEY-----`, PKCS#1) that `crypto.jwt_verify` accepts.
---@param jwk table
---@return string pem
function M.jwk_to_pem(jwk)
  if type(jwk) ~= "table" then
    raise(("dex.jwk_to_pem: bad argument #1 'jwk' (table expected, got %s)"):format(type(jwk)))
  end
  if jwk.kty ~= "RSA" then
    raise(("dex.jwk_to_pem: bad argument #1 'jwk' (only RSA keys are supported, got kty %s)"):format(tostring(jwk.kty)))
  end
  if type(jwk.n) ~= "string" or type(jwk.e) ~= "string" then
    raise("dex.jwk_to_pem: bad argument #1 'jwk' (an RSA key needs base64url 'n' and 'e')")
  end
  local okn, n = pcall(base64.decode, jwk.n, { url = true })
  local oke, e = pcall(base64.decode, jwk.e, { url = true })
  if not okn or not oke then
    raise("dex.jwk_to_pem: bad argument #1 'jwk' ('n' or 'e' is not base64url)")
  end
  local body = der_int(n) .. der_int(e)
  local der = "\48" .. der_len(#body) .. body
  local b64 = base64.encode(der)
  local lines = {}
  for i = 1, #b64, 64 do lines[#lines + 1] = b64:sub(i, i + 63) end
  return "-----BEGIN RSA PUBLIC KEY-----\n" .. table.concat(lines, "\n") .. "\n-----END RSA PUBLIC KEY-----\n"
end

---@class dex.VerifyOptions
---@field aud? string|string[] expected audience (default: the client's client_id)
---@field leeway? number seconds of clock skew allowed for exp/nbf/iat
---@field nonce? string when given, the token's `nonce` claim must equal it

--- Verifies an ID token: its `kid` picked from the JWKS (fetched again once when the kid is
--- unknown: keys rotate), the signature checked by `crypto.jwt_verify` with that key, the
--- issuer must be the client's url, the audience the client id. Raises saying why it refuses.
---@param id_token string
---@param opts? dex.VerifyOptions
---@return table claims
function Client:verify(id_token, opts)
  if type(id_token) ~= "string" or id_token == "" then
    raise(("dex.verify: bad argument #1 'id_token' (non-empty string expected, got %s)"):format(
      type(id_token) == "string" and "an empty string" or type(id_token)))
  end
  opts = api.check_options("dex", "verify", 2, opts, { "aud", "leeway", "nonce" })
  local okd, decoded = pcall(crypto.jwt_decode, id_token)
  if not okd then error("dex.verify: " .. api.strip_position(decoded), 0) end
  local header = decoded.header or {}
  local function find(set)
    for _, k in ipairs(set and set.keys or {}) do
      if (header.kid == nil or k.kid == header.kid) and k.kty == "RSA" and (k.use == nil or k.use == "sig") then
        return k
      end
    end
  end
  local key = find(self._keys)
  if not key then
    self._keys = self:jwks()
    key = find(self._keys)
  end
  if not key then
    error(("dex.verify: no signing key with kid %q in the provider's JWKS"):format(tostring(header.kid)), 0)
  end
  local aud = opts.aud or self.client_id
  local vopts = { algs = { key.alg or "RS256" }, iss = self.url, aud = aud, leeway = opts.leeway }
  local okv, claims = pcall(crypto.jwt_verify, id_token, M.jwk_to_pem(key), vopts)
  if not okv then error("dex.verify: " .. api.strip_position(claims), 0) end
  if opts.nonce ~= nil and claims.nonce ~= opts.nonce then
    error("dex.verify: the token's nonce differs from the one expected", 0)
  end
  return claims
end

return M
