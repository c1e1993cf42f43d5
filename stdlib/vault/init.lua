--- assay.vault: a client for HashiCorp Vault and OpenBao (API-compatible) over their HTTP API.
---
--- local vault = require("assay.vault")
--- local c = vault.client{url = "https://vault:8200", token = env.get("VAULT_TOKEN")}
--- c:kv_put("secret", "app/db", {password = "s3cret"})
--- print(c:kv_get("secret", "app/db").password)
--- print(c.transit:encrypt("transit", "app", "hello"))   -- vault/transit.lua, loaded on first use
--- print(c.pki:issue("pki", "web", {common_name = "web.example.com"}).certificate)
---
--- Every operation is a method on the client. Errors raise one string
--- "vault.<method>: <HTTP method> <path>: <status> <Vault's own error text>"; a 404 on a read
--- returns nil and the decoded error body; writes and deletes return true. Neither the token
--- nor the URL's password ever appears in a message.
--- See stdlib/vault/README.md for the reference.

local M = {}

--- The client's methods.
---@class vault.Client
---@field url string the server's address, e.g. "https://vault:8200"
---@field token string|nil the token sent as X-Vault-Token (a login replaces it)
---@field namespace string|nil sent as X-Vault-Namespace when set
---@field pki vault.PKI PKI secrets engine operations (vault/pki.lua, loaded on first use)
---@field transit vault.Transit Transit secrets engine operations (vault/transit.lua, loaded on first use)
local Client = {}

-- Submodules reached as fields of the client (c.pki, c.transit) and of the module (vault.pki):
-- required on first access only.
local SUBMODULES = {pki = true, transit = true}

-- Methods defined in vault/admin.lua, read on the first call of any of them.
local LAZY = {}
for _, name in ipairs({
  "approle_write_role", "approle_role_id", "approle_secret_id", "kubernetes_configure",
  "kubernetes_write_role", "policy_list", "policy_read", "policy_write", "policy_delete",
  "auth_list", "auth_enable", "auth_disable", "secrets_list", "secrets_enable",
  "secrets_disable", "health", "seal_status", "init_status", "init", "unseal", "seal",
  "wait_unsealed"
}) do
  LAZY[name] = "admin"
end

local client_mt = {
  __index = function(self, key)
    local method = Client[key]
    if method ~= nil then return method end
    local lazy = LAZY[key]
    if lazy then
      require("assay.vault." .. lazy)
      return Client[key]
    end
    if SUBMODULES[key] then
      local sub = require("assay.vault." .. key).new(self)
      rawset(self, key, sub)
      return sub
    end
    return nil
  end,
  __tostring = function(self)
    return rawget(self, "_pkg") .. ".client(" .. rawget(self, "url") .. ")"
  end,
}

setmetatable(M, {
  __index = function(self, key)
    if SUBMODULES[key] then
      local sub = require("assay.vault." .. key)
      rawset(self, key, sub)
      return sub
    end
    return nil
  end,
})

---------------------------------------------------------------------------------------------
-- helpers shared with the submodules (M._internal)
---------------------------------------------------------------------------------------------

-- The packages' shared internals (assay.apiclient): bad arguments raised at the first frame
-- outside the package's own files (init.lua, admin.lua, pki.lua, transit.lua and the openbao
-- package's init.lua register theirs), the caller's; no position under --sandbox.
local api = require("assay.apiclient")

--- Registers the file that defines probe (`function() return debug.getinfo(1, "S") end`).
local function own_source(probe)
  api.own_source(probe)
end
own_source(function() return debug.getinfo(1, "S") end)

--- Raises a bad-argument message at the caller's position (as the builtins do).
local raise = api.raise

local function typename(v)
  return type(v)
end

--- Raises "<pkg>.<fn>: bad argument #n 'name' (<want> expected, got <type>)" unless v has one
--- of the wanted types ("string", "table", "number", "boolean"; "?x" allows nil).
local function check_arg(pkg, fn, n, name, v, want)
  local optional = want:sub(1, 1) == "?"
  if optional then want = want:sub(2) end
  if v == nil and optional then return end
  for w in want:gmatch("[^|]+") do
    if typename(v) == w then return end
  end
  raise(string.format("%s.%s: bad argument #%d '%s' (%s expected, got %s)", pkg, fn, n, name,
    want, typename(v)))
