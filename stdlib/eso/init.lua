--- assay.eso: the External Secrets Operator's resources (external-secrets.io) through
--- assay.k8s: ExternalSecrets, SecretStores, ClusterSecretStores (and ClusterExternalSecrets to
--- read and wait on); waiting until an ExternalSecret has synced; `sync` forcing a refresh as
--- the ESO docs say; the target Secret read back.
---
--- The API version is the one the cluster prefers (discovery): external-secrets.io/v1 since ESO
--- 0.16 (v1beta1 is no longer served from 0.17), v1beta1 on older installations.
---
--- local eso = require("assay.eso")
--- local c = eso.client()                        -- or eso.client{k8s = existing_k8s_client}
--- c:external_secret("db", {store = "vault", store_kind = "ClusterSecretStore", data = {password = {key = "db", property = "password"}}})
--- c:wait_ready("externalsecret", "db", {timeout = 60})
--- local values = c:secret("db")                 -- the target Secret, decoded

local k8s = require("assay.k8s")
local api = require("assay.apiclient")
local crd = require("assay.apiclient.crd")
api.own_source()
local raise = api.raise

local PKG = "eso"
local EXTERNAL_SECRETS = "externalsecrets.external-secrets.io"
local CLUSTER_EXTERNAL_SECRETS = "clusterexternalsecrets.external-secrets.io"
local STORES = "secretstores.external-secrets.io"
local CLUSTER_STORES = "clustersecretstores.external-secrets.io"

---@class eso
local M = {}

---@class eso.Client
---@field k8s k8s.Client the Kubernetes client underneath
---@field namespace string the namespace of calls that name none
local Client = {}
Client.__index = Client
Client.__tostring = function(self) return "eso.client(" .. tostring(self.k8s.server) .. ")" end

--- A client. `opts.k8s` reuses an assay.k8s client; otherwise the k8s.client options
--- (`server`, `token`, `kubeconfig`, `context`, `timeout`, ...) make a new one. `namespace`:
--- the default namespace of this client's calls (default: the k8s client's).
---@param opts? {k8s?: k8s.Client, namespace?: string, server?: string, token?: string, kubeconfig?: string, context?: string, timeout?: number}
---@return eso.Client
function M.client(opts)
  return setmetatable(crd.client(PKG, k8s, opts), Client)
end

local function call(fname, f, ...) return crd.call(PKG, fname, f, ...) end

local function lister(fname, resource, namespaced) return crd.lister(PKG, fname, resource, namespaced) end

local function getter(fname, resource, namespaced) return crd.getter(PKG, fname, resource, namespaced) end

--- ExternalSecrets (`kubectl get es`): the items, in the client's namespace, `namespace`, or all.
---@param opts? {namespace?: string, all_namespaces?: boolean, label_selector?: string|table}
---@return table[]
Client.external_secrets = lister("external_secrets", EXTERNAL_SECRETS, true)
--- ClusterExternalSecrets.
---@param opts? {label_selector?: string|table}
---@return table[]
Client.cluster_external_secrets = lister("cluster_external_secrets", CLUSTER_EXTERNAL_SECRETS, false)
--- SecretStores in a namespace (or all).
---@param opts? {namespace?: string, all_namespaces?: boolean, label_selector?: string|table}
---@return table[]
Client.secret_stores = lister("secret_stores", STORES, true)
--- ClusterSecretStores.
---@param opts? {label_selector?: string|table}
---@return table[]
Client.cluster_secret_stores = lister("cluster_secret_stores", CLUSTER_STORES, false)

--- An ExternalSecret, or nil and the API's Status when it does not exist.
---@param name string
---@param opts? {namespace?: string}
---@return table|nil
---@return table|nil status
Client.external_secret_get = getter("external_secret_get", EXTERNAL_SECRETS, true)
--- A ClusterExternalSecret, or nil and the Status.
---@param name string
---@return table|nil
---@return table|nil status
Client.cluster_external_secret_get = getter("cluster_external_secret_get", CLUSTER_EXTERNAL_SECRETS, false)
--- A SecretStore, or nil and the Status.
---@param name string
---@param opts? {namespace?: string}
---@return table|nil
---@return table|nil status
Client.secret_store_get = getter("secret_store_get", STORES, true)
--- A ClusterSecretStore, or nil and the Status.
---@param name string
---@return table|nil
---@return table|nil status
Client.cluster_secret_store_get = getter("cluster_secret_store_get", CLUSTER_STORES, false)

-- Creating --------------------------------------------------------------------------------------

