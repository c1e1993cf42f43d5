--- assay.crossplane: Crossplane's resources through assay.k8s: packages (Providers,
--- Configurations, Functions: pkg.crossplane.io), CompositeResourceDefinitions and Compositions
--- (apiextensions.crossplane.io), and the claims, composite and managed resources of any kind,
--- waited for as Crossplane reports them (Synced and Ready).
---
--- local crossplane = require("assay.crossplane")
--- local c = crossplane.client()                  -- or crossplane.client{k8s = existing_k8s_client}
--- c:provider("provider-aws-s3", "xpkg.upbound.io/upbound/provider-aws-s3:v1.1.0")
--- c:wait_ready("provider", "provider-aws-s3", {timeout = 300})
--- c:wait_ready("postgresqlinstances", "db", {namespace = "prod", timeout = 600})  -- a claim

local k8s = require("assay.k8s")
local api = require("assay.apiclient")
local crd = require("assay.apiclient.crd")
api.own_source()
local raise = api.raise

local PKG = "crossplane"
local PKG_API = "pkg.crossplane.io/v1"
local PROVIDERS = "providers.pkg.crossplane.io"
local CONFIGURATIONS = "configurations.pkg.crossplane.io"
local FUNCTIONS = "functions.pkg.crossplane.io"
local XRDS = "compositeresourcedefinitions.apiextensions.crossplane.io"
local COMPOSITIONS = "compositions.apiextensions.crossplane.io"

---@class crossplane
local M = {}

---@class crossplane.Client
---@field k8s k8s.Client the Kubernetes client underneath
---@field namespace string the namespace of claims when none is named
local Client = {}
Client.__index = Client
Client.__tostring = function(self) return "crossplane.client(" .. tostring(self.k8s.server) .. ")" end

