--- assay.k8s.manifests: applying multi-document manifests (`kubectl apply --server-side -f`).
--- Loaded by assay.k8s on first use of `apply_yaml`, `apply_file` or `apply_all`.
---
--- Objects are applied in dependency order, Helm's install order (namespaces, then what pods
--- need: quotas, service accounts, secrets, configmaps, storage, CRDs, RBAC, services, then
--- workloads), kinds it does not know (custom resources) last; documents of one kind keep their
--- order. After a CustomResourceDefinition is applied, the apply waits (up to `crd_timeout`,
--- default 30 s) for it to be Established before its custom resources are applied, as they
--- cannot be served before. `List` documents are unpacked; empty documents are skipped.

local k8s = require("assay.k8s")
local Client = k8s._Client
local api = require("assay.apiclient")
api.own_source()
local raise = api.raise

local ORDER = {"Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodSecurityPolicy",
  "PodDisruptionBudget", "ServiceAccount", "Secret", "SecretList", "ConfigMap", "StorageClass",
  "PersistentVolume", "PersistentVolumeClaim", "CustomResourceDefinition", "ClusterRole",
  "ClusterRoleList", "ClusterRoleBinding", "ClusterRoleBindingList", "Role", "RoleList", "RoleBinding",
  "RoleBindingList", "Service", "DaemonSet", "Pod", "ReplicationController", "ReplicaSet", "Deployment",
  "HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob", "IngressClass", "Ingress", "APIService",
  "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"}
local RANK = {}
for i, k in ipairs(ORDER) do RANK[k] = i end

-- The objects of parsed documents, checked, Lists unpacked; `where` names the source.
local function objects_of(fname, docs, where)
  local out = {}
  local function add(o, i)
    if o == nil or o == json.null then return end
    if type(o) ~= "table" then
      raise(("k8s.%s: %s: document %d is not an object"):format(fname, where, i))
    end
    if type(o.kind) == "string" and o.kind:match("List$") and type(o.items) == "table" and o.metadata == nil
        or o.kind == "List" then
      for _, it in ipairs(o.items or {}) do add(it, i) end
      return
    end
    if type(o.apiVersion) ~= "string" or type(o.kind) ~= "string" then
      raise(("k8s.%s: %s: document %d has no apiVersion and kind"):format(fname, where, i))
    end
    if type(o.metadata) ~= "table" or type(o.metadata.name) ~= "string" or o.metadata.name == "" then
      raise(("k8s.%s: %s: document %d (%s) has no metadata.name"):format(fname, where, i, o.kind))
    end
    out[#out + 1] = {obj = o, doc = i}
  end
  for i, d in ipairs(docs) do add(d, i) end
  return out
end

local function sorted(entries)
  for i, e in ipairs(entries) do e.pos = i end
  table.sort(entries, function(a, b)
    local ra, rb = RANK[a.obj.kind] or #ORDER + 1, RANK[b.obj.kind] or #ORDER + 1
    if ra ~= rb then return ra < rb end
    return a.pos < b.pos
  end)
  return entries
end

local APPLY_OPTIONS = {"namespace", "field_manager", "force", "dry_run", "crd_timeout"}

---@class k8s.ApplyAllOptions
---@field namespace? string for namespaced objects that name none (default the client's)
---@field field_manager? string
---@field force? boolean take fields other managers own
---@field dry_run? boolean the server checks without storing
---@field crd_timeout? number seconds to wait for each CRD to be Established (default 30)

--- Applies objects (a list of tables) in dependency order by server-side apply; returns what
--- the server stored, in the order applied. A failure raises naming the object, and the objects
--- before it stay applied (as kubectl apply).
---@param objs table[]
---@param opts? k8s.ApplyAllOptions
---@return table[]
function Client:apply_all(objs, opts)
  opts = api.check_options("k8s", "apply_all", 2, opts, APPLY_OPTIONS)
  if type(objs) ~= "table" then
    raise(("k8s.apply_all: bad argument #1 'objects' (table expected, got %s)"):format(type(objs)))
  end
  return self:_apply_entries("apply_all", objects_of("apply_all", objs, "objects"), opts)
end

function Client:_apply_entries(fname, entries, opts)
  local applied = {}
  local crd_timeout = opts.crd_timeout or 30
  for _, e in ipairs(sorted(entries)) do
    local o = e.obj
    local ok, out = pcall(self.apply, self, o, {namespace = opts.namespace, field_manager = opts.field_manager,
      force = opts.force, dry_run = opts.dry_run})
    if not ok then
      local md = o.metadata
      error(("k8s.%s: %s %s%s (document %d): %s"):format(fname, o.kind, md.namespace and (md.namespace .. "/") or "",
        md.name, e.doc, api.strip_position(out):gsub("^k8s%.apply: ", "")), 0)
    end
    applied[#applied + 1] = out
    if o.kind == "CustomResourceDefinition" and not opts.dry_run then
      self:wait_ready("customresourcedefinitions", o.metadata.name,
        {condition = "Established", timeout = crd_timeout, interval = 0.2})
      -- its resources are new to discovery
      self._discovery.groups = nil
      self._discovery.lists = {}
    end
  end
  return applied
end

--- Applies every document of a YAML (or JSON) text; see `apply_all`.
---@param text string
---@param opts? k8s.ApplyAllOptions
---@return table[]
function Client:apply_yaml(text, opts)
  opts = api.check_options("k8s", "apply_yaml", 2, opts, APPLY_OPTIONS)
  if type(text) ~= "string" then
    raise(("k8s.apply_yaml: bad argument #1 'text' (string expected, got %s)"):format(type(text)))
  end
  local ok, docs = pcall(yaml.parse_all, text)
  if not ok then raise("k8s.apply_yaml: " .. api.strip_position(docs)) end
  return self:_apply_entries("apply_yaml", objects_of("apply_yaml", docs, "text"), opts)
end

--- Applies every document of a YAML file, or of every *.yaml, *.yml and *.json file of a
--- folder (sorted by name, not recursive); see `apply_all`.
---@param path string
---@param opts? k8s.ApplyAllOptions
---@return table[]
function Client:apply_file(path, opts)
  opts = api.check_options("k8s", "apply_file", 2, opts, APPLY_OPTIONS)
  api.check_name("k8s", "apply_file", 1, "path", path)
  local files = {}
  local oks, st = pcall(fs.stat, path)
  if not oks then raise("k8s.apply_file: " .. api.strip_position(st)) end
  if st.is_dir then
    for _, n in ipairs(fs.list(path)) do
      if n:match("%.ya?ml$") or n:match("%.json$") then files[#files + 1] = path .. "/" .. n end
    end
    table.sort(files)
  else
    files[1] = path
  end
  local entries = {}
  for _, f in ipairs(files) do
    local okr, text = pcall(fs.read, f)
    if not okr then raise("k8s.apply_file: " .. api.strip_position(text)) end
    local ok, docs = pcall(yaml.parse_all, text)
    if not ok then raise(("k8s.apply_file: %s: %s"):format(f, api.strip_position(docs))) end
    for _, e in ipairs(objects_of("apply_file", docs, f)) do entries[#entries + 1] = e end
  end
  return self:_apply_entries("apply_file", entries, opts)
end