-- the apiVersion the cluster prefers for a resource (discovery, cached by the k8s client)
local function api_version(self, fname, resource)
  local kc = self.k8s
  return call(fname, kc.resource, kc, resource, fname, 1).api_version
end

-- data: ESO's list as is, or {secretKey = "remote key" | remoteRef} (sorted by key)
local function data_list(fname, data)
  if data == nil then return nil end
  if type(data) ~= "table" then
    raise(("eso.%s: bad argument #2 'opts' (field 'data': table expected, got %s)"):format(fname, type(data)))
  end
  if data[1] ~= nil then return data end
  local keys = {}
  for k in pairs(data) do keys[#keys + 1] = k end
  table.sort(keys)
  local out = {}
  for _, k in ipairs(keys) do
    local ref = data[k]
    if type(ref) == "string" then ref = {key = ref} end
    if type(ref) ~= "table" or type(ref.key) ~= "string" then
      raise(("eso.%s: bad argument #2 'opts' (field 'data.%s': a remote key or {key = ..., property = ...} expected)"):format(fname, tostring(k)))
    end
    out[#out + 1] = {secretKey = k, remoteRef = ref}
  end
  return out
end

local ES_FIELDS = {
  namespace = "string", store = "string", store_kind = "string", target = "string",
  creation_policy = "string", deletion_policy = "string", refresh_interval = "duration",
  data = "table", data_from = "any", template = "table", labels = "table", annotations = "table",
  force = "boolean",
}
local ES_OPTIONS = {}
for k in pairs(ES_FIELDS) do ES_OPTIONS[#ES_OPTIONS + 1] = k end
table.sort(ES_OPTIONS)
ES_FIELDS.data_from = nil

---@class eso.ExternalSecretOptions
---@field store string the SecretStore (or ClusterSecretStore) to read from
---@field store_kind? "SecretStore"|"ClusterSecretStore" default SecretStore
---@field data? table {secret_key = "remote key" | {key = ..., property = ..., version = ...}}, or ESO's `data` list
---@field data_from? string|table a remote key whose properties all become keys ({{extract = {key = ...}}}), or ESO's `dataFrom` list
---@field target? string the Secret's name (default: the ExternalSecret's)
---@field creation_policy? "Owner"|"Orphan"|"Merge"|"None"
---@field deletion_policy? "Retain"|"Delete"|"Merge"
---@field refresh_interval? string|number "1h" or seconds (ESO's default 1h)
---@field template? table spec.target.template
---@field labels? table
---@field annotations? table
---@field namespace? string
---@field force? boolean take fields another field manager owns (server-side apply)

--- Creates or updates an ExternalSecret (server-side apply, in the API version the cluster
--- prefers); returns the stored object. `store` and one of `data`/`data_from` are required.
---@param name string
---@param opts eso.ExternalSecretOptions
---@return table
function Client:external_secret(name, opts)
  api.check_name(PKG, "external_secret", 1, "name", name)
  if type(opts) ~= "table" then
    raise(("eso.external_secret: bad argument #2 'opts' (table expected, got %s)"):format(type(opts)))
  end
  api.check_options(PKG, "external_secret", 2, opts, ES_OPTIONS)
  opts = crd.check_fields(PKG, "external_secret", 2, opts, ES_FIELDS)
  if not opts.store or opts.store == "" then
    raise("eso.external_secret: bad argument #2 'opts' (field 'store': the SecretStore's name is required)")
  end
  local kind = opts.store_kind or "SecretStore"
  if kind ~= "SecretStore" and kind ~= "ClusterSecretStore" then
    raise(("eso.external_secret: bad argument #2 'opts' (field 'store_kind': SecretStore or ClusterSecretStore expected, got %q)"):format(kind))
  end
  local data = data_list("external_secret", opts.data)
  local from = opts.data_from
  if type(from) == "string" then from = {{extract = {key = from}}}
  elseif from ~= nil and type(from) ~= "table" then
    raise(("eso.external_secret: bad argument #2 'opts' (field 'data_from': string or table expected, got %s)"):format(type(from)))
  end
  if not data and not from then
    raise("eso.external_secret: bad argument #2 'opts' (one of data or data_from is required)")
  end
  local target
  if opts.target or opts.creation_policy or opts.deletion_policy or opts.template then
    target = {name = opts.target, creationPolicy = opts.creation_policy, deletionPolicy = opts.deletion_policy,
      template = opts.template}
  end
  local ns = opts.namespace or self.namespace
  local obj = {apiVersion = api_version(self, "external_secret", EXTERNAL_SECRETS), kind = "ExternalSecret",
    metadata = {name = name, namespace = ns, labels = opts.labels, annotations = opts.annotations},
    spec = {refreshInterval = opts.refresh_interval, secretStoreRef = {name = opts.store, kind = kind},
      target = target, data = data, dataFrom = from}}
  local kc = self.k8s
  return call("external_secret", kc.apply, kc, obj, {namespace = ns, force = opts.force})
end

local function store_apply(self, fname, resource, kind, name, provider, opts, namespaced)
  api.check_name(PKG, fname, 1, "name", name)
  if type(provider) ~= "table" or next(provider) == nil then
    raise(("eso.%s: bad argument #2 'provider' (the provider's configuration expected, e.g. {vault = {server = ..., path = ..., auth = ...}}; got %s)")
      :format(fname, type(provider) == "table" and "an empty table" or type(provider)))
  end
  opts = api.check_options(PKG, fname, 3, opts, namespaced and {"namespace", "refresh_interval", "labels", "annotations"}
    or {"refresh_interval", "labels", "annotations"})
  if opts.refresh_interval ~= nil and math.type(opts.refresh_interval) ~= "integer" then
    raise(("eso.%s: bad argument #3 'opts' (field 'refresh_interval': integer seconds expected, got %s)"):format(fname, type(opts.refresh_interval)))
  end
  local ns = namespaced and (opts.namespace or self.namespace) or nil
  local obj = {apiVersion = api_version(self, fname, resource), kind = kind,
    metadata = {name = name, namespace = ns, labels = opts.labels, annotations = opts.annotations},
    spec = {provider = provider, refreshInterval = opts.refresh_interval}}
  local kc = self.k8s
  return call(fname, kc.apply, kc, obj, {namespace = ns})
end

--- Creates or updates a SecretStore (server-side apply) with `provider` as ESO spells it:
--- `{vault = {server = ..., path = "secret", version = "v2", auth = {...}}}`, `{aws = {...}}`,
--- `{fake = {data = {...}}}`. `refresh_interval`: seconds between the store's validations.
---@param name string
---@param provider table
---@param opts? {namespace?: string, refresh_interval?: integer, labels?: table, annotations?: table}
---@return table
function Client:secret_store(name, provider, opts)
  return store_apply(self, "secret_store", STORES, "SecretStore", name, provider, opts, true)
end

--- Creates or updates a ClusterSecretStore (as `secret_store`, cluster-wide).
---@param name string
---@param provider table
---@param opts? {refresh_interval?: integer, labels?: table, annotations?: table}
---@return table
function Client:cluster_secret_store(name, provider, opts)
  return store_apply(self, "cluster_secret_store", CLUSTER_STORES, "ClusterSecretStore", name, provider, opts, false)
end

-- Waiting, syncing, reading back ----------------------------------------------------------------

local cond, cond_text = crd.condition, crd.condition_text

-- Ready=True with reason SecretSynced (refreshed at `since` or later, when given)
local function external_secret_rule(since)
  return function(o)
    local ready = cond(o, "Ready")
    if not ready or ready.status ~= "True" then return false, cond_text(ready, "Ready") end
    if ready.reason and ready.reason ~= "SecretSynced" then return false, cond_text(ready, "Ready") end
    local refreshed = (o.status or {}).refreshTime
    if since and (type(refreshed) ~= "string" or refreshed < since) then
      return false, ("last refresh %s, before the sync asked at %s"):format(tostring(refreshed or "never"), since)
    end
    return true, cond_text(ready, "Ready")
  end
end

local ready_rule = crd.all_true{"Ready"}

local ES = {resource = EXTERNAL_SECRETS, label = "externalsecret", namespaced = true}
local CES = {resource = CLUSTER_EXTERNAL_SECRETS, label = "clusterexternalsecret", namespaced = false, rule = ready_rule}
local SS = {resource = STORES, label = "secretstore", namespaced = true, rule = ready_rule}
local CSS = {resource = CLUSTER_STORES, label = "clustersecretstore", namespaced = false, rule = ready_rule}
local KINDS = {
  externalsecret = ES, externalsecrets = ES, external_secret = ES, es = ES,
  clusterexternalsecret = CES, clusterexternalsecrets = CES, cluster_external_secret = CES, ces = CES,
  secretstore = SS, secretstores = SS, secret_store = SS, ss = SS,
  clustersecretstore = CSS, clustersecretstores = CSS, cluster_secret_store = CSS, css = CSS,
}

---@class eso.WaitOptions
---@field namespace? string
---@field timeout? number seconds (default 60)
---@field interval? number seconds between reads (default 1)
---@field since? string an RFC 3339 time ("2026-01-02T03:04:05Z"): an ExternalSecret must also have been refreshed then or later (`status.refreshTime`)

--- Waits until an ESO object is ready and returns it:
--- - `"externalsecret"` (`"es"`): condition Ready=True with reason SecretSynced (and, with
---   `since`, `status.refreshTime` at or after it). ESO retries a failed sync, so
---   SecretSyncedError is waited on and reported at the timeout with ESO's message:
---   `eso.wait_ready: externalsecret default/db not ready after 60s: Ready=False
---   (SecretSyncedError: could not get secret data from provider)`;
--- - `"secretstore"`, `"clustersecretstore"`, `"clusterexternalsecret"`: Ready=True.
---@param kind string
---@param name string
---@param opts? eso.WaitOptions
---@return table
function Client:wait_ready(kind, name, opts)
  local e = crd.kind(PKG, "wait_ready", 1, KINDS,
    "externalsecret, secretstore, clustersecretstore or clusterexternalsecret", kind)
  api.check_name(PKG, "wait_ready", 2, "name", name)
  opts = api.check_options(PKG, "wait_ready", 3, opts, {"namespace", "timeout", "interval", "since"})
  api.check_field(PKG, "wait_ready", 3, "since", opts.since, "string")
  if opts.since and e ~= ES then
    raise("eso.wait_ready: bad argument #3 'opts' (field 'since': only an externalsecret has a refresh time)")
  end
  local ns = e.namespaced and (opts.namespace or self.namespace) or nil
  return crd.wait{pkg = PKG, fname = "wait_ready", k8s = self.k8s, resource = e.resource, name = name,
    namespace = ns, opts = opts, rule = e.rule or external_secret_rule(opts.since),
    what = crd.label(e.label, ns, name)}
end

--- Forces an ExternalSecret to sync now, the way the ESO docs say (`kubectl annotate es NAME
--- force-sync=$(date +%s) --overwrite`): a merge patch setting the `force-sync` annotation to
--- the current Unix time. Returns the patched ExternalSecret, or nil when it does not exist.
--- With `wait = true`, then waits (as `wait_ready` with `since` = the sync's time, `timeout`,
--- `interval`) until ESO has refreshed it, and returns that.
---@param name string
---@param opts? {namespace?: string, wait?: boolean, timeout?: number, interval?: number}
---@return table|nil
function Client:sync(name, opts)
  api.check_name(PKG, "sync", 1, "name", name)
  opts = api.check_options(PKG, "sync", 2, opts, {"namespace", "wait", "timeout", "interval"})
  api.check_field(PKG, "sync", 2, "wait", opts.wait, "boolean")
  local ns = opts.namespace or self.namespace
  local kc = self.k8s
  local now = time()
  local since = time.iso(math.floor(now), {precision = 0})
  local ok, out = pcall(kc.patch, kc, EXTERNAL_SECRETS, name,
    {metadata = {annotations = {["force-sync"] = ("%d"):format(math.floor(now))}}}, {namespace = ns})
  if not ok then
    if type(out) == "string" and out:find(": 404 ", 1, true) then return nil end
    crd.fail(PKG, "sync", out)
  end
  if not opts.wait then return out end
  return crd.wait{pkg = PKG, fname = "sync", k8s = kc, resource = EXTERNAL_SECRETS, name = name, namespace = ns,
    opts = {timeout = opts.timeout, interval = opts.interval}, argn = 2, rule = external_secret_rule(since),
    what = crd.label("externalsecret", ns, name)}
end

--- The values of an ExternalSecret's target Secret (`spec.target.name`, else the
--- ExternalSecret's name), base64-decoded, and the Secret; nil and the Status when the
--- ExternalSecret or the Secret does not exist (before the first sync). Wait with `wait_ready`
--- first for values that are current.
---@param name string
---@param opts? {namespace?: string}
---@return table<string, string>|nil values
---@return table secret_or_status
function Client:secret(name, opts)
  api.check_name(PKG, "secret", 1, "name", name)
  opts = api.check_options(PKG, "secret", 2, opts, {"namespace"})
  local ns = opts.namespace or self.namespace
  local kc = self.k8s
  local es, st = call("secret", kc.get, kc, EXTERNAL_SECRETS, name, {namespace = ns})
  if not es then return nil, st end
  local target = type(es.spec) == "table" and type(es.spec.target) == "table" and es.spec.target.name or name
  return call("secret", kc.secret_get, kc, target, {namespace = ns})
end

return M
