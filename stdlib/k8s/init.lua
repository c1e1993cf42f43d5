--- assay.k8s: a Kubernetes client shaped like kubectl. Resources are named as kubectl names
--- them ("deployment", "deploy", "deployments.apps", "apps/v1/Deployment", a CRD's plural),
--- resolved through the built-in table (assay.k8s.resources) or API discovery (cached), so
--- custom resources need no registration.
---
--- local k8s = require("assay.k8s")
--- local c = k8s.client()                        -- in-cluster, else kubeconfig
--- local cm = c:get("configmap", "app", {namespace = "prod"})
--- c:patch("deployment", "web", {spec = {replicas = 3}})   -- merge patch
--- c:apply(obj, {field_manager = "bootstrap"})   -- server-side apply
--- c:wait_ready("deployment", "web", {timeout = 120})
---
--- Submodules, loaded on first use: `k8s.fake` (an API server for tests), `k8s.config`
--- (kubeconfig and in-cluster configuration), `k8s.resources` (the built-in table); the
--- client's resolution of resource names (discovery.lua), watch/logs (stream.lua), wait helpers
--- (wait.lua), manifests (manifests.lua) and secrets/configmaps/events/can_i (objects.lua) live
--- in their own files.

---@class k8s
---@field fake table assay.k8s.fake
---@field config table assay.k8s.config
---@field resources table assay.k8s.resources
local M = {}

local api = require("assay.apiclient")
api.own_source()
local raise = api.raise

---@class k8s.Client
---@field server string the API server's URL
---@field namespace string the default namespace
---@field field_manager string the field manager of apply and of writes
local Client = {}
M._Client = Client

-- Methods defined in submodules, loaded when first called.
local LAZY = {
  resource = "discovery", _resource_of = "discovery",
  watch = "stream", logs = "stream", follow_logs = "stream",
  wait_ready = "wait", wait_for = "wait", wait_deleted = "wait", rollout_status = "wait",
  rollout_restart = "wait",
  apply_yaml = "manifests", apply_file = "manifests", apply_all = "manifests",
  secret_get = "objects", secret_put = "objects", configmap_get = "objects",
  configmap_put = "objects", events = "objects", can_i = "objects",
}

Client.__index = function(_, k)
  local v = rawget(Client, k)
  if v ~= nil then return v end
  local mod = LAZY[k]
  if mod then
    require("assay.k8s." .. mod)
    return rawget(Client, k)
  end
  return nil
end
Client.__tostring = function(self) return "k8s.client(" .. rawget(self, "server") .. ")" end

local CLIENT_OPTIONS = {"server", "token", "namespace", "kubeconfig", "context", "in_cluster",
  "service_account_dir", "ca_cert", "client_cert", "client_key", "insecure", "timeout", "headers",
  "field_manager"}

local function seg(s) return url.encode(tostring(s)) end
M._seg = seg

local decode = api.decode_body

-- the API server's own error text: a Status object's message, else the body's text
local function error_text(body)
  return api.error_text(body, function(d) return d.message end)
end
M._error_text = error_text

--- The error a failed call raises: "k8s.<fname>: <METHOD> <path>: <status> <message>".
---@private
function Client:_fail(fname, method, path, status, body)
  error(("k8s.%s: %s %s: %d %s"):format(fname, method, path, status, error_text(body)), 0)
end

-- Requests ------------------------------------------------------------------------------------

---@class k8s.RequestOptions
---@field query? table
---@field body? table|string a table is sent as JSON
---@field content_type? string
---@field absent_ok? boolean 404 gives nil and the Status instead of raising
---@field gone_ok? boolean 410 Gone (an expired resourceVersion or continue token) gives nil, the Status and 410
---@field stream? boolean return the open response (2xx) instead of its decoded body
---@field timeout? number|false
---@field accept? string

--- Sends one request with the client's credentials (retried once on 401 after refreshing a
--- credential that can be refreshed: a token file, an exec plugin). 2xx: the decoded body (or
--- the open response with `stream`); 404 with `absent_ok`: nil and the Status; else raises.
---@private
function Client:_call(fname, method, path, opts)
  opts = opts or {}
  local headers = {accept = opts.accept or "application/json"}
  local body = opts.body
  if type(body) == "table" then body = json.encode(body) end
  if body ~= nil then headers["content-type"] = opts.content_type or "application/json" end
  local ropts = {query = opts.query, headers = headers, body = body, stream = opts.stream}
  if opts.timeout ~= nil then ropts.timeout = opts.timeout end
  local resp
  for attempt = 1, 2 do
    if self._cert_expires or attempt == 2 then self:_connect(fname, attempt == 2) end
    local token = self._auth.token()
    headers.authorization = token and ("Bearer " .. token) or nil
    local ok, r = pcall(self._http.request, self._http, method, path, ropts)
    if not ok then
      if self._tls_server_name then
        -- http.client checks the certificate against the URL's host: say so when it fails
        r = api.strip_position(r) .. (" (the kubeconfig's tls-server-name %q is not used: the certificate is checked against the server URL's host)")
          :format(self._tls_server_name)
      end
      api.network_error("k8s", fname, r)
    end
    resp = r
    if resp.status ~= 401 or attempt == 2 or not self._auth.refresh() then break end
    if opts.stream then resp:close() end
  end
  local status = resp.status
  if status >= 200 and status < 300 then
    if opts.stream then return resp end
    local d = decode(resp.body)
    if type(d) == "string" then
      error(("k8s.%s: %s %s: %d answer is not JSON: %s"):format(fname, method, path, status,
        error_text(resp.body)), 0)
    end
    return d or {}
  end
  local text = resp.body
  if opts.stream then
    -- an error answer is short: its first 64 KiB say what went wrong
    local parts, size = {}, 0
    pcall(function()
      while size < 65536 do
        local piece = resp:read()
        if piece == nil then break end
        parts[#parts + 1], size = piece, size + #piece
      end
    end)
    text = table.concat(parts)
    resp:close()
  end
  if status == 404 and opts.absent_ok then return nil, decode(text) end
  if status == 410 and opts.gone_ok then return nil, decode(text), 410 end
  self:_fail(fname, method, path, status, text)
end

--- A raw request to the API server: `c:request("GET", "/version")` -> the decoded answer.
--- 2xx gives the decoded body; anything else raises with the server's message.
---@param method string
---@param path string
---@param opts? {query?: table, body?: table|string, content_type?: string, timeout?: number}
---@return table
function Client:request(method, path, opts)
  api.check_name("k8s", "request", 1, "method", method)
  api.check_name("k8s", "request", 2, "path", path)
  opts = api.check_options("k8s", "request", 3, opts, {"query", "body", "content_type", "timeout"})
  return (self:_call("request", method:upper(), path, opts))
end

--- The server's version (`GET /version`): `{major, minor, gitVersion, platform, ...}`.
---@return table
function Client:version() return (self:_call("version", "GET", "/version")) end

--- The namespace a call on r uses: opts.namespace, the object's, then the client's; nil for
--- cluster-scoped resources (as kubectl, a namespace given for them is ignored).
---@private
function Client:_ns(r, opts, obj)
  if not r.namespaced then return nil end
  local ns = opts and opts.namespace
  if ns == nil and obj and obj.metadata then ns = obj.metadata.namespace end
  return ns or self.namespace
end

--- The URL path of a resource, a namespace, an object and a subresource.
---@param r k8s.Resource
---@param ns? string
---@param name? string
---@param sub? string
---@return string
function M.path(r, ns, name, sub)
  local p = r.group == "" and "/api/" .. r.version or "/apis/" .. r.group .. "/" .. r.version
  if r.namespaced and ns then p = p .. "/namespaces/" .. seg(ns) end
  p = p .. "/" .. r.name
  if name then p = p .. "/" .. seg(name) end
  if sub then p = p .. "/" .. sub end
  return p
end
local path = M.path

local function check_opts(fname, argn, opts, allowed) return api.check_options("k8s", fname, argn, opts, allowed) end

-- Verbs ---------------------------------------------------------------------------------------

--- One object (`GET`), or nil and the API's Status when it does not exist.
---@param resource string
---@param name string
---@param opts? {namespace?: string, subresource?: string}
---@return table|nil object
---@return table|nil status
function Client:get(resource, name, opts)
  opts = check_opts("get", 3, opts, {"namespace", "subresource"})
  local r = self:resource(resource, "get", 1)
  api.check_name("k8s", "get", 2, "name", name)
  local p = path(r, self:_ns(r, opts), name, opts.subresource)
  return self:_call("get", "GET", p, {absent_ok = true})
end

local LIST_OPTIONS = {"namespace", "all_namespaces", "label_selector", "field_selector", "limit"}
local MAX_PAGES = 100000

--- Selectors as the API takes them: a string as is, a table {app = "web"} as "app=web" (sorted).
local function selector(fname, argn, field, v)
  if v == nil or type(v) == "string" then return v end
  if type(v) ~= "table" then
    raise(("k8s.%s: bad argument #%d 'opts' (field '%s': string or table expected, got %s)")
      :format(fname, argn, field, type(v)))
  end
  local parts = {}
  for k, x in pairs(v) do parts[#parts + 1] = tostring(k) .. "=" .. tostring(x) end
  table.sort(parts)
  return table.concat(parts, ",")
end
M._selector = selector

--- The list query of opts (selectors), checked.
---@private
function Client:_list_query(fname, argn, opts)
  return {labelSelector = selector(fname, argn, "label_selector", opts.label_selector),
    fieldSelector = selector(fname, argn, "field_selector", opts.field_selector)}
end

--- Every object of a resource (`GET` on the collection), pages of `limit` (default 500)
--- followed for you: a list `{apiVersion, kind, metadata, items}`. A continue token that
--- expires midway (410) restarts the list whole, as client-go's pager does.
---@param resource string
---@param opts? {namespace?: string, all_namespaces?: boolean, label_selector?: string|table, field_selector?: string|table, limit?: integer}
---@return table
function Client:list(resource, opts)
  opts = check_opts("list", 2, opts, LIST_OPTIONS)
  local r = self:resource(resource, "list", 1)
  local ns = (not opts.all_namespaces) and self:_ns(r, opts) or nil
  local p = path(r, ns)
  local q = self:_list_query("list", 2, opts)
  local limit = opts.limit or 500
  if math.type(limit) ~= "integer" or limit < 1 then
    raise(("k8s.list: bad argument #2 'opts' (field 'limit': positive integer expected, got %s)"):format(tostring(limit)))
  end
  q.limit = limit
  local items, first = {}, nil
  local restarted = false
  for _ = 1, MAX_PAGES do
    local page = self:_call("list", "GET", p, {query = q, gone_ok = q["continue"] ~= nil and not restarted})
    if page == nil then
      -- the continue token expired (410): the whole list again, once
      restarted, items, first, q["continue"] = true, {}, nil, nil
    else
      first = first or page
      for _, it in ipairs(page.items or {}) do items[#items + 1] = it end
      local cont = page.metadata and page.metadata["continue"]
      if cont == nil or cont == "" then
        first.metadata = page.metadata or {}
        first.metadata["continue"] = nil
        break
      end
      q["continue"] = cont
    end
  end
  first.items = json.array(items)
  if first.kind == nil then first.kind = r.kind .. "List" end
  return first
end

-- the write options every write takes
local function write_query(opts)
  return {fieldManager = opts.field_manager, dryRun = opts.dry_run and "All" or nil}
end

--- Creates an object (`POST` on its collection); returns what the server stored. 409 if it
--- exists.
---@param obj table with apiVersion, kind, metadata
---@param opts? {namespace?: string, field_manager?: string, dry_run?: boolean}
---@return table
function Client:create(obj, opts)
  opts = check_opts("create", 2, opts, {"namespace", "field_manager", "dry_run"})
  local r = self:_resource_of("create", obj, 1)
  local p = path(r, self:_ns(r, opts, obj))
  return (self:_call("create", "POST", p, {body = obj, query = write_query(opts)}))
end

--- Replaces an object (`PUT`); with metadata.resourceVersion set, a concurrent change makes it
--- fail with 409 Conflict (read, change, replace again).
---@param obj table
---@param opts? {namespace?: string, field_manager?: string, dry_run?: boolean, subresource?: string}
---@return table
function Client:replace(obj, opts)
  opts = check_opts("replace", 2, opts, {"namespace", "field_manager", "dry_run", "subresource"})
  local r = self:_resource_of("replace", obj, 1)
  api.check_name("k8s", "replace", 1, "object.metadata.name", obj.metadata.name)
  local p = path(r, self:_ns(r, opts, obj), obj.metadata.name, opts.subresource)
  return (self:_call("replace", "PUT", p, {body = obj, query = write_query(opts)}))
end

local PATCH_TYPES = {
  merge = "application/merge-patch+json",
  json = "application/json-patch+json",
  strategic = "application/strategic-merge-patch+json",
}

--- Patches an object (`PATCH`): a JSON merge patch by default (`application/merge-patch+json`,
--- what `kubectl patch --type merge` sends), `type = "json"` for a JSON patch (a list of
--- operations), `type = "strategic"` for a strategic merge patch (built-in kinds only). The
--- patch is a table (sent as JSON) or JSON text.
---@param resource string
---@param name string
---@param patch table|string
---@param opts? {namespace?: string, type?: "merge"|"json"|"strategic", subresource?: string, field_manager?: string, dry_run?: boolean}
---@return table
function Client:patch(resource, name, patch, opts)
  opts = check_opts("patch", 4, opts, {"namespace", "type", "subresource", "field_manager", "dry_run"})
  local r = self:resource(resource, "patch", 1)
  api.check_name("k8s", "patch", 2, "name", name)
  if type(patch) ~= "table" and type(patch) ~= "string" then
    raise(("k8s.patch: bad argument #3 'patch' (table or string expected, got %s)"):format(type(patch)))
  end
  local ptype = opts.type or "merge"
  local ct = PATCH_TYPES[ptype]
  if not ct then
    raise(("k8s.patch: bad argument #4 'opts' (field 'type': merge, json or strategic expected, got %q)"):format(tostring(ptype)))
  end
  if ptype == "json" and type(patch) == "table" then patch = json.encode(json.array(patch)) end
  local p = path(r, self:_ns(r, opts), name, opts.subresource)
  return (self:_call("patch", "PATCH", p, {body = patch, content_type = ct, query = write_query(opts)}))
end

--- Server-side apply (`PATCH` with `application/apply-patch+yaml`): the server merges the
--- fields `obj` sets, owned by `field_manager` (default the client's, "assay"); `force = true`
--- takes fields another manager owns instead of failing with 409. Creates the object when it
--- does not exist. Returns what the server stored.
---@param obj table
---@param opts? {namespace?: string, field_manager?: string, force?: boolean, dry_run?: boolean, subresource?: string}
---@return table
function Client:apply(obj, opts)
  opts = check_opts("apply", 2, opts, {"namespace", "field_manager", "force", "dry_run", "subresource"})
  local r = self:_resource_of("apply", obj, 1)
  api.check_name("k8s", "apply", 1, "object.metadata.name", obj.metadata.name)
  local p = path(r, self:_ns(r, opts, obj), obj.metadata.name, opts.subresource)
  local q = {fieldManager = opts.field_manager or self.field_manager, force = opts.force and "true" or nil,
    dryRun = opts.dry_run and "All" or nil}
  return (self:_call("apply", "PATCH", p, {body = obj, content_type = "application/apply-patch+yaml", query = q}))
end

local POLICIES = {Background = true, Foreground = true, Orphan = true}

local function delete_body(fname, argn, opts)
  local policy = opts.propagation_policy or "Background"
  if not POLICIES[policy] then
    raise(("k8s.%s: bad argument #%d 'opts' (field 'propagation_policy': Background, Foreground or Orphan expected, got %q)")
      :format(fname, argn, tostring(policy)))
  end
  local grace = opts.grace_period
  if grace ~= nil and (math.type(grace) ~= "integer" or grace < 0) then
    raise(("k8s.%s: bad argument #%d 'opts' (field 'grace_period': non-negative integer seconds expected, got %s)")
      :format(fname, argn, tostring(grace)))
  end
  return {kind = "DeleteOptions", apiVersion = "v1", propagationPolicy = policy, gracePeriodSeconds = grace,
    dryRun = opts.dry_run and {"All"} or nil}
end

--- Deletes an object (`DELETE`, propagation Background as kubectl's default). Returns the
--- server's answer (the object, or a Status), or nil and the Status when there was nothing to
--- delete.
---@param resource string
---@param name string
---@param opts? {namespace?: string, propagation_policy?: "Background"|"Foreground"|"Orphan", grace_period?: integer, dry_run?: boolean}
---@return table|nil
---@return table|nil status
function Client:delete(resource, name, opts)
  opts = check_opts("delete", 3, opts, {"namespace", "propagation_policy", "grace_period", "dry_run"})
  local r = self:resource(resource, "delete", 1)
  api.check_name("k8s", "delete", 2, "name", name)
  local p = path(r, self:_ns(r, opts), name)
  return self:_call("delete", "DELETE", p, {body = delete_body("delete", 3, opts), absent_ok = true})
end

--- Deletes every object of a resource that the selectors match (`DELETE` on the collection);
--- returns the server's answer.
---@param resource string
---@param opts? {namespace?: string, label_selector?: string|table, field_selector?: string|table, propagation_policy?: string, grace_period?: integer, dry_run?: boolean}
---@return table
function Client:delete_collection(resource, opts)
  opts = check_opts("delete_collection", 2, opts, {"namespace", "label_selector", "field_selector",
    "propagation_policy", "grace_period", "dry_run"})
  local r = self:resource(resource, "delete_collection", 1)
  local p = path(r, self:_ns(r, opts))
  return (self:_call("delete_collection", "DELETE", p, {query = self:_list_query("delete_collection", 2, opts),
    body = delete_body("delete_collection", 2, opts)}))
end

--- The `status` subresource of an object, or nil when it does not exist.
---@param resource string
---@param name string
---@param opts? {namespace?: string}
---@return table|nil
function Client:get_status(resource, name, opts)
  return self:_get_sub("get_status", "status", resource, name, opts)
end

-- get_status and get_scale: GET of a subresource
function Client:_get_sub(fname, sub, resource, name, opts)
  opts = check_opts(fname, 3, opts, {"namespace"})
  local r = self:resource(resource, fname, 1)
  api.check_name("k8s", fname, 2, "name", name)
  return self:_call(fname, "GET", path(r, self:_ns(r, opts), name, sub), {absent_ok = true})
end

--- Replaces an object's status (`PUT .../status`), as a controller does; returns the object.
---@param obj table
---@param opts? {namespace?: string, field_manager?: string}
---@return table
function Client:replace_status(obj, opts)
  opts = check_opts("replace_status", 2, opts, {"namespace", "field_manager"})
  local r = self:_resource_of("replace_status", obj, 1)
  api.check_name("k8s", "replace_status", 1, "object.metadata.name", obj.metadata.name)
  local p = path(r, self:_ns(r, opts, obj), obj.metadata.name, "status")
  return (self:_call("replace_status", "PUT", p, {body = obj, query = write_query(opts)}))
end

--- The `scale` subresource (an autoscaling/v1 Scale: spec.replicas, status.replicas,
--- status.selector), or nil when the object does not exist.
---@param resource string
---@param name string
---@param opts? {namespace?: string}
---@return table|nil
function Client:get_scale(resource, name, opts)
  return self:_get_sub("get_scale", "scale", resource, name, opts)
end

--- Sets the replicas of a Deployment, StatefulSet, ReplicaSet or a CRD with a scale
--- subresource (`PATCH .../scale` with a merge patch, as `kubectl scale` does); returns the Scale.
---@param resource string
---@param name string
---@param replicas integer
---@param opts? {namespace?: string}
---@return table
function Client:scale(resource, name, replicas, opts)
  opts = check_opts("scale", 4, opts, {"namespace"})
  local r = self:resource(resource, "scale", 1)
  api.check_name("k8s", "scale", 2, "name", name)
  if math.type(replicas) ~= "integer" or replicas < 0 then
    raise(("k8s.scale: bad argument #3 'replicas' (non-negative integer expected, got %s)"):format(tostring(replicas)))
  end
  local p = path(r, self:_ns(r, opts), name, "scale")
  return (self:_call("scale", "PATCH", p, {body = {spec = {replicas = replicas}},
    content_type = PATCH_TYPES.merge}))
end

-- Constructor ---------------------------------------------------------------------------------

-- credentials given directly: a fixed token (or none)
local function static_auth(token)
  return {token = function() return token end, refresh = function() return false end}
end

-- credentials from the configuration (assay.k8s.config's token source): a token file re-read,
-- an exec plugin's token or client certificate; refreshed on a 401 when they can be
local function config_auth(config, cfg)
  local source = config.token_source(cfg)
  local function ask(f)
    local ok, v = pcall(f)
    if not ok then error("k8s: " .. api.strip_position(v):gsub("^k8s%.config%.token_source: ", ""), 0) end
    return v
  end
  return {
    token = function() return ask(source) end,
    refresh = function()
      if cfg.token_file == nil and cfg.exec == nil then return false end
      source.invalidate()
      return true
    end,
    -- the exec plugin's client certificate, when it gives one: {client_cert, client_key, expires_at}
    certificate = function()
      if cfg.exec == nil or cfg.client_cert ~= nil then return nil end
      local cred = ask(source.credential)
      if cred and cred.client_cert then return cred end
      return nil
    end,
  }
end

---@class k8s.ClientOptions
---@field server? string the API server's URL; given, no kubeconfig is read
---@field token? string a bearer token (with `server`)
---@field namespace? string the default namespace (default: the context's, the service account's, "default")
---@field kubeconfig? string|string[] kubeconfig file(s) (default: $KUBECONFIG, then ~/.kube/config)
---@field context? string a kubeconfig context (default: its current-context)
---@field in_cluster? boolean true: only the service account; false: only kubeconfig; nil: in-cluster when there
---@field service_account_dir? string default /var/run/secrets/kubernetes.io/serviceaccount
---@field ca_cert? string PEM text or path, replacing the configuration's
---@field client_cert? string PEM text or path
---@field client_key? string PEM text or path
---@field insecure? boolean skip TLS verification
---@field timeout? number|false seconds for each request (default 60)
---@field headers? table<string,string> extra headers on every request
---@field field_manager? string the field manager of apply (default "assay")

--- Creates a client: with `server`, for that URL and `token`; otherwise from the in-cluster
--- service account when running in a pod, else from kubeconfig (see README "Configuration").
--- Nothing is sent until a call.
---@param opts? k8s.ClientOptions
---@return k8s.Client
function M.client(opts)
  opts = check_opts("client", 1, opts, CLIENT_OPTIONS)
  for _, k in ipairs{"server", "token", "namespace", "context", "field_manager", "service_account_dir"} do
    api.check_field("k8s", "client", 1, k, opts[k], "string")
  end
  local cfg, auth
  if opts.server then
    cfg = {server = opts.server, namespace = "default", source = "options"}
    auth = static_auth(opts.token)
  else
    local config = require("assay.k8s.config")
    local ok, c = pcall(config.load, {kubeconfig = opts.kubeconfig, context = opts.context,
      in_cluster = opts.in_cluster, service_account_dir = opts.service_account_dir})
    if not ok then raise("k8s.client: " .. api.strip_position(c):gsub("^k8s%.config%.load: ", "")) end
    cfg = c
    if opts.token then auth = static_auth(opts.token) else auth = config_auth(config, cfg) end
  end
  local parts = api.split_url(cfg.server)
  if not parts then
    raise(("k8s.client: bad server (an http(s) URL expected, got %q)"):format(api.mask_url(tostring(cfg.server))))
  end
  local base = tostring(cfg.server):gsub("/+$", "")
  local headers = {}
  for k, v in pairs(opts.headers or {}) do headers[k] = v end
  local hopts = {base_url = base, headers = headers, timeout = opts.timeout, proxy = cfg.proxy_url}
  hopts.ca_cert = opts.ca_cert or cfg.ca_cert
  hopts.client_cert = opts.client_cert or cfg.client_cert
  hopts.client_key = opts.client_key or cfg.client_key
  if opts.insecure ~= nil then hopts.insecure = opts.insecure else hopts.insecure = cfg.insecure or nil end
  if cfg.username and cfg.password and not opts.token then
    headers.authorization = "Basic " .. base64.encode(cfg.username .. ":" .. cfg.password)
  end
  local self = setmetatable({server = base, namespace = opts.namespace or cfg.namespace or "default",
    field_manager = opts.field_manager or "assay", context = cfg.context, source = cfg.source,
    _auth = auth, _hopts = hopts, _discovery = {lists = {}}, _tls_server_name = cfg.tls_server_name}, Client)
  if not opts.client_cert then self:_connect("client") end
  if not self._http then
    local hok, hc = pcall(http.client, hopts)
    if not hok then raise("k8s.client: " .. api.strip_position(hc)) end
    self._http = hc
  end
  return self
end

--- (Re)builds the HTTP client with the exec plugin's client certificate, when it gives one and
--- the one in use is missing, has expired, or was refused (`force`, after a 401).
---@private
function Client:_connect(fname, force)
  local get = self._auth.certificate
  if not get then return end
  if self._http and not force and not (self._cert_expires and time() >= self._cert_expires) then return end
  local cred = get()
  if not cred then return end
  local hopts = {}
  for k, v in pairs(self._hopts) do hopts[k] = v end
  hopts.client_cert, hopts.client_key = cred.client_cert, cred.client_key
  local hok, hc = pcall(http.client, hopts)
  if not hok then raise(("k8s.%s: %s"):format(fname, api.strip_position(hc))) end
  self._http, self._cert_expires = hc, cred.expires_at
end

-- Set apart from the `return`: a checker reads `return setmetatable(M, ...)` as returning the
-- metatable's type and loses the `k8s` class (emmylua_check: "Undefined field `client`").
setmetatable(M, {__index = function(t, k)
  if k == "fake" or k == "config" or k == "resources" then
    local v = require("assay.k8s." .. k)
    rawset(t, k, v)
    return v
  end
  return nil
end})
return M
