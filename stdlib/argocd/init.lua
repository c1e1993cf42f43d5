--- assay.argocd: a client for the Argo CD API server (the REST side of its gRPC gateway).
---
--- API reference followed: https://argo-cd.readthedocs.io/en/stable/developer-guide/api-docs/
--- (the server's Swagger: https://github.com/argoproj/argo-cd/blob/master/assets/swagger.json)
---
--- local argocd = require("assay.argocd")
--- local c = argocd.client{url = "https://argocd.example.com", token = env.get("ARGOCD_AUTH_TOKEN")}
--- c:app_sync("web", {prune = true})
--- local app = c:app_wait("web", {health = "Healthy", sync = "Synced", timeout = 300})

---@class argocd
local M = {}

---@class argocd.Client
---@field url string the server's base URL (without credentials)
local Client = {}
Client.__index = Client
Client.__tostring = function(self) return "argocd.client(" .. rawget(self, "url") .. ")" end

local DEFAULT_URL = "http://localhost:8080"
local CLIENT_OPTIONS = { "url", "token", "username", "password", "timeout", "ca_cert", "insecure", "headers" }

local api = require("assay.apiclient")
api.own_source()
local raise = api.raise

local function decode(resp) return api.decode_body(resp.body) end

-- Argo CD's own error text: the gateway's {"error", "code", "message"}, else the body's text.
local function error_text(resp)
  return api.error_text(resp.body, function(d) return d.message or d.error end)
end

local function seg(s) return url.encode(tostring(s)) end

local function check_name(fname, argn, argname, v)
  api.check_name("argocd", fname, argn, argname, v)
end

local function check_field(fname, argn, name, v, want)
  api.check_field("argocd", fname, argn, name, v, want)
end

-- Requests ------------------------------------------------------------------------------------

---@private
function Client:_send(fname, method, path, opts)
  opts = opts or {}
  local headers
  if self._token then headers = { authorization = "Bearer " .. self._token } end
  local ropts = { query = opts.query, headers = headers }
  if opts.body ~= nil then ropts.body = opts.body end
  if opts.timeout ~= nil then ropts.timeout = opts.timeout end
  local ok, resp = pcall(self._http.request, self._http, method, self._prefix .. path, ropts)
  if not ok then api.network_error("argocd", fname, resp) end
  return resp
end

---@private
function Client:_fail(fname, method, path, resp)
  error(("argocd.%s: %s %s: %d %s"):format(fname, method, path, resp.status, error_text(resp)), 0)
end

-- One call (logging in first when a username is set and no session is held): 2xx -> the
-- decoded body; 404 when `absent_ok` -> nil, the decoded body; else raises.
---@private
function Client:_call(fname, method, path, opts)
  opts = opts or {}
  if not self._token and self._username then self:login() end
  local resp = self:_send(fname, method, path, opts)
  if resp.status >= 200 and resp.status < 300 then
    local body = decode(resp)
    if type(body) == "string" then
      error(("argocd.%s: %s %s: %d answer is not JSON: %s"):format(fname, method, path, resp.status,
        error_text(resp)), 0)
    end
    return body or {}
  end
  if resp.status == 404 and opts.absent_ok then return nil, decode(resp) end
  self:_fail(fname, method, path, resp)
end

-- Constructor ---------------------------------------------------------------------------------

---@class argocd.ClientOptions
---@field url? string base URL of the Argo CD server (default: $ARGOCD_URL, then https://$ARGOCD_SERVER, then http://localhost:8080); a path is kept as a prefix
---@field token? string an API token or session token, sent as a bearer token (default: $ARGOCD_AUTH_TOKEN)
---@field username? string log in with `POST /api/v1/session` on first use (default: $ARGOCD_USERNAME)
---@field password? string the password for `username` (default: $ARGOCD_PASSWORD)
---@field timeout? number|false seconds for each request
---@field ca_cert? string PEM file path or PEM text added to the system roots
---@field insecure? boolean skip TLS verification
---@field headers? table<string,string> extra headers sent with every request

--- Creates a client; one pooled HTTP client per Argo CD client. Nothing is sent until a call.
---@param opts? argocd.ClientOptions
---@return argocd.Client
function M.client(opts)
  opts = api.check_options("argocd", "client", 1, opts, CLIENT_OPTIONS)
  for _, k in ipairs { "url", "token", "username", "password" } do check_field("client", 1, k, opts[k], "string") end
  local server = api.env("ARGOCD_SERVER")
  if server and not server:match("^https?://") then server = "https://" .. server end
  local raw = opts.url or api.env("ARGOCD_URL") or server or DEFAULT_URL
  local parts = api.split_url(raw)
  if not parts then
    raise(("argocd.client: bad url (an http(s) URL expected, got %q)"):format(api.mask_url(raw)))
  end
  local prefix = (parts.path or ""):gsub("/+$", "")
  parts.path, parts.query, parts.fragment = nil, nil, nil
  local base = url.build(parts):gsub("/+$", "")
  local token = opts.token
  local username, password = opts.username, opts.password
  if token == nil and username == nil then
    username = api.env("ARGOCD_USERNAME")
    if username then password = password or api.env("ARGOCD_PASSWORD") else token = api.env("ARGOCD_AUTH_TOKEN") end
  end
  local headers = { accept = "application/json" }
  for k, v in pairs(opts.headers or {}) do headers[k] = v end
  local hopts = { base_url = base, headers = headers }
  if opts.timeout ~= nil then hopts.timeout = opts.timeout end
  if opts.ca_cert ~= nil then hopts.ca_cert = opts.ca_cert end
  if opts.insecure ~= nil then hopts.insecure = opts.insecure end
  local hok, hc = pcall(http.client, hopts)
  if not hok then raise("argocd.client: " .. api.strip_position(hc)) end
  return setmetatable({ url = base .. prefix, _http = hc, _prefix = prefix, _token = token,
    _username = username, _password = password or "" }, Client)
end

-- Session -------------------------------------------------------------------------------------

--- Logs in with the client's username and password (`POST /api/v1/session`); the session token
--- is then sent with every request. Called on first use when a username was given.
---@return true
function Client:login()
  if not self._username then
    raise("argocd.login: no username (give username and password to argocd.client)")
  end
  local resp = self:_send("login", "POST", "/api/v1/session",
    { body = { username = self._username, password = self._password } })
  if resp.status ~= 200 then self:_fail("login", "POST", "/api/v1/session", resp) end
  local body = decode(resp)
  if type(body) ~= "table" or type(body.token) ~= "string" then
    error(("argocd.login: POST /api/v1/session: %d answer has no token"):format(resp.status), 0)
  end
  self._token = body.token
  return true
end

--- The logged-in user (`GET /api/v1/session/userinfo`): `{loggedIn, username, iss, groups}`.
---@return table
function Client:userinfo()
  return (self:_call("userinfo", "GET", "/api/v1/session/userinfo"))
end

-- Applications --------------------------------------------------------------------------------

---@class argocd.ListOptions
---@field project? string|string[] only applications of these projects
---@field selector? string a label selector, e.g. "team=web"
---@field repo? string only applications of this repository URL
---@field app_namespace? string the namespace the Application objects live in

--- Applications (`GET /api/v1/applications`): the list's `items` (an empty table when none).
---@param opts? argocd.ListOptions
---@return table[]
function Client:applications(opts)
  opts = api.check_options("argocd", "applications", 1, opts, { "project", "selector", "repo", "app_namespace" })
  local q = {}
  if opts.project ~= nil then q.projects = opts.project end
  q.selector, q.repo, q.appNamespace = opts.selector, opts.repo, opts.app_namespace
  local body = self:_call("applications", "GET", "/api/v1/applications", { query = q })
  return body.items or {}
end

---@class argocd.GetOptions
---@field refresh? "normal"|"hard" ask the server to refresh the application first (hard also regenerates manifests)
---@field app_namespace? string the namespace the Application object lives in
---@field project? string the application's project

--- One application (`GET /api/v1/applications/{name}`), or nil and Argo CD's answer when absent.
---@param name string
---@param opts? argocd.GetOptions
---@return table|nil app
---@return table|nil err
function Client:app_get(name, opts)
  check_name("app_get", 1, "name", name)
  opts = api.check_options("argocd", "app_get", 2, opts, { "refresh", "app_namespace", "project" })
  if opts.refresh ~= nil and opts.refresh ~= "normal" and opts.refresh ~= "hard" then
    raise(("argocd.app_get: bad argument #2 'opts' (field 'refresh': \"normal\" or \"hard\" expected, got %s)"):format(
      tostring(opts.refresh)))
  end
  local q = { refresh = opts.refresh, appNamespace = opts.app_namespace, project = opts.project }
  return self:_call("app_get", "GET", "/api/v1/applications/" .. seg(name), { query = q, absent_ok = true })
end

--- Creates an application (`POST /api/v1/applications`); returns the created Application.
---@param app table an Application: `{metadata = {name}, spec = {project, source, destination, ...}}`
---@param opts? {upsert?: boolean, validate?: boolean}
---@return table
function Client:app_create(app, opts)
  if type(app) ~= "table" or type(app.metadata) ~= "table" or type(app.metadata.name) ~= "string" then
    raise(("argocd.app_create: bad argument #1 'app' (an Application with metadata.name expected, got %s)"):format(
      type(app)))
  end
  opts = api.check_options("argocd", "app_create", 2, opts, { "upsert", "validate" })
  check_field("app_create", 2, "upsert", opts.upsert, "boolean")
  check_field("app_create", 2, "validate", opts.validate, "boolean")
  local q = {}
  if opts.upsert ~= nil then q.upsert = tostring(opts.upsert) end
  if opts.validate ~= nil then q.validate = tostring(opts.validate) end
  local body = {}
  for k, v in pairs(app) do body[k] = v end
  body.apiVersion = body.apiVersion or "argoproj.io/v1alpha1"
  body.kind = body.kind or "Application"
  return (self:_call("app_create", "POST", "/api/v1/applications", { query = q, body = body }))
end

--- Deletes an application (`DELETE /api/v1/applications/{name}`): true, or nil and Argo CD's
--- answer when absent.
---@param name string
---@param opts? {cascade?: boolean, propagation_policy?: "foreground"|"background", app_namespace?: string}
---@return true|nil
---@return table|nil err
function Client:app_delete(name, opts)
  check_name("app_delete", 1, "name", name)
  opts = api.check_options("argocd", "app_delete", 2, opts, { "cascade", "propagation_policy", "app_namespace" })
  check_field("app_delete", 2, "cascade", opts.cascade, "boolean")
  local q = { propagationPolicy = opts.propagation_policy, appNamespace = opts.app_namespace }
  if opts.cascade ~= nil then q.cascade = tostring(opts.cascade) end
  local body, err = self:_call("app_delete", "DELETE", "/api/v1/applications/" .. seg(name),
    { query = q, absent_ok = true })
  if body == nil then return nil, err end
  return true
end

---@class argocd.SyncOptions
---@field revision? string the revision (Git) or chart version to sync to (default: the spec's)
---@field prune? boolean delete resources no longer in Git
---@field dry_run? boolean only show what would happen
---@field sync_options? string[] e.g. {"CreateNamespace=true"}
---@field app_namespace? string

--- Starts a sync (`POST /api/v1/applications/{name}/sync`); returns the Application with its
--- `operation`. Wait for its outcome with `app_wait`.
---@param name string
---@param opts? argocd.SyncOptions
---@return table
function Client:app_sync(name, opts)
  check_name("app_sync", 1, "name", name)
  opts = api.check_options("argocd", "app_sync", 2, opts, { "revision", "prune", "dry_run", "sync_options", "app_namespace" })
  check_field("app_sync", 2, "revision", opts.revision, "string")
  check_field("app_sync", 2, "prune", opts.prune, "boolean")
  check_field("app_sync", 2, "dry_run", opts.dry_run, "boolean")
  check_field("app_sync", 2, "sync_options", opts.sync_options, "table")
  local body = { name = name, revision = opts.revision, prune = opts.prune, dryRun = opts.dry_run,
    appNamespace = opts.app_namespace }
  if opts.sync_options then body.syncOptions = { items = opts.sync_options } end
  return (self:_call("app_sync", "POST", "/api/v1/applications/" .. seg(name) .. "/sync", { body = body }))
end

--- Rolls back to a deployment of the application's history (`POST .../rollback`; the id is one of
--- `status.history[].id`); returns the Application.
---@param name string
---@param id integer a history id
---@param opts? {prune?: boolean, dry_run?: boolean, app_namespace?: string}
---@return table
function Client:app_rollback(name, id, opts)
  check_name("app_rollback", 1, "name", name)
  if math.type(id) ~= "integer" then
    raise(("argocd.app_rollback: bad argument #2 'id' (integer expected, got %s)"):format(
      math.type(id) or type(id)))
  end
  opts = api.check_options("argocd", "app_rollback", 3, opts, { "prune", "dry_run", "app_namespace" })
  local body = { name = name, id = id, prune = opts.prune, dryRun = opts.dry_run, appNamespace = opts.app_namespace }
  return (self:_call("app_rollback", "POST", "/api/v1/applications/" .. seg(name) .. "/rollback", { body = body }))
end

--- The application's resource tree (`GET /api/v1/applications/{name}/resource-tree`):
--- `{nodes = {...}, orphanedNodes, hosts}`, or nil and Argo CD's answer when absent.
---@param name string
---@param opts? {app_namespace?: string}
---@return table|nil
---@return table|nil err
function Client:app_resource_tree(name, opts)
  check_name("app_resource_tree", 1, "name", name)
  opts = api.check_options("argocd", "app_resource_tree", 2, opts, { "app_namespace" })
  return self:_call("app_resource_tree", "GET", "/api/v1/applications/" .. seg(name) .. "/resource-tree",
    { query = { appNamespace = opts.app_namespace }, absent_ok = true })
end

local function app_state(app)
  local st = type(app) == "table" and app.status or {}
  local op = st.operationState
  return (st.health or {}).status, (st.sync or {}).status, op and op.phase
end

---@class argocd.WaitOptions
---@field health? string|false the health to wait for (default "Healthy"; false: any)
---@field sync? string|false the sync status to wait for (default "Synced"; false: any)
---@field timeout? number seconds (default 60)
---@field interval? number seconds between polls (default 1)
---@field app_namespace? string

--- Waits until the application has the health and sync status asked for and no operation is
--- running, polling `GET /api/v1/applications/{name}`; returns the Application. A timeout
--- raises with the last state seen; a sync operation that Failed or Errored raises at once.
---@param name string
---@param opts? argocd.WaitOptions
---@return table
function Client:app_wait(name, opts)
  check_name("app_wait", 1, "name", name)
  opts = api.check_options("argocd", "app_wait", 2, opts, { "health", "sync", "timeout", "interval", "app_namespace" })
  local timeout, interval = api.wait_times("argocd", "app_wait", 2, opts)
  local want_health, want_sync = opts.health, opts.sync
  if want_health == nil then want_health = "Healthy" end
  if want_sync == nil then want_sync = "Synced" end
  local path = "/api/v1/applications/" .. seg(name)
  local ok, res = api.poll {
    timeout = timeout, interval = interval,
    try = function(limit)
      local resp = self:_send("app_wait", "GET", path, { query = { appNamespace = opts.app_namespace }, timeout = limit })
      if resp.status == 404 then return false, "not found" end
      if resp.status ~= 200 then self:_fail("app_wait", "GET", path, resp) end
      local app = decode(resp)
      local h, s, phase = app_state(app)
      if phase == "Failed" or phase == "Error" then
        local msg = app.status.operationState.message or ""
        error(("argocd.app_wait: %s: operation %s: %s"):format(name, phase, msg), 0)
      end
      local state = ("health %s, sync %s, operation %s"):format(tostring(h), tostring(s), tostring(phase or "none"))
      if (not want_health or h == want_health) and (not want_sync or s == want_sync)
          and phase ~= "Running" and phase ~= "Terminating" then
        return true, app
      end
      return false, state
    end,
  }
  if ok then return res end
  error(("argocd.app_wait: %s: timed out after %gs; last state: %s"):format(name, timeout, tostring(res)), 0)
end

-- Projects ------------------------------------------------------------------------------------

--- Projects (`GET /api/v1/projects`): the list's `items`.
---@return table[]
function Client:projects()
  return self:_call("projects", "GET", "/api/v1/projects").items or {}
end

--- One project (`GET /api/v1/projects/{name}`), or nil and Argo CD's answer when absent.
---@param name string
---@return table|nil
---@return table|nil err
function Client:project_get(name)
  check_name("project_get", 1, "name", name)
  return self:_call("project_get", "GET", "/api/v1/projects/" .. seg(name), { absent_ok = true })
end

return M
