--- assay.k8s.resources: the built-in Kubernetes resources (what `kubectl api-resources` lists
--- for the kinds scripts use), so common names resolve without a discovery round trip, and
--- the parsing of resource names as kubectl writes them. Shared by the client and the fake.
---
--- A name is what kubectl accepts: a plural ("deployments"), a singular ("deployment"), a short
--- name ("deploy"), a kind in any case ("Deployment"), qualified by group ("deployments.apps")
--- or version and group ("deployments.v1.apps"), or an apiVersion and kind or plural
--- ("apps/v1/Deployment", "v1/configmaps").

---@class k8s.Resource
---@field group string "" for the core group
---@field version string
---@field name string the plural, as in URLs
---@field singular string
---@field kind string
---@field namespaced boolean
---@field short string[]
---@field status boolean has a status subresource
---@field scale boolean has a scale subresource
---@field api_version string "v1" or "group/version"

local M = {}

-- group, version, plural, kind, namespaced, short names, subresources ("s" status, "c" scale)
local TABLE = {
  {"", "v1", "namespaces", "Namespace", false, {"ns"}, "s"},
  {"", "v1", "nodes", "Node", false, {"no"}, "s"},
  {"", "v1", "persistentvolumes", "PersistentVolume", false, {"pv"}, "s"},
  {"", "v1", "pods", "Pod", true, {"po"}, "s"},
  {"", "v1", "services", "Service", true, {"svc"}, "s"},
  {"", "v1", "endpoints", "Endpoints", true, {"ep"}, ""},
  {"", "v1", "configmaps", "ConfigMap", true, {"cm"}, ""},
  {"", "v1", "secrets", "Secret", true, {}, ""},
  {"", "v1", "serviceaccounts", "ServiceAccount", true, {"sa"}, ""},
  {"", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", true, {"pvc"}, "s"},
  {"", "v1", "events", "Event", true, {"ev"}, ""},
  {"", "v1", "limitranges", "LimitRange", true, {"limits"}, ""},
  {"", "v1", "resourcequotas", "ResourceQuota", true, {"quota"}, "s"},
  {"", "v1", "replicationcontrollers", "ReplicationController", true, {"rc"}, "sc"},
  {"apps", "v1", "deployments", "Deployment", true, {"deploy"}, "sc"},
  {"apps", "v1", "statefulsets", "StatefulSet", true, {"sts"}, "sc"},
  {"apps", "v1", "daemonsets", "DaemonSet", true, {"ds"}, "s"},
  {"apps", "v1", "replicasets", "ReplicaSet", true, {"rs"}, "sc"},
  {"batch", "v1", "jobs", "Job", true, {}, "s"},
  {"batch", "v1", "cronjobs", "CronJob", true, {"cj"}, "s"},
  {"autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", true, {"hpa"}, "s"},
  {"policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", true, {"pdb"}, "s"},
  {"networking.k8s.io", "v1", "ingresses", "Ingress", true, {"ing"}, "s"},
  {"networking.k8s.io", "v1", "ingressclasses", "IngressClass", false, {}, ""},
  {"networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", true, {"netpol"}, ""},
  {"rbac.authorization.k8s.io", "v1", "roles", "Role", true, {}, ""},
  {"rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", true, {}, ""},
  {"rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", false, {}, ""},
  {"rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", false, {}, ""},
  {"storage.k8s.io", "v1", "storageclasses", "StorageClass", false, {"sc"}, ""},
  {"coordination.k8s.io", "v1", "leases", "Lease", true, {}, ""},
  {"apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", false,
    {"crd", "crds"}, "s"},
  {"authorization.k8s.io", "v1", "selfsubjectaccessreviews", "SelfSubjectAccessReview", false, {}, ""},
}

--- The apiVersion of a group and version: "v1" for the core group, else "group/version".
---@param group string
---@param version string
---@return string
function M.api_version(group, version)
  return group == "" and version or group .. "/" .. version
end

--- A resource record from discovery's or the table's fields.
---@return k8s.Resource
function M.new(group, version, name, kind, namespaced, short, singular, status, scale)
  return {group = group, version = version, name = name, kind = kind, namespaced = namespaced,
    short = short or {}, singular = (singular and singular ~= "") and singular or kind:lower(),
    status = status == true, scale = scale == true, api_version = M.api_version(group, version)}
end

local builtin
--- The built-in resources (a fresh list of records each call).
---@return k8s.Resource[]
function M.builtin()
  local out = {}
  for i, b in ipairs(TABLE) do
    out[i] = M.new(b[1], b[2], b[3], b[4], b[5], b[6], nil, b[7]:find("s", 1, true) ~= nil,
      b[7]:find("c", 1, true) ~= nil)
  end
  return out
end

---@class k8s.ResourceName
---@field name string the plural, singular, short name or kind, as written
---@field group string|nil nil when not given
---@field version string|nil nil when not given

--- Splits a resource name as kubectl does: "deployments.v1.apps" -> deployments, v1, apps;
--- "deployments.apps" -> deployments, apps; "apps/v1/Deployment" -> Deployment, v1, apps;
--- "v1/ConfigMap" -> ConfigMap, v1, "". nil when it is not a name at all.
---@param s string
---@return k8s.ResourceName|nil
function M.parse(s)
  if type(s) ~= "string" or s == "" or s:find("[%s]") then return nil end
  local parts = {}
  for p in s:gmatch("[^/]+") do parts[#parts + 1] = p end
  if s:find("//", 1, true) or s:sub(1, 1) == "/" or s:sub(-1) == "/" then return nil end
  if #parts == 3 then return {name = parts[3], version = parts[2], group = parts[1]} end
  if #parts == 2 then
    -- "v1/ConfigMap" is the core group; "apps/Deployment" (no version) is not a form kubectl takes
    if not parts[1]:match("^v%d") then return nil end
    return {name = parts[2], version = parts[1], group = ""}
  end
  if #parts ~= 1 then return nil end
  local name, rest = s:match("^([^.]+)%.(.+)$")
  if not name then return {name = s} end
  -- "deployments.v1.apps": a version right after the name
  local version, group = rest:match("^(v%d+[a-z0-9]*)%.(.+)$")
  if version then return {name = name, version = version, group = group} end
  return {name = name, group = rest}
end

--- Whether resource r is what `n` (a parsed name) names: its plural, singular, kind (any case)
--- or a short name, in the group and version when `n` gives them.
---@param r k8s.Resource
---@param n k8s.ResourceName
---@return boolean
function M.matches(r, n)
  if n.group ~= nil and n.group ~= r.group then return false end
  if n.version ~= nil and n.version ~= r.version then return false end
  local lower = n.name:lower()
  if r.name == lower or r.singular == lower or r.kind:lower() == lower then return true end
  for _, s in ipairs(r.short) do if s == lower then return true end end
  return false
end

--- The built-in resource a name means, or nil (not built in, or ambiguous).
---@param s string
---@return k8s.Resource|nil
function M.lookup(s)
  local n = M.parse(s)
  if not n then return nil end
  builtin = builtin or M.builtin()
  local found
  for _, r in ipairs(builtin) do
    if M.matches(r, n) then
      if found then return nil end
      found = r
    end
  end
  return found
end

--- The built-in resource of an apiVersion and kind, or nil.
---@param api_version string
---@param kind string
---@return k8s.Resource|nil
function M.by_kind(api_version, kind)
  builtin = builtin or M.builtin()
  for _, r in ipairs(builtin) do
    if r.api_version == api_version and r.kind == kind then return r end
  end
  return nil
end

return M
