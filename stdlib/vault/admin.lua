--- assay.vault.admin: the client methods for setting a server up and watching it (AppRole and
--- Kubernetes auth configuration, policies, auth methods and secrets engines, sys: health,
--- seal status, init, unseal, seal, wait_unsealed). They are methods of every vault client like
--- the others; this file is read the first time one of them is called (see init.lua's LAZY), so
--- `require("assay.vault")` stays cheap.

local vault = require("assay.vault")
local I = vault._internal
I.own_source(function() return debug.getinfo(1, "S") end)
---@class vault.Client
local Client = I.Client
local check_arg, check_opts, check_field, mpath = I.check_arg, I.check_opts, I.check_field, I.mpath
local PKG_OF = I.pkg_of

---------------------------------------------------------------------------------------------
-- AppRole and Kubernetes auth configuration
---------------------------------------------------------------------------------------------

--- Creates or updates an AppRole role (POST auth/<mount>/role/<name>).
---@param name string
---@param params? table Vault's parameters: token_policies, token_ttl, secret_id_ttl, bind_secret_id, ...
---@param opts? {mount?: string} (default "approle")
---@return true
function Client:approle_write_role(name, params, opts)
  local pkg = PKG_OF(self)
  check_arg(pkg, "approle_write_role", 1, "name", name, "string")
  check_arg(pkg, "approle_write_role", 2, "params", params, "?table")
  opts = check_opts(pkg, "approle_write_role", 3, opts, {mount = true})
  self:_call("approle_write_role", "POST", mpath("auth/" .. (opts.mount or "approle"), "role", name),
    {body = params or {}})
  return true
end

--- The role's role_id.
---@param name string
---@param opts? {mount?: string}
---@return string role_id
function Client:approle_role_id(name, opts)
  local pkg = PKG_OF(self)
  check_arg(pkg, "approle_role_id", 1, "name", name, "string")
  opts = check_opts(pkg, "approle_role_id", 2, opts, {mount = true})
  local _, body = self:_call("approle_role_id", "GET",
    mpath("auth/" .. (opts.mount or "approle"), "role", name, "role-id"))
  return body.data.role_id
end

--- Generates a new secret_id for the role.
---@param name string
---@param params? table Vault's parameters: metadata, cidr_list, ttl, ...
---@param opts? {mount?: string}
---@return table data {secret_id, secret_id_accessor, secret_id_ttl, ...}
function Client:approle_secret_id(name, params, opts)
  local pkg = PKG_OF(self)
  check_arg(pkg, "approle_secret_id", 1, "name", name, "string")
  check_arg(pkg, "approle_secret_id", 2, "params", params, "?table")
  opts = check_opts(pkg, "approle_secret_id", 3, opts, {mount = true})
  local _, body = self:_call("approle_secret_id", "POST",
    mpath("auth/" .. (opts.mount or "approle"), "role", name, "secret-id"), {body = params or {}})
  return body.data
end

--- Configures the Kubernetes auth method (POST auth/<mount>/config).
---@param params table kubernetes_host, kubernetes_ca_cert, token_reviewer_jwt, disable_local_ca_jwt, ...
---@param opts? {mount?: string} (default "kubernetes")
---@return true
function Client:kubernetes_configure(params, opts)
  local pkg = PKG_OF(self)
  check_arg(pkg, "kubernetes_configure", 1, "params", params, "table")
  opts = check_opts(pkg, "kubernetes_configure", 2, opts, {mount = true})
  self:_call("kubernetes_configure", "POST", mpath("auth/" .. (opts.mount or "kubernetes"), "config"),
    {body = params})
  return true
end

--- Creates or updates a Kubernetes auth role.
---@param name string
---@param params table bound_service_account_names, bound_service_account_namespaces, token_policies, ...
---@param opts? {mount?: string}
---@return true
function Client:kubernetes_write_role(name, params, opts)
  local pkg = PKG_OF(self)
  check_arg(pkg, "kubernetes_write_role", 1, "name", name, "string")
  check_arg(pkg, "kubernetes_write_role", 2, "params", params, "table")
  opts = check_opts(pkg, "kubernetes_write_role", 3, opts, {mount = true})
  self:_call("kubernetes_write_role", "POST",
    mpath("auth/" .. (opts.mount or "kubernetes"), "role", name), {body = params})
  return true
end

---------------------------------------------------------------------------------------------
-- policies
---------------------------------------------------------------------------------------------

--- The ACL policies' names.
---@return string[]
function Client:policy_list()
  return self:_list("policy_list", "/v1/sys/policies/acl")
end

--- A policy's HCL text, or nil when there is none.
---@param name string
---@return string|nil policy
function Client:policy_read(name)
  check_arg(PKG_OF(self), "policy_read", 1, "name", name, "string")
  local body, err = self:_get("policy_read", mpath("sys/policies/acl", name))
  if not body then return nil, err end
  return (body.data or body).policy
end

--- Creates or replaces a policy.
---@param name string
---@param policy string HCL text
---@return true
function Client:policy_write(name, policy)
  check_arg(PKG_OF(self), "policy_write", 1, "name", name, "string")
  check_arg(PKG_OF(self), "policy_write", 2, "policy", policy, "string")
  self:_call("policy_write", "PUT", mpath("sys/policies/acl", name), {body = {policy = policy}})
  return true
end

--- Deletes a policy (true also when it does not exist: the server answers 204 either way).
---@param name string
---@return true|nil ok true, or nil when the server answers 404
---@return table|nil body the decoded error body on 404
function Client:policy_delete(name)
  check_arg(PKG_OF(self), "policy_delete", 1, "name", name, "string")
  return self:_delete("policy_delete", mpath("sys/policies/acl", name))
end

---------------------------------------------------------------------------------------------
-- auth methods and secrets engines
---------------------------------------------------------------------------------------------

local ENABLE_OPTS = {path = true, description = true, config = true, options = true, local_ = true,
  seal_wrap = true}

local function enable_body(opts, kind)
  local body = {type = kind, description = opts.description, config = opts.config,
    options = opts.options, seal_wrap = opts.seal_wrap}
  if opts.local_ ~= nil then body["local"] = opts.local_ end
  return body
end

--- The enabled auth methods, keyed by path ("token/", "approle/", ...).
---@return table<string, table>
function Client:auth_list()
  local _, body = self:_call("auth_list", "GET", "/v1/sys/auth")
  return body.data or body
end

--- Enables an auth method (like `vault auth enable -path=PATH TYPE`).
---@param kind string the method's type: "approle", "kubernetes", "userpass", ...
---@param opts? {path?: string, description?: string, config?: table, options?: table, local_?: boolean, seal_wrap?: boolean}
---@return true
function Client:auth_enable(kind, opts)
  check_arg(PKG_OF(self), "auth_enable", 1, "kind", kind, "string")
  opts = check_opts(PKG_OF(self), "auth_enable", 2, opts, ENABLE_OPTS)
  self:_call("auth_enable", "POST", mpath("sys/auth", opts.path or kind), {body = enable_body(opts, kind)})
  return true
end

--- Disables an auth method (its tokens are revoked).
---@param path string
---@return true|nil ok true, or nil when the server answers 404
---@return table|nil body the decoded error body on 404
function Client:auth_disable(path)
  check_arg(PKG_OF(self), "auth_disable", 1, "path", path, "string")
  return self:_delete("auth_disable", mpath("sys/auth", path))
end

--- The mounted secrets engines, keyed by path ("secret/", "sys/", ...).
---@return table<string, table>
function Client:secrets_list()
  local _, body = self:_call("secrets_list", "GET", "/v1/sys/mounts")
  return body.data or body
end

--- Enables a secrets engine (like `vault secrets enable -path=PATH TYPE`); KV v1 is
--- `c:secrets_enable("kv", {path = "kv1", options = {version = "1"}})`.
---@param kind string the engine's type: "kv", "transit", "pki", ...
---@param opts? {path?: string, description?: string, config?: table, options?: table, local_?: boolean, seal_wrap?: boolean}
---@return true
function Client:secrets_enable(kind, opts)
  check_arg(PKG_OF(self), "secrets_enable", 1, "kind", kind, "string")
  opts = check_opts(PKG_OF(self), "secrets_enable", 2, opts, ENABLE_OPTS)
  self:_call("secrets_enable", "POST", mpath("sys/mounts", opts.path or kind),
    {body = enable_body(opts, kind)})
  return true
end

--- Disables a secrets engine (its data is deleted).
---@param path string
---@return true|nil ok true, or nil when the server answers 404
---@return table|nil body the decoded error body on 404
function Client:secrets_disable(path)
  check_arg(PKG_OF(self), "secrets_disable", 1, "path", path, "string")
  return self:_delete("secrets_disable", mpath("sys/mounts", path))
end

---------------------------------------------------------------------------------------------
-- sys
---------------------------------------------------------------------------------------------

--- What health returns.
---@class vault.Health
---@field initialized boolean
---@field sealed boolean
---@field standby boolean
---@field performance_standby boolean
---@field replication_dr_mode string
---@field replication_performance_mode string
---@field server_time_utc integer seconds since the epoch
---@field version string
---@field cluster_name? string
---@field cluster_id? string

--- What seal_status, unseal and wait_unsealed return.
---@class vault.SealStatus
---@field type string the seal's type ("shamir", ...)
---@field initialized boolean
---@field sealed boolean
---@field t integer unseal threshold
---@field n integer key shares
---@field progress integer shares given so far
---@field nonce string
---@field version string
---@field migration boolean
---@field recovery_seal boolean
---@field storage_type? string
---@field cluster_name? string
---@field cluster_id? string

--- What init returns.
---@class vault.InitResult
---@field keys string[] unseal key shares, hex
---@field keys_base64 string[]
---@field root_token string

-- Health statuses that are answers, not failures.
local HEALTH_STATUSES = {[200] = true, [429] = true, [472] = true, [473] = true, [501] = true,
  [503] = true}

--- The server's health. Vault says its state with the status code: 200 active, 429 standby,
--- 472 DR secondary, 473 performance standby, 501 not initialized, 503 sealed; all of these are
--- returned, never raised.
---@param opts? {standbyok?: boolean, perfstandbyok?: boolean}
---@return vault.Health body
---@return integer status
function Client:health(opts)
  opts = check_opts(PKG_OF(self), "health", 1, opts, {standbyok = true, perfstandbyok = true})
  local q = {}
  if opts.standbyok then q.standbyok = "true" end
  if opts.perfstandbyok then q.perfstandbyok = "true" end
  local status, body = self:_call("health", "GET", "/v1/sys/health",
    {query = next(q) and q or nil, ok = HEALTH_STATUSES})
  return body or {}, status
end

--- The seal status.
---@return vault.SealStatus
function Client:seal_status()
  local _, body = self:_call("seal_status", "GET", "/v1/sys/seal-status")
  return body
end

--- Whether the server is initialized.
---@return boolean
function Client:init_status()
  local _, body = self:_call("init_status", "GET", "/v1/sys/init")
  return body.initialized
end

--- Initializes a new server (`vault operator init`).
---@param opts? {secret_shares?: integer, secret_threshold?: integer, pgp_keys?: string[], root_token_pgp_key?: string, recovery_shares?: integer, recovery_threshold?: integer}
---@return vault.InitResult body
function Client:init(opts)
  check_arg(PKG_OF(self), "init", 1, "opts", opts, "?table")
  opts = opts or {}
  local body = {}
  for k, v in pairs(opts) do body[k] = v end
  if body.secret_shares == nil then body.secret_shares = 1 end
  if body.secret_threshold == nil then body.secret_threshold = 1 end
  local _, resp = self:_call("init", "POST", "/v1/sys/init", {body = body})
  return resp
end

--- Submits one unseal key share; returns the seal status after it.
---@param key string
---@param opts? {reset?: boolean, migrate?: boolean}
---@return vault.SealStatus seal_status
function Client:unseal(key, opts)
  check_arg(PKG_OF(self), "unseal", 1, "key", key, "string")
  opts = check_opts(PKG_OF(self), "unseal", 2, opts, {reset = true, migrate = true})
  local _, body = self:_call("unseal", "POST", "/v1/sys/unseal",
    {body = {key = key, reset = opts.reset, migrate = opts.migrate}})
  return body
end

--- Seals the server (needs a root or sudo token).
---@return true
function Client:seal()
  self:_call("seal", "POST", "/v1/sys/seal")
  return true
end

--- Polls the seal status until the server is initialized and unsealed.
---@param opts? {timeout?: number, interval?: number} seconds (defaults 60 and 1)
---@return vault.SealStatus seal_status the final one (initialized and unsealed)
function Client:wait_unsealed(opts)
  local pkg = PKG_OF(self)
  opts = check_opts(pkg, "wait_unsealed", 1, opts, {timeout = true, interval = true})
  check_field(pkg, "wait_unsealed", 1, "timeout", opts.timeout, "?number")
  check_field(pkg, "wait_unsealed", 1, "interval", opts.interval, "?number")
  local timeout = opts.timeout or 60
  local interval = opts.interval or 1
  -- each poll is bounded by the time left (not the client's timeout), at least 10 ms
  local _, last = I.api.poll{timeout = timeout, interval = math.max(interval, 0.001), floor = 0.01,
    try = function(limit)
      local ok, _, body = pcall(self._call, self, "wait_unsealed", "GET", "/v1/sys/seal-status",
        {ok = {[501] = true, [503] = true}, timeout = limit})
      if not ok then return false, _ end  -- the error message: a server not up yet
      return body and body.initialized and body.sealed == false, body
    end}
  if type(last) == "table" and last.initialized and last.sealed == false then return last end
  local state
  if type(last) == "table" then
    if not last.initialized then
      state = "not initialized"
    else
      state = string.format("sealed, unseal progress %s/%s", tostring(last.progress),
        tostring(last.t))
    end
  else
    -- the last error, without its "<pkg>.wait_unsealed: " prefix
    state = tostring(last):gsub("^" .. pkg .. "%.wait_unsealed: ", "")
  end
  error(string.format("%s.wait_unsealed: not unsealed after %gs: %s", pkg, timeout, state), 0)
end

return {}