end

--- Like check_arg, for a field of an options table: "bad argument #n 'opts' (field 'f': ...)".
local function check_field(pkg, fn, n, field, v, want)
  local optional = want:sub(1, 1) == "?"
  if optional then want = want:sub(2) end
  if v == nil and optional then return end
  for w in want:gmatch("[^|]+") do
    if type(v) == w then return end
  end
  raise(string.format("%s.%s: bad argument #%d 'opts' (field '%s': %s expected, got %s)", pkg,
    fn, n, field, want, type(v)))
end

--- Raises naming the first option of opts not in the allowed set.
local function check_opts(pkg, fn, n, opts, allowed)
  return api.check_options(pkg, fn, n, opts, allowed)
end

--- Encodes a Vault path segment by segment (slashes kept, everything else percent-encoded).
local function enc_path(p)
  local out = {}
  for seg in (p .. "/"):gmatch("([^/]*)/") do
    out[#out + 1] = url.encode(seg)
  end
  return table.concat(out, "/")
end

--- Strips leading and trailing slashes of a mount or path.
local function trim_slashes(s)
  return (s:gsub("^/+", ""):gsub("/+$", ""))
end

--- Vault's error list as one line: go-multierror's "1 error occurred:\n\t* x\n\n" becomes "x".
local function error_text(body, raw)
  local parts = {}
  if type(body) == "table" and type(body.errors) == "table" then
    for _, e in ipairs(body.errors) do
      local s = tostring(e)
      local items = s:match("^%d+ errors? occurred:%s*(.*)$")
      if items then
        for item in items:gmatch("%*%s*([^\n]+)") do
          parts[#parts + 1] = item:gsub("%s+$", "")
        end
      else
        parts[#parts + 1] = (s:gsub("%s+$", ""))
      end
    end
  end
  if #parts == 0 and raw and raw ~= "" then
    parts[1] = (raw:sub(1, 500):gsub("%s+$", ""))
  end
  return table.concat(parts, "; ")
end

M._internal = {api = api, raise = raise, own_source = own_source, check_arg = check_arg, check_opts = check_opts, check_field = check_field, enc_path = enc_path,
  trim_slashes = trim_slashes}

--- What a login or token_create returns (Vault's `auth` block).
---@class vault.Auth
---@field client_token string the new token (a login keeps it as the client's)
---@field accessor string
---@field policies string[]
---@field token_policies string[]
---@field identity_policies? string[]
---@field metadata? table<string,string> e.g. role_name, service_account_name
---@field lease_duration integer seconds
---@field renewable boolean
---@field entity_id string
---@field token_type string "service" or "batch"
---@field orphan boolean

--- What token_lookup and token_lookup_self return (the token's `data`).
---@class vault.TokenInfo
---@field id string
---@field accessor string
---@field policies string[]
---@field ttl integer seconds left
---@field creation_ttl integer
---@field expire_time string|userdata RFC 3339, or json.null for a root token
---@field renewable boolean
---@field meta? table<string,string>
---@field display_name string
---@field entity_id string
---@field type string "service" or "batch"

--- One version's metadata: what kv_put and kv_patch return, kv_get's second value.
---@class vault.KvVersion
---@field version integer
---@field created_time string RFC 3339
---@field deletion_time string "" unless soft-deleted
---@field destroyed boolean
---@field custom_metadata? table<string,string>

--- A secret's metadata (kv_metadata).
---@class vault.KvMetadata
---@field current_version integer
---@field oldest_version integer
---@field max_versions integer 0: the mount's setting
---@field cas_required boolean
---@field delete_version_after string e.g. "0s"
---@field created_time string
---@field updated_time string
---@field custom_metadata? table<string,string>
---@field versions table<string, {created_time: string, deletion_time: string, destroyed: boolean}> keyed by version number ("1", "2", ...)

---------------------------------------------------------------------------------------------
-- the client
---------------------------------------------------------------------------------------------

local CLIENT_OPTIONS = {url = true, token = true, namespace = true, timeout = true,
  ca_cert = true, insecure = true, headers = true}

local function truthy_env(v)
  return v ~= nil and v ~= "" and v ~= "0" and v:lower() ~= "false"
end

--- Reads a file, or nil and the reason. fs is optional: under --sandbox it is absent, and the
--- package still loads (the manifest does not list fs); only these two conveniences are lost.
local function read_file(p)
  local ok, data = pcall(function() return fs.read(p) end)
  if ok and type(data) == "string" then return data end
  -- the reason without the position Lua put before it
  return nil, (tostring(data):gsub("^[^\n]-:%d+: ", ""))
end

--- Reads the token the vault CLI's token helper left in ~/.vault-token, if any.
local function token_file()
  local home = env.get("HOME")
  if not home or home == "" then return nil end
  local t = read_file(home .. "/.vault-token")
  if not t then return nil end
  t = t:gsub("%s+$", "")
  if t == "" then return nil end
  return t
end

--- The environment variables a package's client reads, first found wins.
M._env = {
  pkg = "vault",
  addr = {"VAULT_ADDR"},
  token = {"VAULT_TOKEN"},
  cacert = {"VAULT_CACERT"},
  namespace = {"VAULT_NAMESPACE"},
  skip_verify = {"VAULT_SKIP_VERIFY"},
}

local function first_env(names)
  return api.env(table.unpack(names))
end

---@class vault.ClientOptions
---@field url? string server address (default $VAULT_ADDR, else "http://127.0.0.1:8200"); a `user:password@` in it becomes basic authorization
---@field token? string (default $VAULT_TOKEN, else ~/.vault-token, which is ignored under --sandbox)
---@field namespace? string Vault Enterprise / OpenBao namespace (default $VAULT_NAMESPACE)
---@field timeout? number seconds per request (passed to http.client)
---@field ca_cert? string PEM file path or PEM text (default $VAULT_CACERT)
---@field insecure? boolean skip TLS verification (default $VAULT_SKIP_VERIFY)
---@field headers? table<string,string> extra headers on every request

local CLIENT_OPTION_NAMES = "ca_cert, headers, insecure, namespace, timeout, token, url"

--- msg with every occurrence of the plain text needle (when it has 4 bytes or more) replaced.
local function replace_plain(msg, needle, repl)
  if not needle or #needle < 4 then return msg end
  local s, out = 1, {}
  while true do
    local i, j = msg:find(needle, s, true)
    if not i then break end
    out[#out + 1] = msg:sub(s, i - 1) .. repl
    s = j + 1
  end
  out[#out + 1] = msg:sub(s)
  return table.concat(out)
end

--- A URL (or what was given as one) with the password of its userinfo shown as ***.
local mask_url = api.mask_url

--- A URL without its userinfo (user and password).
local strip_userinfo = api.strip_userinfo
M._internal.mask_url = mask_url

--- Makes a client with the environment variables envspec names (M._env for vault, the openbao
--- package's for openbao).
---@param opts? vault.ClientOptions
---@param e table
---@return vault.Client
local function new_client(opts, e)
  local pkg = e.pkg
  if opts ~= nil and type(opts) ~= "table" then
    raise(pkg .. ".client: bad argument #1 'opts' (table expected, got " .. type(opts) .. ")")
  end
  opts = opts or {}
  for k in pairs(opts) do
    if not CLIENT_OPTIONS[k] then
      raise(pkg .. ".client: bad argument #1 'opts' (unknown option '" .. tostring(k)
        .. "'; expected " .. CLIENT_OPTION_NAMES .. ")")
    end
  end
  for _, k in ipairs({"url", "token", "namespace", "ca_cert"}) do
    check_field(pkg, "client", 1, k, opts[k], "?string")
  end
  check_field(pkg, "client", 1, "timeout", opts.timeout, "?number|boolean")
  check_field(pkg, "client", 1, "insecure", opts.insecure, "?boolean")
  check_field(pkg, "client", 1, "headers", opts.headers, "?table")

  local addr = opts.url or first_env(e.addr) or "http://127.0.0.1:8200"
  addr = addr:gsub("/+$", "")
  if not addr:match("^https?://[^/?#]") then
    raise(string.format("%s.client: bad url (an http(s) URL expected, got %q)", pkg,
      mask_url(addr)))
  end
  local token = opts.token or first_env(e.token) or token_file()
  local insecure = opts.insecure
  if insecure == nil then insecure = truthy_env(first_env(e.skip_verify)) end
  local http_opts = {
    base_url = addr,   -- with its userinfo, which http.client sends as basic authorization
    timeout = opts.timeout,
    ca_cert = opts.ca_cert or first_env(e.cacert),
    insecure = insecure or nil,
    headers = opts.headers,
  }
  local userinfo = addr:match("^https?://([^/?#]*)@")
  local password = userinfo and userinfo:match("^[^:]*:(.*)$")
  local ok, hc = pcall(http.client, http_opts)
  if not ok then
    local reason = api.strip_position(hc)
    error(replace_plain(pkg .. ".client: " .. reason, password, "***"), 0)
  end
  local self = {
    _pkg = pkg,
    _http = hc,
    _password = password,
    url = strip_userinfo(addr),
    token = token,
    namespace = opts.namespace or first_env(e.namespace),
  }
  return setmetatable(self, client_mt)
end
M._internal.new_client = new_client

--- Makes a client: one pooled http.client per client object.
---@param opts? vault.ClientOptions
---@return vault.Client
function M.client(opts)
  return new_client(opts, M._env)
end

--- Hides the client's token and its URL's password wherever they occur in a message.
local function scrub(self, msg)
  msg = replace_plain(msg, rawget(self, "token"), "***")
  return replace_plain(msg, rawget(self, "_password"), "***")
end

--- Sends one request; returns status, decoded body (or nil), raw body.
--- spec: {body = table|string, query = table, raw = bool (don't decode), timeout = seconds (this
---        request's), ok = {status = true, ...} extra statuses that are not errors,
---        get = bool (404 -> nil)}
---@private
function Client:_call(fname, method, path, spec)
  spec = spec or {}
  local headers = {}
  if self.token and self.token ~= "" then headers["x-vault-token"] = self.token end
  if self.namespace then headers["x-vault-namespace"] = self.namespace end
  headers["x-vault-request"] = "true"
  local req = {headers = headers, query = spec.query, timeout = spec.timeout}
  if spec.body ~= nil then
    if type(spec.body) == "table" then
      local b = spec.body
      if next(b) == nil then b = json.object({}) end
      req.body = json.encode(b)
    else
      req.body = spec.body
    end
    headers["content-type"] = spec.content_type or "application/json"
  end
  local ok, resp = pcall(self._http.request, self._http, method, path, req)
  if not ok then
    -- the http client's own message, without the position Lua put before it
    local reason = api.strip_position(resp)
    error(scrub(self, self._pkg .. "." .. fname .. ": " .. reason), 0)
  end
  local raw = resp.body or ""
  local decoded
  if raw ~= "" and not spec.raw then
    local okj, v = pcall(json.parse, raw)
    if okj then decoded = v end
  end
  local status = resp.status
  if status >= 200 and status < 300 then return status, decoded, raw end
  if spec.ok and spec.ok[status] then return status, decoded, raw end
  if status == 404 and spec.get then return status, nil, raw, decoded end
  local text = error_text(decoded, raw)
  error(scrub(self, string.format("%s.%s: %s %s: %d%s", self._pkg, fname, method, path, status,
    text ~= "" and (" " .. text) or "")), 0)
end

--- Like _call, for a read: returns the decoded body, or nil and the decoded error body on 404.
---@private
function Client:_get(fname, path, query)
  local status, body, _, errbody = self:_call(fname, "GET", path, {get = true, query = query})
  if status == 404 then return nil, errbody end
  return body
end

--- A DELETE: true, or nil and the decoded error body when the server answers 404 (absent).
---@private
function Client:_delete(fname, path)
  local status, _, _, errbody = self:_call(fname, "DELETE", path, {get = true})
  if status == 404 then return nil, errbody end
  return true
end

--- A LIST request (GET ?list=true): the keys, or an empty list when Vault answers 404 (no keys).
---@private
function Client:_list(fname, path)
  local status, body = self:_call(fname, "GET", path, {get = true, query = {list = "true"}})
  if status == 404 or not body or not body.data then return json.array({}) end
  return body.data.keys or json.array({})
end

local function mpath(mount, ...)
  local parts = {"/v1/" .. enc_path(trim_slashes(mount))}
  for _, p in ipairs({...}) do
    p = trim_slashes(p)
    if p ~= "" then parts[#parts + 1] = enc_path(p) end
  end
  return table.concat(parts, "/")
end
M._internal.mpath = mpath

local PKG_OF = function(self) return rawget(self, "_pkg") end
M._internal.pkg_of = PKG_OF
M._internal.Client = Client
M._internal.lazy_methods = LAZY

---------------------------------------------------------------------------------------------
-- token and logins
---------------------------------------------------------------------------------------------

--- Replaces the token the client sends.
---@param token string|nil
---@return vault.Client self
function Client:set_token(token)
  check_arg(PKG_OF(self), "set_token", 1, "token", token, "?string")
  self.token = token
  return self
end

local function keep_auth(self, fname, body)
  local auth = type(body) == "table" and body.auth
  if type(auth) ~= "table" or type(auth.client_token) ~= "string" then
    error(PKG_OF(self) .. "." .. fname .. ": the server's answer has no auth.client_token", 0)
  end
  self.token = auth.client_token
  return auth
end

--- Logs in with AppRole; the client keeps the new token.
---@param role_id string
---@param secret_id? string (nil when the role does not bind a secret_id)
---@param opts? {mount?: string} auth mount (default "approle")
---@return vault.Auth auth
function Client:login_approle(role_id, secret_id, opts)
  local pkg = PKG_OF(self)
  check_arg(pkg, "login_approle", 1, "role_id", role_id, "string")
  check_arg(pkg, "login_approle", 2, "secret_id", secret_id, "?string")
  opts = check_opts(pkg, "login_approle", 3, opts, {mount = true})
  local _, body = self:_call("login_approle", "POST", mpath("auth/" .. (opts.mount or "approle"), "login"),
    {body = {role_id = role_id, secret_id = secret_id}})
  return keep_auth(self, "login_approle", body)
end

--- Logs in with the Kubernetes auth method; the client keeps the new token.
---@param role string the Vault role
---@param jwt? string the service account token (default: read from
---  /var/run/secrets/kubernetes.io/serviceaccount/token)
---@param opts? {mount?: string} auth mount (default "kubernetes")
---@return vault.Auth auth
function Client:login_kubernetes(role, jwt, opts)
  local pkg = PKG_OF(self)
  check_arg(pkg, "login_kubernetes", 1, "role", role, "string")
  check_arg(pkg, "login_kubernetes", 2, "jwt", jwt, "?string")
  opts = check_opts(pkg, "login_kubernetes", 3, opts, {mount = true})
  if jwt == nil then
    local p = "/var/run/secrets/kubernetes.io/serviceaccount/token"
    local t, why = read_file(p)
    if not t then
      error(pkg .. ".login_kubernetes: no jwt given and " .. p .. " cannot be read: " .. why, 0)
    end
    jwt = t:gsub("%s+$", "")
  end
  local _, body = self:_call("login_kubernetes", "POST",
    mpath("auth/" .. (opts.mount or "kubernetes"), "login"), {body = {role = role, jwt = jwt}})
  return keep_auth(self, "login_kubernetes", body)
end

--- Logs in with userpass; the client keeps the new token.
---@param username string
---@param password string
---@param opts? {mount?: string} auth mount (default "userpass")
---@return vault.Auth auth
function Client:login_userpass(username, password, opts)
  local pkg = PKG_OF(self)
  check_arg(pkg, "login_userpass", 1, "username", username, "string")
  check_arg(pkg, "login_userpass", 2, "password", password, "string")
  opts = check_opts(pkg, "login_userpass", 3, opts, {mount = true})
  local _, body = self:_call("login_userpass", "POST",
    mpath("auth/" .. (opts.mount or "userpass"), "login", username), {body = {password = password}})
  return keep_auth(self, "login_userpass", body)
end

--- Creates a token (POST auth/token/create). Returns the auth block; the client's own token is
--- unchanged.
---@param opts? table Vault's parameters: policies, ttl, renewable, period, no_parent, meta, ...
---@return vault.Auth auth
function Client:token_create(opts)
  check_arg(PKG_OF(self), "token_create", 1, "opts", opts, "?table")
  local _, body = self:_call("token_create", "POST", "/v1/auth/token/create", {body = opts or {}})
  return body.auth
end

--- Looks up the client's own token.
---@return vault.TokenInfo data
function Client:token_lookup_self()
  local _, body = self:_call("token_lookup_self", "GET", "/v1/auth/token/lookup-self")
  return body.data
end

--- Looks up another token (POST auth/token/lookup).
---@param token string
---@return vault.TokenInfo data
function Client:token_lookup(token)
  check_arg(PKG_OF(self), "token_lookup", 1, "token", token, "string")
  local _, body = self:_call("token_lookup", "POST", "/v1/auth/token/lookup", {body = {token = token}})
  return body.data
end

--- Renews the client's own token.
---@param opts? {increment?: string|number} requested TTL ("1h" or seconds)
---@return vault.Auth auth
function Client:token_renew_self(opts)
  opts = check_opts(PKG_OF(self), "token_renew_self", 1, opts, {increment = true})
  local _, body = self:_call("token_renew_self", "POST", "/v1/auth/token/renew-self",
    {body = {increment = opts.increment}})
  return body.auth
end

--- Renews another token.
---@param token string
---@param opts? {increment?: string|number}
---@return vault.Auth auth
function Client:token_renew(token, opts)
  check_arg(PKG_OF(self), "token_renew", 1, "token", token, "string")
  opts = check_opts(PKG_OF(self), "token_renew", 2, opts, {increment = true})
  local _, body = self:_call("token_renew", "POST", "/v1/auth/token/renew",
    {body = {token = token, increment = opts.increment}})
  return body.auth
end

--- Revokes the client's own token (and its children); the client forgets it.
---@return true
function Client:token_revoke_self()
  self:_call("token_revoke_self", "POST", "/v1/auth/token/revoke-self")
  self.token = nil
  return true
end

--- Revokes another token (and its children).
---@param token string
---@return true
function Client:token_revoke(token)
  check_arg(PKG_OF(self), "token_revoke", 1, "token", token, "string")
  self:_call("token_revoke", "POST", "/v1/auth/token/revoke", {body = {token = token}})
  return true
end

---------------------------------------------------------------------------------------------
-- generic logical API
---------------------------------------------------------------------------------------------

--- Reads any path (GET /v1/<path>).
---@param path string e.g. "auth/approle/role/web"
---@return table|nil data the response's data, or nil on 404
---@return table|nil body the whole decoded response (lease_id, lease_duration, ...), or the error body
function Client:read(path)
  check_arg(PKG_OF(self), "read", 1, "path", path, "string")
  local body, err = self:_get("read", mpath(path))
  if not body then return nil, err end
  return body.data, body
end

--- Writes any path (POST /v1/<path>).
---@param path string
---@param data? table
---@return table|true body the decoded response, or true when the server answers without one (204)
function Client:write(path, data)
  check_arg(PKG_OF(self), "write", 1, "path", path, "string")
  check_arg(PKG_OF(self), "write", 2, "data", data, "?table")
  local _, body = self:_call("write", "POST", mpath(path), {body = data or {}})
  if body == nil then return true end
  return body
end

--- Lists any path: the keys, or an empty list.
---@param path string
---@return string[]
function Client:list(path)
  check_arg(PKG_OF(self), "list", 1, "path", path, "string")
  return self:_list("list", mpath(path))
end

--- Deletes any path (DELETE /v1/<path>).
---@param path string
---@return true|nil ok true, or nil when the server answers 404
---@return table|nil body the decoded error body on 404
function Client:delete(path)
  check_arg(PKG_OF(self), "delete", 1, "path", path, "string")
  return self:_delete("delete", mpath(path))
end

---------------------------------------------------------------------------------------------
-- KV version 2
---------------------------------------------------------------------------------------------

--- Reads a secret: its data table, or nil (and the error body) when it does not exist or the
--- version asked for is deleted or destroyed.
---@param mount string e.g. "secret"
---@param path string e.g. "app/db"
---@param opts? {version?: integer}
---@return table|nil data
---@return vault.KvVersion|table|nil metadata the version's metadata; on absence the error body
function Client:kv_get(mount, path, opts)
  local pkg = PKG_OF(self)
  check_arg(pkg, "kv_get", 1, "mount", mount, "string")
  check_arg(pkg, "kv_get", 2, "path", path, "string")
  opts = check_opts(pkg, "kv_get", 3, opts, {version = true})
  check_field(pkg, "kv_get", 3, "version", opts.version, "?number")
  local q = opts.version and {version = tostring(math.tointeger(opts.version) or opts.version)} or nil
  local body, err = self:_get("kv_get", mpath(mount, "data", path), q)
  if not body then return nil, err end
  local d = body.data or {}
  if d.data == nil or d.data == json.null then return nil, body end
  return d.data, d.metadata
end

--- Writes a new version of a secret.
---@param mount string
---@param path string
---@param data table the secret's fields
---@param opts? {cas?: integer} check-and-set: 0 = only if absent, n = only if the current version is n
---@return vault.KvVersion metadata
function Client:kv_put(mount, path, data, opts)
  local pkg = PKG_OF(self)
  check_arg(pkg, "kv_put", 1, "mount", mount, "string")
  check_arg(pkg, "kv_put", 2, "path", path, "string")
  check_arg(pkg, "kv_put", 3, "data", data, "table")
  opts = check_opts(pkg, "kv_put", 4, opts, {cas = true})
  local body = {data = next(data) == nil and json.object({}) or data}
  if opts.cas ~= nil then body.options = {cas = opts.cas} end
  local _, resp = self:_call("kv_put", "POST", mpath(mount, "data", path), {body = body})
  return resp and resp.data
end

--- Merges fields into the latest version (JSON merge patch; a field set to json.null is
--- removed). Raises on 404 (nothing to patch).
---@param mount string
---@param path string
---@param data table
---@param opts? {cas?: integer}
---@return vault.KvVersion metadata
function Client:kv_patch(mount, path, data, opts)
  local pkg = PKG_OF(self)
  check_arg(pkg, "kv_patch", 1, "mount", mount, "string")
  check_arg(pkg, "kv_patch", 2, "path", path, "string")
  check_arg(pkg, "kv_patch", 3, "data", data, "table")
  opts = check_opts(pkg, "kv_patch", 4, opts, {cas = true})
  local body = {data = next(data) == nil and json.object({}) or data}
  if opts.cas ~= nil then body.options = {cas = opts.cas} end
  local _, resp = self:_call("kv_patch", "PATCH", mpath(mount, "data", path),
    {body = json.encode(body), content_type = "application/merge-patch+json"})
  return resp and resp.data
end

--- Soft-deletes the latest version, or the versions given (undelete brings them back).
---@param mount string
---@param path string
---@param opts? {versions?: integer[]}
---@return true|nil ok true, or nil when the server answers 404
---@return table|nil body the decoded error body on 404
function Client:kv_delete(mount, path, opts)
  local pkg = PKG_OF(self)
  check_arg(pkg, "kv_delete", 1, "mount", mount, "string")
  check_arg(pkg, "kv_delete", 2, "path", path, "string")
  opts = check_opts(pkg, "kv_delete", 3, opts, {versions = true})
  if opts.versions then
    check_arg(pkg, "kv_delete", 3, "versions", opts.versions, "table")
    local status, _, _, errbody = self:_call("kv_delete", "POST", mpath(mount, "delete", path),
      {body = {versions = json.array(opts.versions)}, get = true})
    if status == 404 then return nil, errbody end
    return true
  end
  return self:_delete("kv_delete", mpath(mount, "data", path))
end

--- Restores soft-deleted versions.
---@param mount string
---@param path string
---@param versions integer[]
---@return true
function Client:kv_undelete(mount, path, versions)
  local pkg = PKG_OF(self)
  check_arg(pkg, "kv_undelete", 1, "mount", mount, "string")
  check_arg(pkg, "kv_undelete", 2, "path", path, "string")
  check_arg(pkg, "kv_undelete", 3, "versions", versions, "table")
  self:_call("kv_undelete", "POST", mpath(mount, "undelete", path),
    {body = {versions = json.array(versions)}})
  return true
end

--- Destroys versions for good (their data is removed; metadata stays).
---@param mount string
---@param path string
---@param versions integer[]
---@return true
function Client:kv_destroy(mount, path, versions)
  local pkg = PKG_OF(self)
  check_arg(pkg, "kv_destroy", 1, "mount", mount, "string")
  check_arg(pkg, "kv_destroy", 2, "path", path, "string")
  check_arg(pkg, "kv_destroy", 3, "versions", versions, "table")
  self:_call("kv_destroy", "POST", mpath(mount, "destroy", path),
    {body = {versions = json.array(versions)}})
  return true
end

--- Lists the keys under a folder ("app/" style names for sub-folders); empty when none.
---@param mount string
---@param path? string folder (default the mount's root)
---@return string[]
function Client:kv_list(mount, path)
  local pkg = PKG_OF(self)
  check_arg(pkg, "kv_list", 1, "mount", mount, "string")
  check_arg(pkg, "kv_list", 2, "path", path, "?string")
  return self:_list("kv_list", mpath(mount, "metadata", path or ""))
end

--- A secret's metadata (every version's times and state), or nil when there is none.
---@param mount string
---@param path string
---@return vault.KvMetadata|nil metadata
---@return table|nil body the decoded error body when there is none
function Client:kv_metadata(mount, path)
  local pkg = PKG_OF(self)
  check_arg(pkg, "kv_metadata", 1, "mount", mount, "string")
  check_arg(pkg, "kv_metadata", 2, "path", path, "string")
  local body, err = self:_get("kv_metadata", mpath(mount, "metadata", path))
  if not body then return nil, err end
  return body.data
end

--- Sets a secret's metadata settings (max_versions, cas_required, delete_version_after,
--- custom_metadata).
---@param mount string
---@param path string
---@param params table
---@return true
function Client:kv_metadata_put(mount, path, params)
  local pkg = PKG_OF(self)
  check_arg(pkg, "kv_metadata_put", 1, "mount", mount, "string")
  check_arg(pkg, "kv_metadata_put", 2, "path", path, "string")
  check_arg(pkg, "kv_metadata_put", 3, "params", params, "table")
  self:_call("kv_metadata_put", "POST", mpath(mount, "metadata", path), {body = params})
  return true
end

--- Deletes a secret entirely: every version and its metadata.
---@param mount string
---@param path string
---@return true|nil ok true, or nil when the server answers 404
---@return table|nil body the decoded error body on 404
function Client:kv_metadata_delete(mount, path)
  local pkg = PKG_OF(self)
  check_arg(pkg, "kv_metadata_delete", 1, "mount", mount, "string")
  check_arg(pkg, "kv_metadata_delete", 2, "path", path, "string")
  return self:_delete("kv_metadata_delete", mpath(mount, "metadata", path))
end

---------------------------------------------------------------------------------------------
-- KV version 1
---------------------------------------------------------------------------------------------

--- Reads a KV v1 secret: its data, or nil when absent.
---@param mount string
---@param path string
---@return table|nil data
function Client:kv1_get(mount, path)
  local pkg = PKG_OF(self)
  check_arg(pkg, "kv1_get", 1, "mount", mount, "string")
  check_arg(pkg, "kv1_get", 2, "path", path, "string")
  local body, err = self:_get("kv1_get", mpath(mount, path))
  if not body then return nil, err end
  return body.data
end

--- Writes a KV v1 secret (replacing all its fields).
---@param mount string
---@param path string
---@param data table
---@return true
function Client:kv1_put(mount, path, data)
  local pkg = PKG_OF(self)
  check_arg(pkg, "kv1_put", 1, "mount", mount, "string")
  check_arg(pkg, "kv1_put", 2, "path", path, "string")
  check_arg(pkg, "kv1_put", 3, "data", data, "table")
  self:_call("kv1_put", "POST", mpath(mount, path), {body = data})
  return true
end

--- Lists KV v1 keys under a folder; empty when none.
---@param mount string
---@param path? string
---@return string[]
function Client:kv1_list(mount, path)
  local pkg = PKG_OF(self)
  check_arg(pkg, "kv1_list", 1, "mount", mount, "string")
  check_arg(pkg, "kv1_list", 2, "path", path, "?string")
  return self:_list("kv1_list", mpath(mount, path or ""))
end

--- Deletes a KV v1 secret.
---@param mount string
---@param path string
---@return true|nil ok true, or nil when the server answers 404
---@return table|nil body the decoded error body on 404
function Client:kv1_delete(mount, path)
  local pkg = PKG_OF(self)
  check_arg(pkg, "kv1_delete", 1, "mount", mount, "string")
  check_arg(pkg, "kv1_delete", 2, "path", path, "string")
  return self:_delete("kv1_delete", mpath(mount, path))
end

return M
