--- assay.k8s.discovery: what a resource name means. Built-in kinds come from
--- assay.k8s.resources without a request; anything else (a CRD's plural, kind or short name)
--- from API discovery (`/api/v1`, `/apis`, `/apis/<group>/<version>`), cached for ten minutes
--- and asked again once on a miss (a CRD created since). As kubectl, a bare name is looked up in
--- the core group first, then in the groups in the server's order. Loaded by assay.k8s on the
--- first call that names a resource.

local k8s = require("assay.k8s")
local Client = k8s._Client
local api = require("assay.apiclient")
api.own_source()
local raise = api.raise
local resources = require("assay.k8s.resources")

local DISCOVERY_TTL = 600

-- The core group's and one group version's resources (`/api/v1`, `/apis/g/v`), cached.
function Client:_group_version(fname, group, version, fresh)
  local key = resources.api_version(group, version)
  local d = self._discovery
  if not fresh and d.lists[key] and time.monotonic() - d.lists[key].at < DISCOVERY_TTL then
    return d.lists[key].items
  end
  local path = group == "" and "/api/" .. version or "/apis/" .. group .. "/" .. version
  local list = self:_call(fname, "GET", path, {absent_ok = true})
  local items = {}
  local by_name = {}
  for _, e in ipairs(list and list.resources or {}) do
    local parent, sub = e.name:match("^([^/]+)/(.+)$")
    if parent then
      local p = by_name[parent]
      if p and sub == "status" then p.status = true end
      if p and sub == "scale" then p.scale = true end
    else
      local r = resources.new(group, version, e.name, e.kind, e.namespaced, e.shortNames, e.singularName)
      items[#items + 1] = r
      by_name[e.name] = r
    end
  end
  d.lists[key] = {items = items, at = time.monotonic()}
  return items
end

-- The served groups and their preferred versions (`/apis`), cached.
function Client:_groups(fname, fresh)
  local d = self._discovery
  if not fresh and d.groups and time.monotonic() - d.groups_at < DISCOVERY_TTL then return d.groups end
  local list = self:_call(fname, "GET", "/apis")
  local groups = {}
  for _, g in ipairs(list.groups or {}) do
    local versions = {}
    for _, v in ipairs(g.versions or {}) do versions[#versions + 1] = v.version end
    groups[#groups + 1] = {name = g.name, versions = versions,
      preferred = g.preferredVersion and g.preferredVersion.version or versions[1]}
  end
  d.groups, d.groups_at = groups, time.monotonic()
  return groups
end

-- The first resource of discovery n names: the core group first, then the groups in the
-- server's order (built-in groups before custom ones), as kubectl resolves a bare name.
function Client:_discover(fname, n, fresh)
  local function search(group, version)
    for _, r in ipairs(self:_group_version(fname, group, version, fresh)) do
      if resources.matches(r, n) then return r end
    end
    return nil
  end
  if n.group == "" or n.group == nil then
    local r = search("", n.version or "v1")
    if r or n.group == "" then return r end
  end
  for _, g in ipairs(self:_groups(fname, fresh)) do
    if n.group == nil or g.name == n.group then
      local version = n.version or g.preferred
      local served = false
      for _, v in ipairs(g.versions) do served = served or v == version end
      if served then
        local r = search(g.name, version)
        if r then return r end
      end
    end
  end
  return nil
end

--- The resource a kubectl-style name means: built in, else found by discovery (cached; asked
--- again once when not found, for a CRD created since).
---@param name string "deployment", "deploy", "deployments.apps", "apps/v1/Deployment", a CRD's plural
---@return k8s.Resource
function Client:resource(name, fname, argn)
  fname, argn = fname or "resource", argn or 1
  if type(name) == "table" and name.kind and name.api_version then return name end
  api.check_name("k8s", fname, argn, "resource", name)
  local r = resources.lookup(name)
  if r then return r end
  local n = resources.parse(name)
  if not n then
    raise(("k8s.%s: bad argument #%d 'resource' (not a resource name: %q)"):format(fname, argn, name))
  end
  r = self:_discover(fname, n, false) or self:_discover(fname, n, true)
  if not r then
    raise(('k8s.%s: the server doesn\'t have a resource type "%s"'):format(fname, name))
  end
  return r
end

--- The resource of an object (its apiVersion and kind).
---@private
function Client:_resource_of(fname, obj, argn)
  if type(obj) ~= "table" then
    raise(("k8s.%s: bad argument #%d 'object' (table expected, got %s)"):format(fname, argn, type(obj)))
  end
  local av, kind = obj.apiVersion, obj.kind
  if type(av) ~= "string" or type(kind) ~= "string" or av == "" or kind == "" then
    raise(("k8s.%s: bad argument #%d 'object' (apiVersion and kind are required)"):format(fname, argn))
  end
  if type(obj.metadata) ~= "table" then
    raise(("k8s.%s: bad argument #%d 'object' (metadata is required)"):format(fname, argn))
  end
  local r = resources.by_kind(av, kind)
  if r then return r end
  local group, version = av:match("^(.+)/([^/]+)$")
  if not group then group, version = "", av end
  local n = {name = kind, group = group, version = version}
  r = self:_discover(fname, n, false) or self:_discover(fname, n, true)
  if not r or r.kind ~= kind then
    raise(('k8s.%s: no matches for kind "%s" in version "%s"'):format(fname, kind, av))
  end
  return r
end