--- A client. `opts.k8s` reuses an assay.k8s client; otherwise the k8s.client options
--- (`server`, `token`, `kubeconfig`, `context`, `timeout`, ...) make a new one. `namespace`:
--- the default namespace of claims (default: the k8s client's).
---@param opts? {k8s?: k8s.Client, namespace?: string, server?: string, token?: string, kubeconfig?: string, context?: string, timeout?: number}
---@return crossplane.Client
function M.client(opts)
  return setmetatable(crd.client(PKG, k8s, opts), Client)
end

local function call(fname, f, ...) return crd.call(PKG, fname, f, ...) end

-- cluster-scoped kinds: list and get
local function lister(fname, resource) return crd.lister(PKG, fname, resource, false) end

local function getter(fname, resource) return crd.getter(PKG, fname, resource, false) end

--- Providers (`kubectl get providers`): the items.
---@param opts? {label_selector?: string|table}
---@return table[]
Client.providers = lister("providers", PROVIDERS)
--- Configurations.
---@param opts? {label_selector?: string|table}
---@return table[]
Client.configurations = lister("configurations", CONFIGURATIONS)
--- Functions (composition functions).
---@param opts? {label_selector?: string|table}
---@return table[]
Client.functions = lister("functions", FUNCTIONS)
--- CompositeResourceDefinitions (`kubectl get xrd`).
---@param opts? {label_selector?: string|table}
---@return table[]
Client.xrds = lister("xrds", XRDS)
--- Compositions.
---@param opts? {label_selector?: string|table}
---@return table[]
Client.compositions = lister("compositions", COMPOSITIONS)

--- A Provider, or nil and the API's Status when it does not exist.
---@param name string
---@return table|nil
---@return table|nil status
Client.provider_get = getter("provider_get", PROVIDERS)
--- A Configuration, or nil and the Status.
---@param name string
---@return table|nil
---@return table|nil status
Client.configuration_get = getter("configuration_get", CONFIGURATIONS)
--- A Function, or nil and the Status.
---@param name string
---@return table|nil
---@return table|nil status
Client.function_get = getter("function_get", FUNCTIONS)
--- A CompositeResourceDefinition, or nil and the Status.
---@param name string
---@return table|nil
---@return table|nil status
Client.xrd_get = getter("xrd_get", XRDS)
--- A Composition, or nil and the Status.
---@param name string
---@return table|nil
---@return table|nil status
Client.composition_get = getter("composition_get", COMPOSITIONS)

-- Packages --------------------------------------------------------------------------------------

local PACKAGE_FIELDS = {
  package_pull_policy = "string", revision_activation_policy = "string", revision_history_limit = "number",
  package_pull_secrets = "strings", skip_dependency_resolution = "boolean",
  ignore_crossplane_constraints = "boolean", runtime_config = "string", labels = "table",
  annotations = "table", force = "boolean",
}
local PACKAGE_OPTIONS = {}
for k in pairs(PACKAGE_FIELDS) do PACKAGE_OPTIONS[#PACKAGE_OPTIONS + 1] = k end
table.sort(PACKAGE_OPTIONS)

local function install(self, fname, kind, name, package, opts)
  api.check_name(PKG, fname, 1, "name", name)
  api.check_name(PKG, fname, 2, "package", package)
  opts = api.check_options(PKG, fname, 3, opts, PACKAGE_OPTIONS)
  opts = crd.check_fields(PKG, fname, 3, opts, PACKAGE_FIELDS)
  local p = opts.package_pull_policy
  if p and p ~= "Always" and p ~= "Never" and p ~= "IfNotPresent" then
    raise(("crossplane.%s: bad argument #3 'opts' (field 'package_pull_policy': Always, Never or IfNotPresent expected, got %q)"):format(fname, p))
  end
  local a = opts.revision_activation_policy
  if a and a ~= "Automatic" and a ~= "Manual" then
    raise(("crossplane.%s: bad argument #3 'opts' (field 'revision_activation_policy': Automatic or Manual expected, got %q)"):format(fname, a))
  end
  local secrets
  if opts.package_pull_secrets then
    secrets = {}
    for i, s in ipairs(opts.package_pull_secrets) do secrets[i] = {name = s} end
  end
  local obj = {apiVersion = PKG_API, kind = kind,
    metadata = {name = name, labels = opts.labels, annotations = opts.annotations},
    spec = {package = package, packagePullPolicy = p, revisionActivationPolicy = a,
      revisionHistoryLimit = opts.revision_history_limit, packagePullSecrets = secrets,
      skipDependencyResolution = opts.skip_dependency_resolution,
      ignoreCrossplaneConstraints = opts.ignore_crossplane_constraints,
      runtimeConfigRef = kind ~= "Configuration" and opts.runtime_config and {name = opts.runtime_config} or nil}}
  if kind == "Configuration" and opts.runtime_config then
    raise("crossplane.configuration: bad argument #3 'opts' (field 'runtime_config': configurations have no runtime)")
  end
  local kc = self.k8s
  return call(fname, kc.apply, kc, obj, {force = opts.force})
end

---@class crossplane.PackageOptions
---@field package_pull_policy? "IfNotPresent"|"Always"|"Never"
---@field revision_activation_policy? "Automatic"|"Manual"
---@field revision_history_limit? integer
---@field package_pull_secrets? string[] names of Secrets
---@field skip_dependency_resolution? boolean
---@field ignore_crossplane_constraints? boolean
---@field runtime_config? string a DeploymentRuntimeConfig's name (providers and functions)
---@field labels? table
---@field annotations? table
---@field force? boolean take fields another field manager owns (server-side apply)

--- Installs or updates a Provider (server-side apply of pkg.crossplane.io/v1 Provider with
--- `spec.package`); returns the stored object. Wait with `wait_ready("provider", name)`.
---@param name string
---@param package string an OCI reference: "xpkg.upbound.io/upbound/provider-aws-s3:v1.1.0"
---@param opts? crossplane.PackageOptions
---@return table
function Client:provider(name, package, opts)
  return install(self, "provider", "Provider", name, package, opts)
end

--- Installs or updates a Configuration (as `provider`).
---@param name string
---@param package string
---@param opts? crossplane.PackageOptions
---@return table
function Client:configuration(name, package, opts)
  return install(self, "configuration", "Configuration", name, package, opts)
end

--- Installs or updates a Function (as `provider`).
---@param name string
---@param package string
---@param opts? crossplane.PackageOptions
---@return table
function Client:function_install(name, package, opts)
  return install(self, "function_install", "Function", name, package, opts)
end

-- Claims, composite and managed resources -------------------------------------------------------

--- The objects of a claim, composite resource or managed resource kind, named as kubectl
--- names it (its plural, kind or short name; `"postgresqlinstances.database.example.org"` to be
--- exact), resolved through discovery. Namespaced kinds: the client's namespace, `namespace`, or
--- all with `all_namespaces`.
---@param resource string
---@param opts? {namespace?: string, all_namespaces?: boolean, label_selector?: string|table}
---@return table[]
function Client:claims(resource, opts)
  api.check_name(PKG, "claims", 1, "resource", resource)
  opts = api.check_options(PKG, "claims", 2, opts, {"namespace", "all_namespaces", "label_selector"})
  local kc = self.k8s
  return crd.items(call("claims", kc.list, kc, resource, {namespace = opts.namespace or self.namespace,
    all_namespaces = opts.all_namespaces, label_selector = opts.label_selector}))
end

--- One claim, composite or managed resource, or nil and the Status when it does not exist.
---@param resource string
---@param name string
---@param opts? {namespace?: string}
---@return table|nil
---@return table|nil status
function Client:claim_get(resource, name, opts)
  api.check_name(PKG, "claim_get", 1, "resource", resource)
  api.check_name(PKG, "claim_get", 2, "name", name)
  opts = api.check_options(PKG, "claim_get", 3, opts, {"namespace"})
  local kc = self.k8s
  return call("claim_get", kc.get, kc, resource, name, {namespace = opts.namespace or self.namespace})
end

--- Creates or updates a claim or composite resource (server-side apply of `obj`, a whole
--- object: apiVersion, kind, metadata, spec); returns the stored object.
---@param obj table
---@param opts? {namespace?: string, force?: boolean}
---@return table
function Client:claim(obj, opts)
  if type(obj) ~= "table" then
    raise(("crossplane.claim: bad argument #1 'obj' (table expected, got %s)"):format(type(obj)))
  end
  opts = api.check_options(PKG, "claim", 2, opts, {"namespace", "force"})
  local kc = self.k8s
  local ns = opts.namespace or (type(obj.metadata) == "table" and obj.metadata.namespace) or self.namespace
  return call("claim", kc.apply, kc, obj, {namespace = ns, force = opts.force})
end

-- Waiting ---------------------------------------------------------------------------------------

local packages = crd.all_true{"Installed", "Healthy"}

-- Established, and Offered when the XRD offers a claim
local function xrd_rule(o)
  local want = {"Established"}
  if type(o.spec) == "table" and o.spec.claimNames then want[2] = "Offered" end
  return crd.all_true(want)(o)
end

local synced_ready = crd.all_true{"Synced", "Ready"}

local KINDS = {
  provider = {resource = PROVIDERS, label = "provider", rule = packages},
  configuration = {resource = CONFIGURATIONS, label = "configuration", rule = packages},
  ["function"] = {resource = FUNCTIONS, label = "function", rule = packages},
  xrd = {resource = XRDS, label = "compositeresourcedefinition", rule = xrd_rule},
}
KINDS.providers, KINDS.configurations, KINDS.functions = KINDS.provider, KINDS.configuration, KINDS["function"]
KINDS.xrds, KINDS.compositeresourcedefinition = KINDS.xrd, KINDS.xrd
KINDS.compositeresourcedefinitions = KINDS.xrd

--- Waits until a Crossplane object is ready and returns it:
--- - `"provider"`, `"configuration"`, `"function"`: conditions Installed=True and Healthy=True;
--- - `"xrd"`: Established=True, and Offered=True when it defines a claim (spec.claimNames);
--- - any other name is a claim, composite resource or managed resource kind (as kubectl names
---   it, resolved through discovery): Synced=True and Ready=True.
--- Crossplane retries what fails, so a failing object is waited on; the timeout raises with the
--- conditions that do not hold, with their reason and message: `crossplane.wait_ready:
--- postgresqlinstance prod/db not ready after 60s: Synced=False (ReconcileError: cannot compose
--- resources: ...); Ready=False (Creating)`.
---@param kind string "provider", "configuration", "function", "xrd", or a claim's/XR's resource name
---@param name string
---@param opts? {namespace?: string, timeout?: number, interval?: number}
---@return table
function Client:wait_ready(kind, name, opts)
  api.check_name(PKG, "wait_ready", 1, "kind", kind)
  api.check_name(PKG, "wait_ready", 2, "name", name)
  opts = api.check_options(PKG, "wait_ready", 3, opts, {"namespace", "timeout", "interval"})
  local kc = self.k8s
  local e = KINDS[kind:lower()]
  local resource, label, rule, ns
  if e then
    resource, label, rule = e.resource, e.label, e.rule
  else
    local r = call("wait_ready", kc.resource, kc, kind, "wait_ready", 1)
    resource, label, rule = r, r.singular, synced_ready
    if r.namespaced then ns = opts.namespace or self.namespace end
  end
  return crd.wait{pkg = PKG, fname = "wait_ready", k8s = kc, resource = resource, name = name,
    namespace = ns, opts = opts, rule = rule, what = crd.label(label, ns, name)}
end

return M
