--- assay.certmanager: cert-manager's resources (cert-manager.io/v1) through assay.k8s:
--- Certificates, Issuers, ClusterIssuers, CertificateRequests; waiting for them to be Ready;
--- `renew` as `cmctl renew` does it; the issued key pair read back from the Certificate's Secret.
---
--- local cm = require("assay.certmanager")
--- local c = cm.client()                          -- or cm.client{k8s = existing_k8s_client}
--- c:certificate("web", {dns_names = {"web.example.com"}, issuer_ref = {name = "letsencrypt", kind = "ClusterIssuer"}})
--- c:wait_ready("certificate", "web", {timeout = 300})
--- local tls = c:certificate_secret("web")        -- tls["tls.crt"], tls["tls.key"], tls["ca.crt"]

local k8s = require("assay.k8s")
local api = require("assay.apiclient")
local crd = require("assay.apiclient.crd")
api.own_source()
local raise = api.raise

local PKG = "certmanager"
local GROUP = "cert-manager.io"
local API_VERSION = "cert-manager.io/v1"
local CERTIFICATES = "certificates.cert-manager.io"
local ISSUERS = "issuers.cert-manager.io"
local CLUSTER_ISSUERS = "clusterissuers.cert-manager.io"
local REQUESTS = "certificaterequests.cert-manager.io"

---@class certmanager
local M = {}

---@class certmanager.Client
---@field k8s k8s.Client the Kubernetes client underneath
---@field namespace string the namespace of calls that name none
local Client = {}
Client.__index = Client
Client.__tostring = function(self) return "certmanager.client(" .. tostring(self.k8s.server) .. ")" end

--- A client. `opts.k8s` reuses an assay.k8s client; otherwise the k8s.client options
--- (`server`, `token`, `kubeconfig`, `context`, `timeout`, ...) make a new one (in-cluster, else
--- kubeconfig, by default). `namespace`: the default namespace of this client's calls (default:
--- the k8s client's).
---@param opts? {k8s?: k8s.Client, namespace?: string, server?: string, token?: string, kubeconfig?: string, context?: string, timeout?: number}
---@return certmanager.Client
function M.client(opts)
  return setmetatable(crd.client(PKG, k8s, opts), Client)
end

local function call(fname, f, ...) return crd.call(PKG, fname, f, ...) end

-- list / get of one resource, as methods
local function lister(fname, resource, namespaced) return crd.lister(PKG, fname, resource, namespaced) end

local function getter(fname, resource, namespaced) return crd.getter(PKG, fname, resource, namespaced) end

--- Certificates (`kubectl get certificates`): the items, in the client's namespace or
--- `namespace`, or in all with `all_namespaces`.
---@param opts? {namespace?: string, all_namespaces?: boolean, label_selector?: string|table}
---@return table[]
Client.certificates = lister("certificates", CERTIFICATES, true)
--- Issuers in a namespace (or all).
---@param opts? {namespace?: string, all_namespaces?: boolean, label_selector?: string|table}
---@return table[]
Client.issuers = lister("issuers", ISSUERS, true)
--- ClusterIssuers.
---@param opts? {label_selector?: string|table}
---@return table[]
Client.cluster_issuers = lister("cluster_issuers", CLUSTER_ISSUERS, false)
--- CertificateRequests in a namespace (or all).
---@param opts? {namespace?: string, all_namespaces?: boolean, label_selector?: string|table}
---@return table[]
Client.certificate_requests = lister("certificate_requests", REQUESTS, true)

--- A Certificate, or nil and the API's Status when it does not exist.
---@param name string
---@param opts? {namespace?: string}
---@return table|nil
---@return table|nil status
Client.certificate_get = getter("certificate_get", CERTIFICATES, true)
--- An Issuer, or nil and the Status.
---@param name string
---@param opts? {namespace?: string}
---@return table|nil
---@return table|nil status
Client.issuer_get = getter("issuer_get", ISSUERS, true)
--- A ClusterIssuer, or nil and the Status.
---@param name string
---@return table|nil
---@return table|nil status
Client.cluster_issuer_get = getter("cluster_issuer_get", CLUSTER_ISSUERS, false)
--- A CertificateRequest, or nil and the Status.
---@param name string
---@param opts? {namespace?: string}
---@return table|nil
---@return table|nil status
Client.certificate_request_get = getter("certificate_request_get", REQUESTS, true)

-- Creating --------------------------------------------------------------------------------------

