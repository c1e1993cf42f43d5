--- assay.k8s.objects: conveniences over the verbs for what scripts do most: secrets and
--- configmaps as plain tables, an object's events, and `can_i`. Loaded by assay.k8s on first use.

local k8s = require("assay.k8s")
local Client = k8s._Client
local api = require("assay.apiclient")
api.own_source()
local raise = api.raise

-- Secrets and configmaps ------------------------------------------------------------------------

--- A secret's values, base64-decoded (`data`, with `stringData` never stored by the server),
--- and the Secret; nil and the Status when it does not exist.
---@param name string
---@param opts? {namespace?: string}
---@return table<string, string>|nil values
---@return table secret_or_status
function Client:secret_get(name, opts)
  opts = api.check_options("k8s", "secret_get", 2, opts, {"namespace"})
  api.check_name("k8s", "secret_get", 1, "name", name)
  local s, st = self:get("secrets", name, opts)
  if not s then return nil, st end
  local values = {}
  for k, v in pairs(s.data or {}) do
    local ok, decoded = pcall(base64.decode, v)
    if not ok then
      error(("k8s.secret_get: secret %s/%s: key %q is not base64"):format(s.metadata.namespace, name, k), 0)
    end
    values[k] = decoded
  end
  return values, s
end

local function check_values(fname, v)
  if type(v) ~= "table" then
    raise(("k8s.%s: bad argument #2 'values' (table expected, got %s)"):format(fname, type(v)))
  end
  for k, x in pairs(v) do
    if type(k) ~= "string" or type(x) ~= "string" then
      raise(("k8s.%s: bad argument #2 'values' (string keys and string values expected, got %s = %s)")
        :format(fname, type(k), type(x)))
    end
    if not k:match("^[%w%-_.]+$") or #k > 253 then
      raise(("k8s.%s: bad argument #2 'values' (key %q is not a valid key: letters, digits, '-', '_', '.')")
        :format(fname, k))
    end
  end
end

local PUT_OPTIONS = {"namespace", "type", "labels", "annotations", "field_manager", "force"}
local CONFIGMAP_OPTIONS = {"namespace", "labels", "annotations", "field_manager", "force"}

-- secret_put and configmap_put: the object with `data` (each value through encode), applied
local function put(self, fname, kind, name, values, opts, allowed, encode)
  opts = api.check_options("k8s", fname, 3, opts, allowed)
  api.check_name("k8s", fname, 1, "name", name)
  check_values(fname, values)
  local data = {}
  for k, v in pairs(values) do data[k] = encode(v) end
  local obj = {apiVersion = "v1", kind = kind, type = opts.type, data = json.object(data),
    metadata = {name = name, namespace = opts.namespace, labels = opts.labels, annotations = opts.annotations}}
  return self:apply(obj, {field_manager = opts.field_manager, force = opts.force ~= false})
end

--- Creates or updates a secret holding exactly `values` (strings, base64-encoded for you), by
--- server-side apply: keys this field manager set before and `values` lacks are removed; keys
--- other managers own are kept. Returns the Secret.
---@param name string
---@param values table<string, string>
---@param opts? {namespace?: string, type?: string, labels?: table, annotations?: table, field_manager?: string, force?: boolean}
---@return table
function Client:secret_put(name, values, opts)
  return put(self, "secret_put", "Secret", name, values, opts, PUT_OPTIONS, base64.encode)
end

--- A configmap's `data` and the ConfigMap; nil and the Status when it does not exist.
---@param name string
---@param opts? {namespace?: string}
---@return table<string, string>|nil data
---@return table configmap_or_status
function Client:configmap_get(name, opts)
  opts = api.check_options("k8s", "configmap_get", 2, opts, {"namespace"})
  api.check_name("k8s", "configmap_get", 1, "name", name)
  local cm, st = self:get("configmaps", name, opts)
  if not cm then return nil, st end
  return cm.data or {}, cm
end

--- Creates or updates a configmap holding exactly `data`, by server-side apply (as
--- `secret_put`). Returns the ConfigMap.
---@param name string
---@param data table<string, string>
---@param opts? {namespace?: string, labels?: table, annotations?: table, field_manager?: string, force?: boolean}
---@return table
function Client:configmap_put(name, data, opts)
  return put(self, "configmap_put", "ConfigMap", name, data, opts, CONFIGMAP_OPTIONS, function(v) return v end)
end

-- Events ----------------------------------------------------------------------------------------

local function event_time(e)
  return e.lastTimestamp or e.eventTime or (e.series and e.series.lastObservedTime)
    or e.firstTimestamp or (e.metadata and e.metadata.creationTimestamp) or ""
end

--- The events about an object, oldest first (what `kubectl describe` shows at its end): core
--- v1 Events whose involvedObject is it.
---@param resource string
---@param name string
---@param opts? {namespace?: string}
---@return table[]
function Client:events(resource, name, opts)
  opts = api.check_options("k8s", "events", 3, opts, {"namespace"})
  local r = self:resource(resource, "events", 1)
  api.check_name("k8s", "events", 2, "name", name)
  local ns = self:_ns(r, opts) or opts.namespace or self.namespace
  local fs = ("involvedObject.name=%s,involvedObject.kind=%s"):format(name, r.kind)
  if r.namespaced then fs = fs .. ",involvedObject.namespace=" .. ns end
  local list = self:list("events", {namespace = ns, field_selector = fs})
  local items = {}
  for _, e in ipairs(list.items) do items[#items + 1] = e end
  table.sort(items, function(a, b) return event_time(a) < event_time(b) end)
  return items
end

-- Authorization ---------------------------------------------------------------------------------

--- Whether the client's identity may do `verb` on `resource` (`kubectl auth can-i`), asked
--- with a SelfSubjectAccessReview. Returns the answer and the server's reason.
---@param verb string get, list, watch, create, update, patch, delete, ... or "*"
---@param resource string a resource name as elsewhere ("secrets", "deployments.apps"), or a CRD's
---@param opts? {namespace?: string, name?: string, subresource?: string}
---@return boolean allowed
---@return string|nil reason
function Client:can_i(verb, resource, opts)
  opts = api.check_options("k8s", "can_i", 3, opts, {"namespace", "name", "subresource"})
  api.check_name("k8s", "can_i", 1, "verb", verb)
  local r = self:resource(resource, "can_i", 2)
  local review = {apiVersion = "authorization.k8s.io/v1", kind = "SelfSubjectAccessReview",
    metadata = json.object({}),
    spec = {resourceAttributes = {verb = verb, group = r.group, resource = r.name,
      namespace = r.namespaced and (opts.namespace or self.namespace) or nil, name = opts.name,
      subresource = opts.subresource}}}
  local out = self:_call("can_i", "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", {body = review})
  local st = out.status or {}
  return st.allowed == true, st.reason
end
