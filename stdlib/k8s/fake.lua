--- assay.k8s.fake: an in-memory Kubernetes API server (http.server) for tests without a cluster.
--- Serves discovery, get/list/create/replace/patch/delete/deletecollection, the status
--- subresource, watch (streamed NDJSON) and pod logs fed by the test (followed as streams).
local api = require("assay.apiclient")
api.own_source()
local resources = require("assay.k8s.resources")

local M = {}

---@class K8sFakeResource
---@field group string
---@field version string
---@field name string plural
---@field singular string
---@field kind string
---@field namespaced boolean
---@field short string[]
---@field status boolean has a status subresource

local VERBS = {"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}

local function now_iso() return os.date("!%Y-%m-%dT%H:%M:%SZ") end

local function deepcopy(v)
  if type(v) ~= "table" then return v end
  local out = {}
  for k, x in pairs(v) do out[k] = deepcopy(x) end
  return setmetatable(out, getmetatable(v))
end

local function is_array(t)
  if type(t) ~= "table" then return false end
  local mt = getmetatable(t)
  if mt and mt.__name == "json.array" then return true end
  if next(t) == nil then return false end
  local n = 0
  for k in pairs(t) do
    if type(k) ~= "number" then return false end
    n = n + 1
  end
  return n == #t
end

local function is_object(t) return type(t) == "table" and not is_array(t) end

local function gv(group, version) return group == "" and version or group .. "/" .. version end

-- Status objects --------------------------------------------------------------------------------

local REASONS = {[400] = "BadRequest", [401] = "Unauthorized", [404] = "NotFound", [405] = "MethodNotAllowed",
  [409] = "Conflict", [410] = "Expired", [415] = "UnsupportedMediaType", [422] = "Invalid",
  [500] = "InternalError"}

local function status_obj(code, message, reason, details)
  return {kind = "Status", apiVersion = "v1", metadata = json.object({}), status = "Failure",
    message = message, reason = reason or REASONS[code], details = details, code = code}
end

local function fail(code, message, reason, details)
  error({k8s = status_obj(code, message, reason, details)}, 0)
end

local function resp(code, body)
  return {status = code, headers = {["content-type"] = "application/json"}, body = json.encode(body)}
end

-- label and field selectors ---------------------------------------------------------------------

local function split_top(s)
  local out, depth, cur = {}, 0, {}
  for ch in s:gmatch(".") do
    if ch == "(" then depth = depth + 1 elseif ch == ")" then depth = depth - 1 end
    if ch == "," and depth == 0 then out[#out + 1] = table.concat(cur); cur = {}
    else cur[#cur + 1] = ch end
  end
  out[#out + 1] = table.concat(cur)
  return out
end

local function trim(s) return (s:gsub("^%s+", ""):gsub("%s+$", "")) end

--- Parses a label selector into a predicate over a labels table; raises a 400 on bad syntax.
---@param sel string
---@return fun(labels: table): boolean
function M.label_selector(sel)
  local preds = {}
  if sel and trim(sel) ~= "" then
    for _, term in ipairs(split_top(sel)) do
      term = trim(term)
      local k, op, vals = term:match("^([%w%._/%-]+)%s+(notin)%s*%((.*)%)$")
      if not k then k, op, vals = term:match("^([%w%._/%-]+)%s+(in)%s*%((.*)%)$") end
      if k then
        local set = {}
        for v in vals:gmatch("[^,]+") do set[trim(v)] = true end
        if op == "in" then preds[#preds + 1] = function(l) return l[k] ~= nil and set[l[k]] == true end
        else preds[#preds + 1] = function(l) return l[k] == nil or not set[l[k]] end end
      else
        local a, b = term:match("^([%w%._/%-]+)%s*!=%s*([%w%._%-]*)$")
        if a then preds[#preds + 1] = function(l) return l[a] ~= b end
        else
          a, b = term:match("^([%w%._/%-]+)%s*==?%s*([%w%._%-]*)$")
          if a then preds[#preds + 1] = function(l) return l[a] == b end
          else
            a = term:match("^!%s*([%w%._/%-]+)$")
            if a then preds[#preds + 1] = function(l) return l[a] == nil end
            else
              a = term:match("^([%w%._/%-]+)$")
              if not a then
                fail(400, "unable to parse requirement: found '" .. term .. "', expected: a label selector term")
              end
              preds[#preds + 1] = function(l) return l[a] ~= nil end
            end
          end
        end
      end
    end
  end
  return function(labels)
    labels = labels or {}
    for _, p in ipairs(preds) do if not p(labels) then return false end end
    return true
  end
end

-- the field labels the API server takes: every kind's metadata.name and metadata.namespace,
-- and the few more some kinds define (what kubectl and controllers select on)
local FIELDS = {"metadata.name", "metadata.namespace"}
local KIND_FIELDS = {
  Pod = {"spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
    "status.phase", "status.podIP", "status.nominatedNodeName"},
  Event = {"involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
    "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason",
    "reportingComponent", "source", "type"},
  Secret = {"type"},
  Namespace = {"status.phase"},
  Node = {"spec.unschedulable"},
  Job = {"status.successful"},
}

local function field_value(o, k)
  local v = o
  for part in k:gmatch("[^.]+") do
    if type(v) ~= "table" then return "" end
    v = v[part]
  end
  if v == nil then return "" end
  return tostring(v)
end

local function field_selector(sel, kind)
  local allowed = {}
  for _, f in ipairs(FIELDS) do allowed[f] = true end
  for _, f in ipairs(KIND_FIELDS[kind] or {}) do allowed[f] = true end
  local preds = {}
  if sel and trim(sel) ~= "" then
    for _, term in ipairs(split_top(sel)) do
      term = trim(term)
      local k, neg, v = term:match("^([%w%.]+)%s*(!?)==?%s*(.*)$")
      if not k or not allowed[k] then
        fail(400, 'field label not supported: ' .. (k or term))
      end
      local function get(o) return k == "metadata.namespace" and (o.metadata.namespace or "") or field_value(o, k) end
      if neg == "!" then preds[#preds + 1] = function(o) return get(o) ~= v end
      else preds[#preds + 1] = function(o) return get(o) == v end end
    end
  end
  return function(o)
    for _, p in ipairs(preds) do if not p(o) then return false end end
    return true
  end
end

-- patches ---------------------------------------------------------------------------------------

local function merge_patch(target, patch)
  if not is_object(patch) then return deepcopy(patch) end
  if not is_object(target) then target = {} end
  for k, v in pairs(patch) do
    if v == json.null then target[k] = nil
    else target[k] = merge_patch(target[k], v) end
  end
  return target
end

-- strategic merge: merge semantics, lists replaced; `$`-directives (kubectl's
-- $setElementOrder, $retainKeys, $patch...) are dropped.
local function strip_directives(v)
  if type(v) ~= "table" then return v end
  local out = {}
  for k, x in pairs(v) do
    if not (type(k) == "string" and k:sub(1, 1) == "$") then out[k] = strip_directives(x) end
  end
  return setmetatable(out, getmetatable(v))
end

local function unescape_ptr(s) return (s:gsub("~1", "/"):gsub("~0", "~")) end

local function ptr_parts(path)
  if path == "" then return {} end
  if path:sub(1, 1) ~= "/" then fail(422, "invalid JSON pointer: " .. path) end
  local parts = {}
  for p in (path:sub(2) .. "/"):gmatch("([^/]*)/") do parts[#parts + 1] = unescape_ptr(p) end
  return parts
end

local function ptr_key(container, p, adding)
  if is_array(container) or (type(container) == "table" and next(container) == nil and
      (p == "-" or p:match("^%d+$"))) then
    if p == "-" then return #container + 1 end
    local i = tonumber(p)
    if not i or p:match("^0%d") then fail(422, "invalid array index: " .. p) end
    if i > #container + (adding and 0 or -1) then fail(422, "array index out of range: " .. p) end
    return i + 1, true
  end
  return p, false
end

local function ptr_parent(doc, path)
  local parts = ptr_parts(path)
  if #parts == 0 then fail(422, "cannot operate on the whole document") end
  local cur = doc
  for i = 1, #parts - 1 do
    local k = ptr_key(cur, parts[i])
    if type(cur) ~= "table" or cur[k] == nil then fail(422, "path not found: " .. path) end
    cur = cur[k]
  end
  if type(cur) ~= "table" then fail(422, "path not found: " .. path) end
  return cur, parts[#parts]
end

local function ptr_get(doc, path)
  local parent, last = ptr_parent(doc, path)
  local k = ptr_key(parent, last)
  if parent[k] == nil then fail(422, "path not found: " .. path) end
  return parent[k]
end

local function ptr_remove(doc, path)
  local parent, last = ptr_parent(doc, path)
  local k, arr = ptr_key(parent, last)
  if parent[k] == nil then fail(422, "unable to remove nonexistent key: " .. path) end
  local v = parent[k]
  if arr then table.remove(parent, k) else parent[k] = nil end
  return v
end

local function ptr_add(doc, path, value)
  local parent, last = ptr_parent(doc, path)
  local k, arr = ptr_key(parent, last, true)
  if arr or (is_array(parent) and last == "-") then table.insert(parent, k, value)
  else parent[k] = value end
end

local function json_patch(doc, ops)
  if not is_array(ops) then fail(400, "json patch must be a list of operations") end
  for _, op in ipairs(ops) do
    local o, path = op.op, op.path
    if type(path) ~= "string" then fail(422, "json patch operation without a path") end
    if o == "add" then ptr_add(doc, path, deepcopy(op.value))
    elseif o == "remove" then ptr_remove(doc, path)
    elseif o == "replace" then ptr_remove(doc, path); ptr_add(doc, path, deepcopy(op.value))
    elseif o == "move" then local v = ptr_remove(doc, op.from); ptr_add(doc, path, v)
    elseif o == "copy" then ptr_add(doc, path, deepcopy(ptr_get(doc, op.from)))
    elseif o == "test" then
      if json.encode(ptr_get(doc, path)) ~= json.encode(op.value) then
        fail(422, "testing value " .. path .. " failed")
      end
    else fail(422, "unexpected json patch operation: " .. tostring(o)) end
  end
  return doc
end

M._merge_patch, M._json_patch = merge_patch, json_patch

-- the server ------------------------------------------------------------------------------------

local Fake = {}
Fake.__index = Fake

local OPTIONS = {"token", "require_token", "host", "port", "namespaces", "watch_timeout", "max_events",
  "bookmark_interval", "follow_timeout"}

--- Starts a fake API server on loopback.
---@param opts? {token?: string, require_token?: boolean, host?: string, port?: integer, namespaces?: string[], watch_timeout?: number, max_events?: integer, bookmark_interval?: number, follow_timeout?: number}
---@return table fake {url, port, token, requests, stop(), kubeconfig(path), add(obj), object(...), objects(...), log(...), compact()}
function M.start(opts)
  opts = api.check_options("k8s.fake", "start", 1, opts, OPTIONS)
  local self = setmetatable({
    token = opts.token or "fake-token", requests = {}, rv = 0, resources = {}, by_gv = {},
    groups = {}, store = {}, events = {}, denied = {}, logs = {}, logs_done = {}, watch_timeout = opts.watch_timeout or 30,
    bookmark_interval = opts.bookmark_interval or 1, follow_timeout = opts.follow_timeout or 300, drops = 0,
    max_events = opts.max_events or 1000, gone_before = 0, require_token = opts.require_token == true,
  }, Fake)
  for _, r in ipairs(resources.builtin()) do self:_register(r) end
  local handler = function(req) return self:_handle(req) end
  local routes = {}
  for _, m in ipairs{"GET", "POST", "PUT", "PATCH", "DELETE"} do
    routes[m] = {["/*"] = handler, ["/"] = handler}
  end
  self.server = http.server(routes, {host = opts.host or "127.0.0.1", port = opts.port or 0})
  self.port = self.server.port
  self.url = "http://" .. (opts.host or "127.0.0.1") .. ":" .. self.port
  for _, ns in ipairs(opts.namespaces or {"default", "kube-system", "kube-public"}) do
    self:add{apiVersion = "v1", kind = "Namespace", metadata = {name = ns}}
  end
  return self
end

--- Stops the server.
function Fake:stop() self.server:stop() end

--- Writes a kubeconfig (token auth) pointing at the fake; returns the path.
---@param path string
---@param opts? {namespace?: string, context?: string}
---@return string
function Fake:kubeconfig(path, opts)
  opts = opts or {}
  local ctx = opts.context or "fake"
  local cfg = {apiVersion = "v1", kind = "Config", ["current-context"] = ctx,
    clusters = {{name = "fake", cluster = {server = self.url}}},
    users = {{name = "fake", user = {token = self.token}}},
    contexts = {{name = ctx, context = {cluster = "fake", user = "fake",
      namespace = opts.namespace or "default"}}},
    preferences = json.object({})}
  fs.write(path, json.encode(cfg))
  return path
end

-- where a resource's objects are kept: one store per group and plural, whatever the version
local function storage_key(r) return r.group .. "/" .. r.name end

function Fake:_register(r)
  local key = gv(r.group, r.version)
  if not self.by_gv[key] then
    self.by_gv[key] = {}
    if r.group ~= "" then
      local g = self.groups[r.group]
      if not g then g = {name = r.group, versions = {}}; self.groups[r.group] = g end
      local have = false
      for _, v in ipairs(g.versions) do have = have or v == r.version end
      if not have then g.versions[#g.versions + 1] = r.version end
    end
  end
  self.by_gv[key][r.name] = r
  self.resources[key .. "/" .. r.name] = r
  self.store[storage_key(r)] = self.store[storage_key(r)] or {}
end

function Fake:_unregister(group, version, plural)
  local key = gv(group, version)
  if self.by_gv[key] then self.by_gv[key][plural] = nil end
  self.resources[key .. "/" .. plural] = nil
  local still = false
  for _, other in pairs(self.resources) do still = still or (other.group == group and other.name == plural) end
  if not still then self.store[group .. "/" .. plural] = nil end
  if self.by_gv[key] and next(self.by_gv[key]) == nil then
    self.by_gv[key] = nil
    local g = self.groups[group]
    if g then
      for i, v in ipairs(g.versions) do if v == version then table.remove(g.versions, i) break end end
      if #g.versions == 0 then self.groups[group] = nil end
    end
  end
end

--- Finds a resource by "group/version/plural", a plural, a kind or a short name.
function Fake:_find(what, apiVersion)
  if self.resources[what] then return self.resources[what] end
  for _, r in pairs(self.resources) do
    if (apiVersion == nil or gv(r.group, r.version) == apiVersion) and
        (r.name == what or r.kind == what or r.singular == what) then return r end
  end
  for _, r in pairs(self.resources) do
    for _, s in ipairs(r.short) do if s == what then return r end end
  end
  return nil
end

local function okey(ns, name) return (ns or "") .. "/" .. name end

function Fake:_bucket(r) return self.store[storage_key(r)] end

-- An object as a request through r's version sees it: the versions of a CRD share one store
-- and differ only in apiVersion (conversion strategy None, the CRD default).
local function view(r, o)
  local want = gv(r.group, r.version)
  if o.apiVersion == want then return o end
  local copy = {}
  for k, v in pairs(o) do copy[k] = v end
  copy.apiVersion = want
  return copy
end

function Fake:_event(r, etype, obj)
  local ev = {rv = tonumber(obj.metadata.resourceVersion), type = etype, res = r, obj = deepcopy(obj)}
  self.events[#self.events + 1] = ev
  while #self.events > self.max_events do
    self.gone_before = self.events[1].rv
    table.remove(self.events, 1)
  end
end

function Fake:_next_rv()
  self.rv = self.rv + 1
  return tostring(self.rv)
end

local function random_suffix()
  local chars, out = "bcdfghjklmnpqrstvwxz2456789", {}
  for i = 1, 5 do
    local n = math.random(#chars)
    out[i] = chars:sub(n, n)
  end
  return table.concat(out)
end

function Fake:_gone(r, name) return {name = name, group = r.group ~= "" and r.group or nil, kind = r.name} end

function Fake:_not_found(r, name)
  fail(404, string.format('%s "%s" not found', r.group == "" and r.name or r.name .. "." .. r.group, name),
    "NotFound", self:_gone(r, name))
end

function Fake:_create(r, ns, obj)
  if not is_object(obj) then fail(400, "the body of the request was not a JSON object") end
  obj = deepcopy(obj)
  obj.metadata = is_object(obj.metadata) and obj.metadata or {}
  local md = obj.metadata
  local want = gv(r.group, r.version)
  if obj.kind and obj.kind ~= r.kind or obj.apiVersion and obj.apiVersion ~= want then
    fail(400, string.format("the API version in the data (%s) does not match the expected API version (%s)",
      tostring(obj.apiVersion), want))
  end
  obj.kind, obj.apiVersion = r.kind, want
  if r.namespaced then
    if md.namespace and ns and md.namespace ~= ns then
      fail(400, "the namespace of the provided object does not match the namespace sent on the request")
    end
    ns = ns or md.namespace or "default"
    md.namespace = ns
    if not self:_bucket(self.resources["v1/namespaces"])[okey(nil, ns)] then
      fail(404, string.format('namespaces "%s" not found', ns), "NotFound", {name = ns, kind = "namespaces"})
    end
  else
    md.namespace = nil; ns = nil
  end
  if not md.name or md.name == "" then
    if md.generateName and md.generateName ~= "" then md.name = md.generateName .. random_suffix()
    else fail(422, string.format("%s \"\" is invalid: metadata.name: Required value: name or generateName is required", r.kind),
      "Invalid", {kind = r.kind, group = r.group}) end
  end
  local b = self:_bucket(r)
  if b[okey(ns, md.name)] then
    fail(409, string.format('%s "%s" already exists', r.group == "" and r.name or r.name .. "." .. r.group, md.name),
      "AlreadyExists", self:_gone(r, md.name))
  end
  md.uid = uuid.v4()
  md.resourceVersion = self:_next_rv()
  md.creationTimestamp = now_iso()
  if r.status and r.name ~= "namespaces" then md.generation = 1 end
  if r.name == "namespaces" then obj.status = {phase = "Active"}; obj.spec = obj.spec or {finalizers = {"kubernetes"}} end
  if r.name == "customresourcedefinitions" then self:_crd_added(obj) end
  b[okey(ns, md.name)] = obj
  self:_event(r, "ADDED", obj)
  return obj
end

function Fake:_crd_added(crd)
  local spec = crd.spec or {}
  local names = spec.names or {}
  if not spec.group or not names.plural or not names.kind or type(spec.versions) ~= "table" then
    fail(422, "CustomResourceDefinition is invalid: spec.group, spec.names.plural, spec.names.kind, spec.versions are required")
  end
  if crd.metadata.name ~= names.plural .. "." .. spec.group then
    fail(422, string.format('CustomResourceDefinition.apiextensions.k8s.io "%s" is invalid: metadata.name: Invalid value: must be spec.names.plural+"."+spec.group', crd.metadata.name))
  end
  for _, v in ipairs(spec.versions) do
    if v.served ~= false and not self._dry then
      self:_register{group = spec.group, version = v.name, name = names.plural, kind = names.kind,
        namespaced = spec.scope ~= "Cluster", short = names.shortNames or {},
        singular = names.singular or names.kind:lower(),
        status = type(v.subresources) == "table" and v.subresources.status ~= nil,
        scale = type(v.subresources) == "table" and v.subresources.scale ~= nil}
    end
  end
  crd.status = {acceptedNames = deepcopy(names), storedVersions = {spec.versions[1].name},
    conditions = {{type = "NamesAccepted", status = "True", reason = "NoConflicts", lastTransitionTime = now_iso()},
      {type = "Established", status = "True", reason = "InitialNamesAccepted", lastTransitionTime = now_iso()}}}
end

function Fake:_delete(r, ns, name)
  local b = self:_bucket(r)
  local obj = b[okey(ns, name)]
  if not obj then self:_not_found(r, name) end
  b[okey(ns, name)] = nil
  obj.metadata.resourceVersion = self:_next_rv()
  obj.metadata.deletionTimestamp = now_iso()
  self:_event(r, "DELETED", obj)
  if r.name == "namespaces" then
    for _, rr in pairs(self.resources) do
      if rr.namespaced then
        for k, o in pairs(self:_bucket(rr)) do
          if o.metadata.namespace == name then self:_delete(rr, name, o.metadata.name) end
          local _ = k
        end
      end
    end
  elseif r.name == "customresourcedefinitions" and not self._dry then
    for _, v in ipairs(obj.spec.versions) do self:_unregister(obj.spec.group, v.name, obj.spec.names.plural) end
  end
  return obj
end

-- writes an updated object: keeps identity, checks the resourceVersion, bumps generation
function Fake:_update(r, ns, name, new, sub)
  local b = self:_bucket(r)
  local old = b[okey(ns, name)]
  if not old then self:_not_found(r, name) end
  if not is_object(new) then fail(400, "the body of the request was not a JSON object") end
  new = deepcopy(new)
  new.metadata = is_object(new.metadata) and new.metadata or {}
  local md = new.metadata
  if md.name and md.name ~= name then
    fail(400, "the name of the object (" .. md.name .. ") does not match the name on the URL (" .. name .. ")")
  end
  if md.resourceVersion and md.resourceVersion ~= "" and md.resourceVersion ~= old.metadata.resourceVersion then
    fail(409, string.format('Operation cannot be fulfilled on %s "%s": the object has been modified; please apply your changes to the latest version and try again',
      r.group == "" and r.name or r.name .. "." .. r.group, name), "Conflict", self:_gone(r, name))
  end
  if sub == "status" then
    local keep = deepcopy(old)
    keep.status = new.status
    new = keep
  else
    if r.status then new.status = deepcopy(old.status) end
    for _, k in ipairs{"uid", "creationTimestamp", "generation", "namespace", "deletionTimestamp"} do
      md[k] = old.metadata[k]
    end
    md.name = name
    new.kind, new.apiVersion = old.kind, old.apiVersion
    local function body(o)
      local c = {}
      for k, v in pairs(o) do if k ~= "metadata" and k ~= "status" then c[k] = v end end
      return json.encode(c)
    end
    if md.generation and body(old) ~= body(new) then md.generation = md.generation + 1 end
  end
  new.metadata.resourceVersion = self:_next_rv()
  b[okey(ns, name)] = new
  self:_event(r, "MODIFIED", new)
  return new
end

local function sorted_items(bucket, ns)
  local keys = {}
  for k, o in pairs(bucket) do
    if ns == nil or o.metadata.namespace == ns then keys[#keys + 1] = k end
  end
  table.sort(keys)
  return keys
end

function Fake:_list(r, ns, q)
  local lsel = M.label_selector(http.query_value(q, "labelSelector"))
  local fsel = field_selector(http.query_value(q, "fieldSelector"), r.kind)
  local limit = tonumber(http.query_value(q, "limit") or "")
  local cont = http.query_value(q, "continue")
  local after, at_rv
  if cont and cont ~= "" then
    local ok, tok = pcall(function() return json.parse(base64.decode(cont)) end)
    if not ok or type(tok) ~= "table" or not tok.start then fail(400, "continue key is not valid") end
    if tok.rv < self.gone_before then
      fail(410, "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.", "Expired")
    end
    after, at_rv = tok.start, tok.rv
  end
  local rvq = tonumber(http.query_value(q, "resourceVersion") or "")
  if rvq and http.query_value(q, "resourceVersionMatch") == "Exact" and rvq < self.gone_before then
    fail(410, string.format("too old resource version: %d (%d)", rvq, self.gone_before + 1), "Expired")
  end
  local bucket = self:_bucket(r)
  local items, more, last = {}, 0, nil
  for _, k in ipairs(sorted_items(bucket, ns)) do
    if not after or k > after then
      local o = bucket[k]
      if lsel(o.metadata.labels) and fsel(o) then
        if limit and limit > 0 and #items >= limit then more = more + 1
        else items[#items + 1] = view(r, deepcopy(o)); last = k end
      end
    end
  end
  local meta = {resourceVersion = tostring(at_rv or self.rv)}
  if more > 0 then
    meta.continue = base64.encode(json.encode{start = last, rv = at_rv or self.rv})
    meta.remainingItemCount = more
  end
  return {kind = r.kind .. "List", apiVersion = gv(r.group, r.version), metadata = meta,
    items = json.array(items)}
end

function Fake:_watch(r, ns, q)
  local lsel = M.label_selector(http.query_value(q, "labelSelector"))
  local fsel = field_selector(http.query_value(q, "fieldSelector"), r.kind)
  local since = http.query_value(q, "resourceVersion")
  local bookmarks = http.query_value(q, "allowWatchBookmarks") == "true"
  local timeout = tonumber(http.query_value(q, "timeoutSeconds") or "") or self.watch_timeout
  if timeout > self.watch_timeout then timeout = self.watch_timeout end
  local first = {}
  local function line(t, o) return json.encode{type = t, object = o} .. "\n" end
  local from
  if since == nil or since == "" or since == "0" then
    local bucket = self:_bucket(r)
    for _, k in ipairs(sorted_items(bucket, ns)) do
      local o = bucket[k]
      if lsel(o.metadata.labels) and fsel(o) then first[#first + 1] = line("ADDED", view(r, o)) end
    end
    from = self.rv
  else
    from = tonumber(since)
    if not from then fail(400, "invalid resourceVersion: " .. since) end
    if from < self.gone_before then
      -- as the API server: a 200 whose only event is an ERROR with the 410 Status
      return {status = 200, headers = {["content-type"] = "application/json"},
        body = line("ERROR", status_obj(410, string.format("too old resource version: %s (%d)", since,
          self.gone_before + 1), "Expired"))}
    end
  end
  local generation = self.drops
  -- streamed: the events as they happen, until timeoutSeconds (at most watch_timeout), a BOOKMARK
  -- every bookmark_interval and last when asked; `drop_watches` cuts the connection midway
  return {status = 200, headers = {["content-type"] = "application/json"}, stream = function(body)
    for _, l in ipairs(first) do body:write(l) end
    local seen = from
    local deadline = time.monotonic() + timeout
    local next_mark = time.monotonic() + self.bookmark_interval
    local function mark()
      body:write(line("BOOKMARK", {kind = r.kind, apiVersion = gv(r.group, r.version),
        metadata = {resourceVersion = tostring(seen)}}))
    end
    while time.monotonic() < deadline do
      if self.drops ~= generation then error("k8s.fake: the test dropped this watch's connection", 0) end
      if seen < self.gone_before then
        body:write(line("ERROR", status_obj(410, string.format("too old resource version: %d (%d)", seen,
          self.gone_before + 1), "Expired")))
        return
      end
      for _, ev in ipairs(self.events) do
        if ev.rv > seen and storage_key(ev.res) == storage_key(r) and (ns == nil or ev.obj.metadata.namespace == ns)
            and lsel(ev.obj.metadata.labels) and fsel(ev.obj) then
          body:write(line(ev.type, view(r, ev.obj)))
        end
      end
      seen = math.max(seen, self.rv)
      if bookmarks and time.monotonic() >= next_mark then
        mark()
        next_mark = time.monotonic() + self.bookmark_interval
      end
      sleep(0.02)
    end
    if bookmarks then mark() end
  end}
end

--- Cuts the connection of every open watch and followed log (no last chunk: the client sees a
--- broken transfer), as a restarting API server or a load balancer does.
function Fake:drop_watches() self.drops = self.drops + 1 end

function Fake:_patch(r, ns, name, req, sub)
  local ct = ((req.headers["content-type"] or ""):match("^[^;]*") or ""):lower()
  local q = req.query
  local b = self:_bucket(r)
  local old = b[okey(ns, name)]
  if ct == "application/apply-patch+yaml" then
    local mgr = http.query_value(q, "fieldManager")
    if not mgr or mgr == "" then
      fail(400, "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch")
    end
    local ok, obj = pcall(yaml.parse, req.body or "")
    if not ok or not is_object(obj) then fail(400, "error decoding YAML: " .. tostring(obj)) end
    obj.metadata = obj.metadata or {}
    if obj.metadata.name and obj.metadata.name ~= name then
      fail(400, "the name of the object (" .. obj.metadata.name .. ") does not match the name on the URL (" .. name .. ")")
    end
    obj.metadata.name = name
    local mf = {{manager = mgr, operation = "Apply", apiVersion = gv(r.group, r.version),
      time = now_iso(), fieldsType = "FieldsV1", fieldsV1 = json.object({})}}
    if not old then
      if sub then self:_not_found(r, name) end
      obj.metadata.managedFields = mf
      return self:_create(r, ns, obj), 201
    end
    local merged = merge_patch(deepcopy(old), obj)
    merged.metadata.resourceVersion = obj.metadata.resourceVersion
    local kept = {}
    for _, e in ipairs(old.metadata.managedFields or {}) do if e.manager ~= mgr then kept[#kept + 1] = e end end
    kept[#kept + 1] = mf[1]
    merged.metadata.managedFields = kept
    return self:_update(r, ns, name, merged, sub), 200
  end
  if not old then self:_not_found(r, name) end
  local ok, p = pcall(json.parse, req.body or "")
  if not ok then fail(400, "error decoding patch: " .. api.strip_position(tostring(p))) end
  local new
  if ct == "application/merge-patch+json" then new = merge_patch(deepcopy(old), p)
  elseif ct == "application/strategic-merge-patch+json" then new = merge_patch(deepcopy(old), strip_directives(p))
  elseif ct == "application/json-patch+json" then new = json_patch(deepcopy(old), p)
  else
    return nil, nil, resp(415, status_obj(415, string.format('the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json'), "UnsupportedMediaType"))
  end
  if type(new) ~= "table" then fail(422, "the patch did not give an object") end
  if new.metadata and new.metadata.resourceVersion == old.metadata.resourceVersion then
    new.metadata.resourceVersion = nil
  end
  return self:_update(r, ns, name, new, sub), 200
end

-- discovery

local function resource_list(self, key)
  local out = {}
  local names = {}
  for n in pairs(self.by_gv[key] or {}) do names[#names + 1] = n end
  table.sort(names)
  for _, n in ipairs(names) do
    local r = self.by_gv[key][n]
    out[#out + 1] = {name = r.name, singularName = r.singular, namespaced = r.namespaced, kind = r.kind,
      verbs = r.name == "selfsubjectaccessreviews" and {"create"} or VERBS, shortNames = #r.short > 0 and r.short or nil}
    if r.status then
      out[#out + 1] = {name = r.name .. "/status", singularName = "", namespaced = r.namespaced, kind = r.kind,
        verbs = {"get", "patch", "update"}}
    end
    if r.scale then
      out[#out + 1] = {name = r.name .. "/scale", singularName = "", namespaced = r.namespaced, kind = "Scale",
        group = "autoscaling", version = "v1", verbs = {"get", "patch", "update"}}
    end
    if r.name == "pods" then
      out[#out + 1] = {name = "pods/log", singularName = "", namespaced = true, kind = "Pod", verbs = {"get"}}
    end
  end
  return {kind = "APIResourceList", apiVersion = "v1", groupVersion = key, resources = json.array(out)}
end

local function group_obj(g)
  local versions = {}
  for _, v in ipairs(g.versions) do versions[#versions + 1] = {groupVersion = g.name .. "/" .. v, version = v} end
  return {name = g.name, versions = versions, preferredVersion = versions[1]}
end

function Fake:_discovery(segs)
  if segs[1] == "api" and #segs == 1 then
    return resp(200, {kind = "APIVersions", versions = {"v1"},
      serverAddressByClientCIDRs = {{clientCIDR = "0.0.0.0/0", serverAddress = "127.0.0.1:" .. self.port}}})
  elseif segs[1] == "api" and #segs == 2 and segs[2] == "v1" then
    return resp(200, resource_list(self, "v1"))
  elseif segs[1] == "apis" and #segs == 1 then
    local names = {}
    for n in pairs(self.groups) do names[#names + 1] = n end
    table.sort(names)
    local gs = {}
    for _, n in ipairs(names) do gs[#gs + 1] = group_obj(self.groups[n]) end
    return resp(200, {kind = "APIGroupList", apiVersion = "v1", groups = json.array(gs)})
  elseif segs[1] == "apis" and #segs == 2 and self.groups[segs[2]] then
    local g = group_obj(self.groups[segs[2]])
    g.kind, g.apiVersion = "APIGroup", "v1"
    return resp(200, g)
  elseif segs[1] == "apis" and #segs == 3 and self.by_gv[segs[2] .. "/" .. segs[3]] then
    return resp(200, resource_list(self, segs[2] .. "/" .. segs[3]))
  elseif segs[1] == "version" and #segs == 1 then
    return resp(200, {major = "1", minor = "32", gitVersion = "v1.32.0-assay-fake", platform = "linux/amd64"})
  end
  return nil
end

-- routing

local function decode_segs(path)
  local segs = {}
  for s in path:gmatch("[^/]+") do segs[#segs + 1] = url.decode(s) end
  return segs
end

function Fake:_route(segs)
  local key, rest
  if segs[1] == "api" and segs[2] == "v1" then key, rest = "v1", 3
  elseif segs[1] == "apis" and #segs >= 4 then key, rest = segs[2] .. "/" .. segs[3], 4
  else return nil end
  if not self.by_gv[key] then return nil end
  local ns, plural, name, sub
  local tail = {}
  for i = rest, #segs do tail[#tail + 1] = segs[i] end
  if tail[1] == "namespaces" and #tail >= 3 and not (#tail == 3 and (tail[3] == "status" or tail[3] == "finalize")) then
    ns, plural, name, sub = tail[2], tail[3], tail[4], tail[5]
    if #tail > 5 then return nil end
  else
    plural, name, sub = tail[1], tail[2], tail[3]
    if #tail > 3 then return nil end
  end
  local r = self.by_gv[key][plural]
  if not r then return nil end
  if ns and not r.namespaced then return nil end
  return r, ns, name, sub
end

function Fake:_handle(req)
  local rec = {method = req.method, path = req.path, query = req.query, headers = req.headers, body = req.body,
    content_type = req.headers["content-type"]}
  self.requests[#self.requests + 1] = rec
  -- a test's hook (fake.on_request = function(rec) ... end): runs before the request is served
  if self.on_request then self.on_request(rec) end
  local auth = req.headers["authorization"]
  if (auth ~= nil or self.require_token) and auth ~= "Bearer " .. self.token then
    return resp(401, status_obj(401, "Unauthorized"))
  end
  -- dryRun=All: served in full (validation, defaults, conflicts), then the world is put back
  local dry = http.query_value(req.query or {}, "dryRun")
  if dry == nil and req.method == "DELETE" and req.body and req.body ~= "" then
    -- DeleteOptions in the body carry it too (what kubectl delete --dry-run=server sends)
    local okd, opts = pcall(json.parse, req.body)
    if okd and type(opts) == "table" and type(opts.dryRun) == "table" then dry = opts.dryRun[1] end
  end
  if dry ~= nil and dry ~= "All" then
    return resp(400, status_obj(400, 'Invalid dryRun value "' .. dry .. '": dryRun must be "All"', "BadRequest"))
  end
  local saved
  if dry and req.method ~= "GET" then
    saved = {store = deepcopy(self.store), rv = self.rv, events = #self.events, gone = self.gone_before}
    self._dry = true
  end
  local ok, out, code = pcall(function()
    local path = req.path:match("^[^?]*")
    local segs = decode_segs(path)
    if req.method == "GET" then
      local d = self:_discovery(segs)
      if d then return d end
    end
    local r, ns, name, sub = self:_route(segs)
    if not r then
      return resp(404, status_obj(404, "the server could not find the requested resource", "NotFound"))
    end
    local q = req.query or {}
    local m = req.method
    local ct = ((req.headers["content-type"] or ""):match("^[^;]*") or ""):lower()
    if (m == "POST" or m == "PUT") and ct ~= "" and ct ~= "application/json" and ct ~= "application/yaml" then
      return resp(415, status_obj(415, "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml", "UnsupportedMediaType"))
    end
    if sub and sub ~= "status" and not (sub == "log" and r.name == "pods") and not (sub == "scale" and r.scale) then
      return resp(404, status_obj(404, "the server could not find the requested resource", "NotFound"))
    end
    if sub == "status" and not r.status then
      return resp(404, status_obj(404, "the server could not find the requested resource", "NotFound"))
    end
    if sub == "log" then
      if m ~= "GET" then fail(405, "method not allowed") end
      return self:_log(ns, name, q)
    end
    if sub == "scale" then return self:_scale(r, ns, name, req) end
    if r.name == "selfsubjectaccessreviews" then
      if m ~= "POST" or name then fail(405, "method " .. m .. " is not allowed: selfsubjectaccessreviews are only created") end
      local okj, review = pcall(json.parse, req.body or "")
      if not okj or not is_object(review) then fail(400, "error decoding request body") end
      return resp(201, self:_review(review))
    end
    if name == nil then
      if m == "GET" then
        local w = http.query_value(q, "watch")
        if w == "1" or w == "true" then return self:_watch(r, ns, q) end
        return resp(200, self:_list(r, ns, q))
      elseif m == "POST" then
        local okj, obj = pcall(json.parse, req.body or "")
        if not okj then fail(400, "error decoding request body: " .. api.strip_position(tostring(obj))) end
        return resp(201, view(r, self:_create(r, ns, obj)))
      elseif m == "DELETE" then
        local list = self:_list(r, ns, q)
        for _, o in ipairs(list.items) do self:_delete(r, o.metadata.namespace, o.metadata.name) end
        list.metadata = {resourceVersion = tostring(self.rv)}
        return resp(200, list)
      end
      fail(405, "method " .. m .. " is not allowed on a collection")
    end
    local b = self:_bucket(r)
    if m == "GET" then
      local o = b[okey(ns, name)]
      if not o then self:_not_found(r, name) end
      return resp(200, view(r, o))
    elseif m == "PUT" then
      local okj, obj = pcall(json.parse, req.body or "")
      if not okj then fail(400, "error decoding request body: " .. api.strip_position(tostring(obj))) end
      return resp(200, view(r, self:_update(r, ns, name, obj, sub)))
    elseif m == "PATCH" then
      local o, c, early = self:_patch(r, ns, name, req, sub)
      if early then return early end
      return resp(c, view(r, o))
    elseif m == "DELETE" then
      local o = self:_delete(r, ns, name)
      if r.name == "pods" then return resp(200, view(r, o)) end
      return resp(200, {kind = "Status", apiVersion = "v1", metadata = json.object({}), status = "Success",
        details = {name = name, group = r.group ~= "" and r.group or nil, kind = r.name, uid = o.metadata.uid}})
    end
    fail(405, "method " .. m .. " is not allowed")
  end)
  if saved then
    self.store, self.rv, self.gone_before, self._dry = saved.store, saved.rv, saved.gone, nil
    for i = #self.events, saved.events + 1, -1 do self.events[i] = nil end
  end
  if ok then return out end
  if type(out) == "table" and out.k8s then return resp(out.k8s.code, out.k8s) end
  error(out, 0)
end

-- the scale subresource (autoscaling/v1 Scale)

local function label_text(labels)
  local parts = {}
  for k, v in pairs(labels or {}) do parts[#parts + 1] = k .. "=" .. v end
  table.sort(parts)
  return table.concat(parts, ",")
end

function Fake:_scale(r, ns, name, req)
  local b = self:_bucket(r)
  local o = b[okey(ns, name)]
  if not o then self:_not_found(r, name) end
  local function scale_of(obj)
    local spec, st = obj.spec or {}, obj.status or {}
    local sel = type(spec.selector) == "table" and label_text(spec.selector.matchLabels) or ""
    return {kind = "Scale", apiVersion = "autoscaling/v1",
      metadata = {name = name, namespace = ns, uid = obj.metadata.uid,
        resourceVersion = obj.metadata.resourceVersion, creationTimestamp = obj.metadata.creationTimestamp},
      spec = {replicas = spec.replicas or 1}, status = {replicas = st.replicas or 0, selector = sel}}
  end
  local m = req.method
  if m == "GET" then return resp(200, scale_of(o)) end
  local new
  if m == "PUT" then
    local okj, body = pcall(json.parse, req.body or "")
    if not okj or not is_object(body) then fail(400, "error decoding request body") end
    new = body
  elseif m == "PATCH" then
    local ct = ((req.headers["content-type"] or ""):match("^[^;]*") or ""):lower()
    local okj, p = pcall(json.parse, req.body or "")
    if not okj then fail(400, "error decoding patch") end
    if ct == "application/merge-patch+json" or ct == "application/strategic-merge-patch+json" then
      new = merge_patch(scale_of(o), p)
    elseif ct == "application/json-patch+json" then new = json_patch(scale_of(o), p)
    else fail(415, "the body of the request was in an unknown format") end
  else
    fail(405, "method " .. m .. " is not allowed on scale")
  end
  local replicas = type(new.spec) == "table" and new.spec.replicas
  if math.type(replicas) ~= "integer" or replicas < 0 then
    fail(422, string.format('Scale.autoscaling "%s" is invalid: spec.replicas: Invalid value: must be greater than or equal to 0', name), "Invalid")
  end
  local rv = new.metadata and new.metadata.resourceVersion
  if m == "PUT" and rv and rv ~= "" and rv ~= o.metadata.resourceVersion then
    fail(409, string.format('Operation cannot be fulfilled on %s "%s": the object has been modified; please apply your changes to the latest version and try again',
      r.name .. (r.group ~= "" and "." .. r.group or ""), name), "Conflict", self:_gone(r, name))
  end
  local updated = deepcopy(o)
  updated.spec = updated.spec or {}
  updated.spec.replicas = replicas
  updated.metadata.resourceVersion = nil
  return resp(200, scale_of(self:_update(r, ns, name, updated)))
end

-- SelfSubjectAccessReview: allowed unless a rule given to `deny` matches

function Fake:_review(review)
  local a = type(review.spec) == "table" and review.spec.resourceAttributes
  local allowed, reason = true, "allowed by the fake (no deny rule matches)"
  if type(a) == "table" then
    for _, d in ipairs(self.denied) do
      if (d.verb == nil or d.verb == a.verb) and (d.resource == nil or d.resource == a.resource)
          and (d.group == nil or d.group == (a.group or "")) and (d.namespace == nil or d.namespace == a.namespace)
          and (d.name == nil or d.name == a.name) then
        allowed, reason = false, d.reason or "denied by the fake"
      end
    end
  end
  review = deepcopy(review)
  review.metadata = review.metadata or json.object({})
  review.status = {allowed = allowed, denied = not allowed or nil, reason = reason}
  return review
end

--- Makes SelfSubjectAccessReviews that match answer "not allowed" (any field left out matches all).
---@param rule {verb?: string, resource?: string, group?: string, namespace?: string, name?: string, reason?: string}
function Fake:deny(rule)
  rule = api.check_options("k8s.fake", "deny", 1, rule, {"verb", "resource", "group", "namespace", "name", "reason"}, "rule")
  self.denied[#self.denied + 1] = rule
end

-- pod logs

function Fake:_log(ns, name, q)
  local pods = self:_bucket(self.resources["v1/pods"])
  if not pods[okey(ns, name)] then self:_not_found(self.resources["v1/pods"], name) end
  local container = http.query_value(q, "container") or ""
  local key = ns .. "/" .. name .. "/" .. container
  if container ~= "" and not self.logs[key] then key = ns .. "/" .. name .. "/" end
  local follow = http.query_value(q, "follow") == "true"
  local tail = tonumber(http.query_value(q, "tailLines") or "")
  local lines = self.logs[key] or {}
  local from = tail and math.max(1, #lines - tail + 1) or 1
  local function text(upto)
    local out = {}
    local all = self.logs[key] or {}
    for i = from, upto or #all do out[#out + 1] = all[i] .. "\n" end
    return table.concat(out)
  end
  if not follow then
    return {status = 200, headers = {["content-type"] = "text/plain"}, body = text()}
  end
  -- followed: streamed as the test appends lines, until the log is `done`, the pod is deleted,
  -- follow_timeout passes or drop_watches cuts it
  local generation = self.drops
  return {status = 200, headers = {["content-type"] = "text/plain"}, stream = function(body)
    local deadline = time.monotonic() + self.follow_timeout
    local sent = from - 1
    while true do
      if self.drops ~= generation then error("k8s.fake: the test dropped this log's connection", 0) end
      local all = self.logs[key] or {}
      if #all > sent then
        body:write(text(#all))
        from, sent = #all + 1, #all
      end
      local alive = self:_bucket(self.resources["v1/pods"])[okey(ns, name)]
      if self.logs_done[key] or not alive or time.monotonic() >= deadline then return end
      sleep(0.02)
    end
  end}
end

--- Appends log lines to a pod's (container's) log. `done = true` ends a followed log.
---@param namespace string
---@param pod string
---@param text string lines, separated by newlines
---@param opts? {container?: string, done?: boolean}
function Fake:log(namespace, pod, text, opts)
  opts = opts or {}
  local key = namespace .. "/" .. pod .. "/" .. (opts.container or "")
  self.logs[key] = self.logs[key] or {}
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    if line ~= "" then table.insert(self.logs[key], line) end
  end
  if opts.done then self.logs_done[key] = true end
  if opts.container then
    -- also visible without a container (single-container pods)
    local k0 = namespace .. "/" .. pod .. "/"
    self.logs[k0] = self.logs[k0] or self.logs[key]
    if opts.done then self.logs_done[k0] = true end
  end
end

-- test helpers

--- Seeds an object directly (as a create would, with no request recorded); returns it.
---@param obj table with apiVersion, kind, metadata
---@return table
function Fake:add(obj)
  local r = self:_find(obj.kind, obj.apiVersion)
  if not r then error("k8s.fake.add: unknown kind " .. tostring(obj.apiVersion) .. "/" .. tostring(obj.kind), 2) end
  local ok, out = pcall(self._create, self, r, obj.metadata and obj.metadata.namespace, obj)
  if not ok then error("k8s.fake.add: " .. (type(out) == "table" and out.k8s and out.k8s.message or tostring(out)), 2) end
  return deepcopy(out)
end

--- Replaces an object's status (as a controller would); returns the object.
function Fake:set_status(resource, namespace, name, status)
  local r = self:_find(resource)
  local o = self:_bucket(r)[okey(r.namespaced and namespace or nil, name)]
  if not o then error("k8s.fake.set_status: no " .. resource .. " " .. name, 2) end
  local new = deepcopy(o); new.status = status; new.metadata.resourceVersion = nil
  return deepcopy(self:_update(r, r.namespaced and namespace or nil, name, new, "status"))
end

--- The stored object (a copy) or nil; resource is a plural, kind, short name or "group/version/plural".
---@return table|nil
function Fake:object(resource, namespace, name)
  local r = self:_find(resource)
  if not r then return nil end
  local o = self:_bucket(r)[okey(r.namespaced and namespace or nil, name)]
  return o and deepcopy(o) or nil
end

--- The stored objects of a resource (copies, sorted by namespace/name), optionally in one namespace.
---@return table[]
function Fake:objects(resource, namespace)
  local r = self:_find(resource)
  if not r then return {} end
  local b, out = self:_bucket(r), {}
  for _, k in ipairs(sorted_items(b, namespace)) do out[#out + 1] = deepcopy(b[k]) end
  return out
end

--- Simulates a controller finishing (or failing) a rollout of a Deployment, StatefulSet or
--- DaemonSet after `delay` seconds (default 0: at once): sets the status kubectl's rollout rules
--- read (observedGeneration, replicas, updated/ready/available), or with `fail = true` a
--- Progressing=False condition with reason ProgressDeadlineExceeded. Returns the task.
---@param resource string "deployments", "statefulsets", "daemonsets" (or kind / short name)
---@param namespace string
---@param name string
---@param opts? {delay?: number, fail?: boolean, ready?: integer}
function Fake:rollout(resource, namespace, name, opts)
  opts = api.check_options("k8s.fake", "rollout", 4, opts, {"delay", "fail", "ready"})
  local r = self:_find(resource)
  if not r or r.group ~= "apps" then error("k8s.fake.rollout: not a workload resource: " .. tostring(resource), 2) end
  local function finish()
    local o = self:_bucket(r)[okey(namespace, name)]
    if not o then return nil end
    local want = (o.spec or {}).replicas or 1
    if r.name == "daemonsets" then want = opts.ready or 1 end
    local ready = opts.ready or want
    local t = now_iso()
    local st
    if r.name == "deployments" then
      st = {observedGeneration = o.metadata.generation, replicas = want, updatedReplicas = want,
        readyReplicas = ready, availableReplicas = ready, unavailableReplicas = want - ready > 0 and want - ready or nil,
        conditions = {
          {type = "Available", status = ready >= want and "True" or "False", reason = "MinimumReplicasAvailable",
            lastUpdateTime = t, lastTransitionTime = t},
          opts.fail and {type = "Progressing", status = "False", reason = "ProgressDeadlineExceeded",
            message = 'ReplicaSet "' .. name .. '" has timed out progressing.', lastUpdateTime = t, lastTransitionTime = t}
            or {type = "Progressing", status = "True", reason = "NewReplicaSetAvailable",
            message = 'ReplicaSet "' .. name .. '" has successfully progressed.', lastUpdateTime = t, lastTransitionTime = t}}}
      if opts.fail then st.updatedReplicas, st.readyReplicas, st.availableReplicas = 0, 0, 0 end
    elseif r.name == "statefulsets" then
      st = {observedGeneration = o.metadata.generation, replicas = want, readyReplicas = ready,
        availableReplicas = ready, currentReplicas = want, updatedReplicas = want,
        currentRevision = name .. "-1", updateRevision = name .. "-1"}
    else
      st = {observedGeneration = o.metadata.generation, desiredNumberScheduled = want, currentNumberScheduled = want,
        updatedNumberScheduled = want, numberReady = ready, numberAvailable = ready, numberMisscheduled = 0}
    end
    return self:set_status(r.name, namespace, name, st)
  end
  local delay = opts.delay or 0
  if delay <= 0 then return finish() end
  return async.spawn(function() sleep(delay); return finish() end)
end

--- Forgets the watch history: a watch from an older resourceVersion gets 410 Expired.
function Fake:compact()
  self.events = {}
  self.gone_before = self.rv
end

--- Clears the recorded requests.
function Fake:clear_requests() self.requests = {} end

return M
