--- assay.k8s.fake: an in-memory Kubernetes API server (http.server) for tests without a cluster.
--- Serves discovery, get/list/create/replace/patch/delete/deletecollection, the status
--- subresource, watch (streamed NDJSON) and pod logs fed by the test (followed as streams).
local api = require("assay.apiclient")
api.own_source()
local resources = require("assay.k8s.resources")
local R = require("assay.k8s.fake_rules")
local now_iso, deepcopy, is_object, gv, status_obj, fail, resp, merge_patch, strip_directives, json_patch, storage_key, okey, view, random_suffix, sorted_items, decode_segs, field_selector =
  R.now_iso, R.deepcopy, R.is_object, R.gv, R.status_obj, R.fail, R.resp, R.merge_patch, R.strip_directives, R.json_patch, R.storage_key, R.okey, R.view, R.random_suffix, R.sorted_items, R.decode_segs, R.field_selector

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

M.label_selector, M._merge_patch, M._json_patch = R.label_selector, merge_patch, json_patch

-- the server ------------------------------------------------------------------------------------

local Fake = {}
Fake.__index = Fake
require("assay.k8s.fake_streams")(Fake, R)
require("assay.k8s.fake_endpoints")(Fake, R)

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

function Fake:_bucket(r) return self.store[storage_key(r)] end

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

function Fake:_list(r, ns, q)
  local lsel = R.label_selector(http.query_value(q, "labelSelector"))
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

-- routing

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
