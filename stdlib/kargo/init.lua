--- assay.kargo: a client for the Kargo API server.
---
--- API followed: Kargo's service definition
--- https://github.com/akuity/kargo/blob/main/api/service/v1alpha1/service.proto (KargoService),
--- served with the Connect protocol (https://connectrpc.com/docs/protocol/): every call is
--- `POST /akuity.io.kargo.service.v1alpha1.KargoService/<Method>` with the request message as
--- JSON; errors are `{"code": "not_found", "message": ...}` with the mapped HTTP status.
---
--- local kargo = require("assay.kargo")
--- local c = kargo.client{url = "https://kargo.example.com", token = env.get("KARGO_TOKEN")}
--- local p = c:promote("shop", "prod", {freight = "f1a2b3"})
--- c:promotion_wait("shop", p.metadata.name, {timeout = 600})

---@class kargo
local M = {}

---@class kargo.Client
---@field url string the server's base URL (without credentials)
local Client = {}
Client.__index = Client
Client.__tostring = function(self) return "kargo.client(" .. rawget(self, "url") .. ")" end

local DEFAULT_URL = "http://localhost:8080"
local SERVICE = "/akuity.io.kargo.service.v1alpha1.KargoService/"
local CLIENT_OPTIONS = { "url", "token", "password", "timeout", "ca_cert", "insecure", "headers" }

local api = require("assay.apiclient")
api.own_source()
local raise = api.raise

local function decode(resp) return api.decode_body(resp.body) end

-- Kargo's own error text: the Connect error's message (else its code), else the body's text.
local function error_text(resp)
  return api.error_text(resp.body, function(d)
    if type(d.message) == "string" and d.message ~= "" then return d.message end
    return d.code
  end)
end

local function check_name(fname, argn, argname, v)
  api.check_name("kargo", fname, argn, argname, v)
end

-- Requests ------------------------------------------------------------------------------------

---@private
function Client:_send(fname, method, body, timeout)
  local headers = { ["connect-protocol-version"] = "1" }
  if self._token then headers.authorization = "Bearer " .. self._token end
  local ropts = { body = body or {}, headers = headers }
  if timeout ~= nil then ropts.timeout = timeout end
  local ok, resp = pcall(self._http.request, self._http, "POST", self._prefix .. SERVICE .. method, ropts)
  if not ok then api.network_error("kargo", fname, resp) end
  return resp
end

-- One unary call (logging in first when a password is set and no token is held): the response
-- message; on not_found with `absent_ok`, nil and the decoded error; else raises.
---@private
function Client:_call(fname, method, body, absent_ok, timeout)
  if not self._token and self._password then self:login() end
  local resp = self:_send(fname, method, body, timeout)
  local path = SERVICE .. method
  if resp.status == 200 then
    local d = decode(resp)
    if type(d) == "string" then
      error(("kargo.%s: POST %s: 200 answer is not JSON: %s"):format(fname, path, error_text(resp)), 0)
    end
    return d or {}
  end
  if resp.status == 404 and absent_ok then
    local d = decode(resp)
    if type(d) == "table" and d.code == "not_found" then return nil, d end
  end
  error(("kargo.%s: POST %s: %d %s"):format(fname, path, resp.status, error_text(resp)), 0)
end

-- Constructor ---------------------------------------------------------------------------------

---@class kargo.ClientOptions
---@field url? string the API server's base URL (default: $KARGO_URL, then http://localhost:8080)
---@field token? string a bearer token (OIDC ID token or a ServiceAccount token; default: $KARGO_TOKEN)
---@field password? string the admin password: `AdminLogin` on first use (default: $KARGO_ADMIN_PASSWORD)
---@field timeout? number|false seconds for each request
---@field ca_cert? string PEM file path or PEM text added to the system roots
---@field insecure? boolean skip TLS verification
---@field headers? table<string,string> extra headers sent with every request

--- Creates a client; one pooled HTTP client per Kargo client. Nothing is sent until a call.
---@param opts? kargo.ClientOptions
---@return kargo.Client
function M.client(opts)
  opts = api.check_options("kargo", "client", 1, opts, CLIENT_OPTIONS)
  for _, k in ipairs { "url", "token", "password" } do
    if opts[k] ~= nil and type(opts[k]) ~= "string" then
      raise(("kargo.client: bad argument #1 'opts' (field '%s': string expected, got %s)"):format(k, type(opts[k])))
    end
  end
  local raw = opts.url or api.env("KARGO_URL") or DEFAULT_URL
  local parts = api.split_url(raw)
  if not parts then
    raise(("kargo.client: bad url (an http(s) URL expected, got %q)"):format(api.mask_url(raw)))
  end
  local prefix = (parts.path or ""):gsub("/+$", "")
  parts.path, parts.query, parts.fragment = nil, nil, nil
  local base = url.build(parts):gsub("/+$", "")
  local token, password = opts.token, opts.password
  if token == nil and password == nil then
    token = api.env("KARGO_TOKEN")
    if not token then password = api.env("KARGO_ADMIN_PASSWORD") end
  end
  local headers = { accept = "application/json" }
  for k, v in pairs(opts.headers or {}) do headers[k] = v end
  local hopts = { base_url = base, headers = headers }
  if opts.timeout ~= nil then hopts.timeout = opts.timeout end
  if opts.ca_cert ~= nil then hopts.ca_cert = opts.ca_cert end
  if opts.insecure ~= nil then hopts.insecure = opts.insecure end
  local hok, hc = pcall(http.client, hopts)
  if not hok then raise("kargo.client: " .. api.strip_position(hc)) end
  return setmetatable({ url = base .. prefix, _http = hc, _prefix = prefix, _token = token, _password = password }, Client)
end

--- Logs in as the admin account (`AdminLogin` with the client's password); the ID token is then
--- sent with every call. Called on first use when a password was given.
---@return true
function Client:login()
  if not self._password then raise("kargo.login: no password (give password to kargo.client)") end
  local resp = self:_send("login", "AdminLogin", { password = self._password })
  if resp.status ~= 200 then
    error(("kargo.login: POST %sAdminLogin: %d %s"):format(SERVICE, resp.status, error_text(resp)), 0)
  end
  local d = decode(resp)
  if type(d) ~= "table" or type(d.idToken) ~= "string" then
    error(("kargo.login: POST %sAdminLogin: 200 answer has no idToken"):format(SERVICE), 0)
  end
  self._token = d.idToken
  return true
end

-- Projects and stages -------------------------------------------------------------------------

--- Projects (`ListProjects`).
---@return table[]
function Client:projects()
  return self:_call("projects", "ListProjects", {}).projects or {}
end

--- Stages of a project (`ListStages`).
---@param project string
---@return table[]
function Client:stages(project)
  check_name("stages", 1, "project", project)
  return self:_call("stages", "ListStages", { project = project }).stages or {}
end

--- One stage (`GetStage`), or nil and Kargo's error when absent.
---@param project string
---@param name string
---@return table|nil
---@return table|nil err
function Client:stage_get(project, name)
  check_name("stage_get", 1, "project", project)
  check_name("stage_get", 2, "name", name)
  local r, err = self:_call("stage_get", "GetStage", { project = project, name = name }, true)
  if r == nil then return nil, err end
  return r.stage
end

--- Asks Kargo to refresh a stage (`RefreshStage`); returns the stage.
---@param project string
---@param name string
---@return table
function Client:stage_refresh(project, name)
  check_name("stage_refresh", 1, "project", project)
  check_name("stage_refresh", 2, "name", name)
  return self:_call("stage_refresh", "RefreshStage", { project = project, name = name }).stage
end

-- Freight -------------------------------------------------------------------------------------

---@class kargo.FreightQuery
---@field stage? string only freight available to this stage
---@field origins? string[] only freight from these warehouses
---@field group_by? string "image_repo", "git_repo" or "chart_repo": answer groups instead of a list
---@field group? string with group_by, only this group
---@field order_by? string "first_seen" (default) or "tag"
---@field reverse? boolean

--- Freight of a project (`QueryFreight`): a list, or with `group_by` the map of groups
--- (`{[group] = {freight = {...}}}`).
---@param project string
---@param opts? kargo.FreightQuery
---@return table
function Client:freight(project, opts)
  check_name("freight", 1, "project", project)
  opts = api.check_options("kargo", "freight", 2, opts, { "stage", "origins", "group_by", "group", "order_by", "reverse" })
  local body = { project = project, stage = opts.stage, origins = opts.origins, groupBy = opts.group_by,
    group = opts.group, orderBy = opts.order_by, reverse = opts.reverse }
  local groups = self:_call("freight", "QueryFreight", body).groups or {}
  if opts.group_by then return groups end
  local all = {}
  for _, g in pairs(groups) do
    for _, f in ipairs(g.freight or {}) do all[#all + 1] = f end
  end
  return all
end

--- One piece of freight by name or alias (`GetFreight`), or nil and Kargo's error when absent.
---@param project string
---@param ref {name?: string, alias?: string}
---@return table|nil
---@return table|nil err
function Client:freight_get(project, ref)
  check_name("freight_get", 1, "project", project)
  ref = api.check_options("kargo", "freight_get", 2, ref, { "name", "alias" }, "ref")
  if (ref.name == nil) == (ref.alias == nil) then
    raise("kargo.freight_get: bad argument #2 'ref' (exactly one of name, alias expected)")
  end
  local r, err = self:_call("freight_get", "GetFreight", { project = project, name = ref.name, alias = ref.alias }, true)
  if r == nil then return nil, err end
  return r.freight
end

--- Approves freight for a stage (`ApproveFreight`), so it may be promoted there without passing
--- the stages upstream.
---@param project string
---@param ref {name?: string, alias?: string}
---@param stage string
---@return true
function Client:freight_approve(project, ref, stage)
  check_name("freight_approve", 1, "project", project)
  ref = api.check_options("kargo", "freight_approve", 2, ref, { "name", "alias" }, "ref")
  if (ref.name == nil) == (ref.alias == nil) then
    raise("kargo.freight_approve: bad argument #2 'ref' (exactly one of name, alias expected)")
  end
  check_name("freight_approve", 3, "stage", stage)
  self:_call("freight_approve", "ApproveFreight", { project = project, name = ref.name, alias = ref.alias, stage = stage })
  return true
end

-- Promotions ----------------------------------------------------------------------------------

--- Promotions of a project (`ListPromotions`), optionally of one stage.
---@param project string
---@param opts? {stage?: string}
---@return table[]
function Client:promotions(project, opts)
  check_name("promotions", 1, "project", project)
  opts = api.check_options("kargo", "promotions", 2, opts, { "stage" })
  return self:_call("promotions", "ListPromotions", { project = project, stage = opts.stage }).promotions or {}
end

--- One promotion (`GetPromotion`), or nil and Kargo's error when absent.
---@param project string
---@param name string
---@return table|nil
---@return table|nil err
function Client:promotion_get(project, name)
  check_name("promotion_get", 1, "project", project)
  check_name("promotion_get", 2, "name", name)
  local r, err = self:_call("promotion_get", "GetPromotion", { project = project, name = name }, true)
  if r == nil then return nil, err end
  return r.promotion
end

--- Promotes freight (by name or alias) to a stage (`PromoteToStage`); returns the Promotion it
--- created. Wait for it with `promotion_wait`.
---@param project string
---@param stage string
---@param ref {freight?: string, alias?: string}
---@return table
function Client:promote(project, stage, ref)
  check_name("promote", 1, "project", project)
  check_name("promote", 2, "stage", stage)
  ref = api.check_options("kargo", "promote", 3, ref, { "freight", "alias" }, "ref")
  if (ref.freight == nil) == (ref.alias == nil) then
    raise("kargo.promote: bad argument #3 'ref' (exactly one of freight, alias expected)")
  end
  return self:_call("promote", "PromoteToStage",
    { project = project, stage = stage, freight = ref.freight, freightAlias = ref.alias }).promotion
end

local DONE = { Succeeded = true }
local FAILED = { Failed = true, Errored = true, Aborted = true }

--- Waits until a promotion Succeeded, polling `GetPromotion`; returns the Promotion. A promotion
--- that Failed, Errored or was Aborted raises at once with Kargo's message; a timeout raises
--- with the last phase seen.
---@param project string
---@param name string the promotion's name (`promote(...).metadata.name`)
---@param opts? {timeout?: number, interval?: number}
---@return table
function Client:promotion_wait(project, name, opts)
  check_name("promotion_wait", 1, "project", project)
  check_name("promotion_wait", 2, "name", name)
  opts = api.check_options("kargo", "promotion_wait", 3, opts, { "timeout", "interval" })
  local timeout, interval = api.wait_times("kargo", "promotion_wait", 3, opts)
  local ok, res = api.poll {
    timeout = timeout, interval = interval,
    try = function(limit)
      local r = self:_call("promotion_wait", "GetPromotion", { project = project, name = name }, true, limit)
      if r == nil then return false, "not found" end
      local p = r.promotion or {}
      local st = p.status or {}
      local phase = st.phase or "Pending"
      if DONE[phase] then return true, p end
      if FAILED[phase] then
        error(("kargo.promotion_wait: %s/%s: %s: %s"):format(project, name, phase, tostring(st.message or "")), 0)
      end
      return false, "phase " .. phase
    end,
  }
  if ok then return res end
  error(("kargo.promotion_wait: %s/%s: timed out after %gs; last state: %s"):format(project, name, timeout,
    tostring(res)), 0)
end

return M
