--- assay.k8s.fake_endpoints: the fake's discovery documents, the scale subresource and
--- SelfSubjectAccessReview (not a public API). Installed on the fake's class by assay.k8s.fake.

local api = require("assay.apiclient")
api.own_source()

return function(Fake, R)
local VERBS = {"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}
local fail, resp, gv, okey, deepcopy, is_object, merge_patch, json_patch, label_text =
  R.fail, R.resp, R.gv, R.okey, R.deepcopy, R.is_object, R.merge_patch, R.json_patch, R.label_text


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

-- the scale subresource (autoscaling/v1 Scale)

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

end