local CERT_FIELDS = {
  namespace = "string", secret_name = "string", dns_names = "strings", common_name = "string",
  ip_addresses = "strings", uris = "strings", email_addresses = "strings", duration = "duration",
  renew_before = "duration", issuer_ref = "table", is_ca = "boolean", usages = "strings",
  private_key = "table", subject = "table", secret_template = "table", labels = "table",
  annotations = "table", force = "boolean",
}
local CERT_OPTIONS = {}
for k in pairs(CERT_FIELDS) do CERT_OPTIONS[#CERT_OPTIONS + 1] = k end
table.sort(CERT_OPTIONS)

local function meta(name, ns, opts)
  return {name = name, namespace = ns, labels = opts.labels, annotations = opts.annotations}
end

---@class certmanager.CertificateOptions
---@field issuer_ref {name: string, kind?: string, group?: string} the issuer (kind default "Issuer", group "cert-manager.io")
---@field dns_names? string[]
---@field common_name? string
---@field ip_addresses? string[]
---@field uris? string[]
---@field email_addresses? string[]
---@field secret_name? string the Secret the key pair is stored in (default: the certificate's name)
---@field duration? string|number "2160h" or seconds (cert-manager's default 90 days)
---@field renew_before? string|number "360h" or seconds
---@field is_ca? boolean
---@field usages? string[] "server auth", "client auth", "digital signature", ...
---@field private_key? table spec.privateKey as cert-manager spells it ({algorithm = "ECDSA", size = 256, rotationPolicy = "Always"})
---@field subject? table spec.subject
---@field secret_template? table spec.secretTemplate ({labels, annotations})
---@field labels? table
---@field annotations? table
---@field namespace? string
---@field force? boolean take fields another field manager owns (server-side apply)

--- Creates or updates a Certificate (server-side apply) whose spec is built from opts; returns
--- the stored object. At least one identity (`dns_names`, `common_name`, `ip_addresses`, `uris`,
--- `email_addresses`) and `issuer_ref.name` are required, as cert-manager's webhook requires.
---@param name string
---@param opts certmanager.CertificateOptions
---@return table
function Client:certificate(name, opts)
  api.check_name(PKG, "certificate", 1, "name", name)
  if type(opts) ~= "table" then
    raise(("certmanager.certificate: bad argument #2 'opts' (table expected, got %s)"):format(type(opts)))
  end
  api.check_options(PKG, "certificate", 2, opts, CERT_OPTIONS)
  opts = crd.check_fields(PKG, "certificate", 2, opts, CERT_FIELDS)
  local ref = opts.issuer_ref
  if type(ref) ~= "table" or type(ref.name) ~= "string" or ref.name == "" then
    raise("certmanager.certificate: bad argument #2 'opts' (field 'issuer_ref': {name = ..., kind = \"Issuer\"|\"ClusterIssuer\"} expected)")
  end
  api.unknown_options(PKG, "certificate", "#2 'opts.issuer_ref'", ref, {"name", "kind", "group"})
  local kind = ref.kind or "Issuer"
  if ref.group == nil and kind ~= "Issuer" and kind ~= "ClusterIssuer" then
    raise(("certmanager.certificate: bad argument #2 'opts' (field 'issuer_ref.kind': Issuer or ClusterIssuer expected (or give its group), got %q)"):format(tostring(kind)))
  end
  if not (opts.dns_names or opts.common_name or opts.ip_addresses or opts.uris or opts.email_addresses) then
    raise("certmanager.certificate: bad argument #2 'opts' (one of dns_names, common_name, ip_addresses, uris, email_addresses is required)")
  end
  local ns = opts.namespace or self.namespace
  local obj = {apiVersion = API_VERSION, kind = "Certificate", metadata = meta(name, ns, opts), spec = {
    secretName = opts.secret_name or name,
    issuerRef = {name = ref.name, kind = kind, group = ref.group or GROUP},
    dnsNames = opts.dns_names, commonName = opts.common_name, ipAddresses = opts.ip_addresses,
    uris = opts.uris, emailAddresses = opts.email_addresses, duration = opts.duration,
    renewBefore = opts.renew_before, isCA = opts.is_ca, usages = opts.usages,
    privateKey = opts.private_key, subject = opts.subject, secretTemplate = opts.secret_template,
  }}
  local kc = self.k8s
  return call("certificate", kc.apply, kc, obj, {namespace = ns, force = opts.force})
end

local function issuer_apply(self, fname, kind, name, spec, opts, namespaced)
  api.check_name(PKG, fname, 1, "name", name)
  if type(spec) ~= "table" or next(spec) == nil then
    raise(("certmanager.%s: bad argument #2 'spec' (the issuer's spec expected, e.g. {selfSigned = {}}, {ca = {secretName = ...}}, {acme = {...}}; got %s)")
      :format(fname, type(spec) == "table" and "an empty table" or type(spec)))
  end
  opts = api.check_options(PKG, fname, 3, opts, namespaced and {"namespace", "labels", "annotations"} or {"labels", "annotations"})
  local ns = namespaced and (opts.namespace or self.namespace) or nil
  local obj = {apiVersion = API_VERSION, kind = kind, metadata = meta(name, ns, opts), spec = spec}
  local kc = self.k8s
  return call(fname, kc.apply, kc, obj, {namespace = ns})
end

--- Creates or updates an Issuer (server-side apply) with `spec` as cert-manager spells it:
--- `{selfSigned = {}}`, `{ca = {secretName = "root-ca"}}`, `{acme = {...}}`, `{vault = {...}}`.
---@param name string
---@param spec table
---@param opts? {namespace?: string, labels?: table, annotations?: table}
---@return table
function Client:issuer(name, spec, opts)
  return issuer_apply(self, "issuer", "Issuer", name, spec, opts, true)
end

--- Creates or updates a ClusterIssuer (server-side apply); `spec` as for `issuer`.
---@param name string
---@param spec table
---@param opts? {labels?: table, annotations?: table}
---@return table
function Client:cluster_issuer(name, spec, opts)
  return issuer_apply(self, "cluster_issuer", "ClusterIssuer", name, spec, opts, false)
end

--- Deletes a Certificate (its Secret stays, as with kubectl); nil and the Status when absent.
---@param name string
---@param opts? {namespace?: string}
---@return table|nil
---@return table|nil status
function Client:certificate_delete(name, opts)
  api.check_name(PKG, "certificate_delete", 1, "name", name)
  opts = api.check_options(PKG, "certificate_delete", 2, opts, {"namespace"})
  local kc = self.k8s
  return call("certificate_delete", kc.delete, kc, CERTIFICATES, name, {namespace = opts.namespace or self.namespace})
end

-- Renewing and reading back --------------------------------------------------------------------

--- Triggers a re-issuance now, as `cmctl renew` does: reads the Certificate, sets its `Issuing`
--- condition to True with reason `ManuallyTriggered` (message "Certificate re-issuance manually
--- triggered", observedGeneration the certificate's generation) and writes the status
--- subresource (PUT, so a concurrent change fails with 409). Returns the updated Certificate,
--- or nil and the Status when it does not exist. Wait with `wait_ready("certificate", name)`.
---@param name string
---@param opts? {namespace?: string}
---@return table|nil
---@return table|nil status
function Client:renew(name, opts)
  api.check_name(PKG, "renew", 1, "name", name)
  opts = api.check_options(PKG, "renew", 2, opts, {"namespace"})
  local ns = opts.namespace or self.namespace
  local kc = self.k8s
  local crt, st = call("renew", kc.get, kc, CERTIFICATES, name, {namespace = ns})
  if not crt then return nil, st end
  crt.status = crt.status or {}
  local conds = crt.status.conditions or {}
  local new = {type = "Issuing", status = "True", reason = "ManuallyTriggered",
    message = "Certificate re-issuance manually triggered",
    lastTransitionTime = time.iso(time(), {precision = 0}), observedGeneration = crt.metadata.generation}
  local replaced = false
  for i, c in ipairs(conds) do
    if c.type == "Issuing" then
      -- as cert-manager's SetCertificateCondition: the transition time moves only on a change
      if c.status == new.status and c.lastTransitionTime then new.lastTransitionTime = c.lastTransitionTime end
      conds[i], replaced = new, true
    end
  end
  if not replaced then conds[#conds + 1] = new end
  crt.status.conditions = conds
  return call("renew", kc.replace_status, kc, crt, {namespace = ns})
end

--- The key pair a Certificate's Secret holds, base64-decoded: `{["tls.crt"], ["tls.key"],
--- ["ca.crt"]}` (the keys the Secret has), and the Secret. nil and the Status when the
--- Certificate or its Secret does not exist (before the first issuance). Wait with
--- `wait_ready` first: during a re-issuance the Secret still holds the previous pair.
---@param name string
---@param opts? {namespace?: string}
---@return table<string, string>|nil values
---@return table secret_or_status
function Client:certificate_secret(name, opts)
  api.check_name(PKG, "certificate_secret", 1, "name", name)
  opts = api.check_options(PKG, "certificate_secret", 2, opts, {"namespace"})
  local ns = opts.namespace or self.namespace
  local kc = self.k8s
  local crt, st = call("certificate_secret", kc.get, kc, CERTIFICATES, name, {namespace = ns})
  if not crt then return nil, st end
  local secret = crt.spec and crt.spec.secretName or name
  return call("certificate_secret", kc.secret_get, kc, secret, {namespace = ns})
end

-- Waiting ---------------------------------------------------------------------------------------

local cond, cond_text = crd.condition, crd.condition_text

-- Ready=True for the current generation, no issuance running; a failed issuance raises
local function certificate_rule(o)
  local issuing = cond(o, "Issuing")
  if issuing and issuing.status == "False" and issuing.reason == "Failed" then
    local n = o.status.failedIssuanceAttempts
    return false, ("issuance failed%s: %s"):format(n and (" (" .. n .. " attempts)") or "",
      tostring(issuing.message or "")), true
  end
  local ready = cond(o, "Ready")
  if not ready or ready.status ~= "True" then return false, cond_text(ready, "Ready") end
  local gen = o.metadata.generation
  if ready.observedGeneration and gen and ready.observedGeneration < gen then
    return false, ("Ready is for generation %d, the certificate is at %d"):format(ready.observedGeneration, gen)
  end
  if issuing and issuing.status == "True" then return false, cond_text(issuing, "Issuing") end
  return true, "Ready=True"
end

-- Ready=True; Ready=False with reason Failed, Denied or InvalidRequest are final
local function request_rule(o)
  for _, t in ipairs{"Denied", "InvalidRequest"} do
    local c = cond(o, t)
    if c and c.status == "True" then return false, cond_text(c, t), true end
  end
  local ready = cond(o, "Ready")
  if ready and ready.status == "False" and ready.reason == "Failed" then return false, cond_text(ready, "Ready"), true end
  if ready and ready.status == "True" then return true, "Ready=True" end
  return false, cond_text(ready, "Ready")
end

local ready_rule = crd.all_true{"Ready"}

local CERT = {resource = CERTIFICATES, label = "certificate", namespaced = true, rule = certificate_rule}
local ISSUER = {resource = ISSUERS, label = "issuer", namespaced = true, rule = ready_rule}
local CISSUER = {resource = CLUSTER_ISSUERS, label = "clusterissuer", namespaced = false, rule = ready_rule}
local REQUEST = {resource = REQUESTS, label = "certificaterequest", namespaced = true, rule = request_rule}
local KINDS = {
  certificate = CERT, certificates = CERT, cert = CERT, certs = CERT,
  issuer = ISSUER, issuers = ISSUER,
  clusterissuer = CISSUER, clusterissuers = CISSUER, cluster_issuer = CISSUER,
  certificaterequest = REQUEST, certificaterequests = REQUEST, certificate_request = REQUEST, cr = REQUEST,
}

--- Waits until a cert-manager object is ready and returns it:
--- - `"certificate"`: condition Ready=True for the current generation and no issuance running
---   (Issuing=True, as after `renew`); an issuance that failed (Issuing=False, reason Failed)
---   raises at once with cert-manager's message (it retries only after a back-off);
--- - `"issuer"`, `"clusterissuer"`: Ready=True;
--- - `"certificaterequest"`: Ready=True; Denied, InvalidRequest or Ready=False/Failed raise at once.
--- The timeout raises with the last state: `certmanager.wait_ready: certificate default/web not
--- ready after 60s: Ready=False (DoesNotExist: Issuing certificate as Secret does not exist)`.
---@param kind "certificate"|"issuer"|"clusterissuer"|"certificaterequest"
---@param name string
---@param opts? {namespace?: string, timeout?: number, interval?: number}
---@return table
function Client:wait_ready(kind, name, opts)
  local e = crd.kind(PKG, "wait_ready", 1, KINDS, "certificate, issuer, clusterissuer or certificaterequest", kind)
  api.check_name(PKG, "wait_ready", 2, "name", name)
  opts = api.check_options(PKG, "wait_ready", 3, opts, {"namespace", "timeout", "interval"})
  local ns = e.namespaced and (opts.namespace or self.namespace) or nil
  return crd.wait{pkg = PKG, fname = "wait_ready", k8s = self.k8s, resource = e.resource, name = name,
    namespace = ns, opts = opts, rule = e.rule, what = crd.label(e.label, ns, name)}
end

return M
