-- assay.certmanager against assay.k8s.fake with cert-manager's CRDs registered (shaped as the
-- real ones: cert-manager.io, v1 served and stored, the status subresource).
local cm = require("assay.certmanager")
local k8s = require("assay.k8s")
local fake = k8s.fake.start{token = "t"}
local function crd(kind, plural, scope, short)
  fake:add{apiVersion = "apiextensions.k8s.io/v1", kind = "CustomResourceDefinition",
    metadata = {name = plural .. ".cert-manager.io"},
    spec = {group = "cert-manager.io", scope = scope, names = {kind = kind, listKind = kind .. "List",
      plural = plural, singular = kind:lower(), shortNames = short, categories = {"cert-manager"}},
      versions = {{name = "v1", served = true, storage = true, subresources = {status = {}},
        schema = {openAPIV3Schema = {type = "object", ["x-kubernetes-preserve-unknown-fields"] = true}}}}}}
end
crd("Certificate", "certificates", "Namespaced", {"cert", "certs"})
crd("Issuer", "issuers", "Namespaced")
crd("ClusterIssuer", "clusterissuers", "Cluster")
crd("CertificateRequest", "certificaterequests", "Namespaced", {"cr", "crs"})
local c = cm.client{server = fake.url, token = "t"}
local FAST, SHORT = {timeout = 3, interval = 0.02}, {timeout = 0.2, interval = 0.02}

-- err must contain text (plainly)
local function fails(f, text)
  local ok, err = pcall(f)
  assert.eq(ok, false, "expected an error containing " .. text)
  if not tostring(err):find(text, 1, true) then error(("error %q lacks %q"):format(tostring(err), text), 2) end
  return err
end
local function last(method)
  for i = #fake.requests, 1, -1 do
    if fake.requests[i].method == method then return fake.requests[i] end
  end
end
local function later(f) return async.spawn(function() sleep(0.15); return f() end) end
local function web(name, extra)
  local opts = {dns_names = {name .. ".example.com"}, issuer_ref = {name = "le", kind = "ClusterIssuer"}}
  for k, v in pairs(extra or {}) do opts[k] = v end
  return c:certificate(name, opts)
end

test("certificate: builds a valid Certificate and applies it server-side", function()
  local crt = c:certificate("web", {dns_names = {"web.example.com", "www.example.com"},
    issuer_ref = {name = "letsencrypt", kind = "ClusterIssuer"}, duration = 90 * 24 * 3600,
    renew_before = "360h", usages = {"server auth"}, private_key = {algorithm = "ECDSA", size = 256}})
  local r = last("PATCH")
  assert.eq(r.path, "/apis/cert-manager.io/v1/namespaces/default/certificates/web")
  assert.eq(r.content_type, "application/apply-patch+yaml")
  assert.eq(http.query_value(r.query, "fieldManager"), "assay")
  local body = json.parse(r.body)
  assert.eq(body.apiVersion, "cert-manager.io/v1")
  assert.eq(body.kind, "Certificate")
  assert.eq(body.metadata.name, "web")
  assert.eq(body.spec.secretName, "web")
  assert.eq(body.spec.dnsNames, {"web.example.com", "www.example.com"})
  assert.eq(body.spec.issuerRef, {name = "letsencrypt", kind = "ClusterIssuer", group = "cert-manager.io"})
  assert.eq(body.spec.duration, "2160h0m0s")
  assert.eq(body.spec.renewBefore, "360h")
  assert.eq(body.spec.privateKey.algorithm, "ECDSA")
  assert.eq(crt.metadata.uid ~= nil, true)
  assert.eq(#c:certificates(), 1)
  assert.eq(c:certificate_get("web").spec.secretName, "web")
end)

test("certificate: bad arguments are named", function()
  fails(function() c:certificate("x", {dns_names = {"x"}}) end, "certmanager.certificate: bad argument #2 'opts' (field 'issuer_ref'")
  fails(function() c:certificate("x", {issuer_ref = {name = "i"}}) end, "one of dns_names, common_name")
  fails(function() c:certificate("x", {dns_names = "x", issuer_ref = {name = "i"}}) end, "field 'dns_names': a list of strings expected")
  fails(function() c:certificate("x", {dns_names = {"x"}, issuer_ref = {name = "i"}, duration = "soon"}) end, "field 'duration': a duration")
  fails(function() c:certificate("x", {dns_names = {"x"}, issuer_ref = {name = "i", kind = "Vault"}}) end, "field 'issuer_ref.kind'")
  fails(function() c:certificate("x", {dns_names = {"x"}, issuer_ref = {name = "i"}, secretname = "s"}) end, "unknown option 'secretname'")
  fails(function() c:certificate(nil, {}) end, "certmanager.certificate: bad argument #1 'name' (non-empty string expected, got nil)")
  fails(function() c:wait_ready("secret", "x") end, "bad argument #1 'kind' (certificate, issuer, clusterissuer or certificaterequest expected")
end)

test("wait_ready: true once the controller sets Ready; the key pair read back", function()
  web("api")
  assert.eq(c:certificate_secret("api"), nil)   -- no secret before the first issuance
  local t = later(function()
    fake:add{apiVersion = "v1", kind = "Secret", type = "kubernetes.io/tls", metadata = {name = "api", namespace = "default"},
      data = {["tls.crt"] = base64.encode("CERT"), ["tls.key"] = base64.encode("KEY"), ["ca.crt"] = base64.encode("CA")}}
    fake:set_status("certificates", "default", "api", {notAfter = "2027-01-01T00:00:00Z", conditions = {
      {type = "Ready", status = "True", reason = "Ready", message = "Certificate is up to date and has not expired", observedGeneration = 1}}})
  end)
  local crt = c:wait_ready("certificate", "api", FAST)
  t:await()
  assert.eq(crt.status.notAfter, "2027-01-01T00:00:00Z")
  local tls, secret = c:certificate_secret("api")
  assert.eq(tls, {["tls.crt"] = "CERT", ["tls.key"] = "KEY", ["ca.crt"] = "CA"})
  assert.eq(secret.type, "kubernetes.io/tls")
end)

test("wait_ready: the timeout carries the last state; a failed issuance raises at once", function()
  web("slow")
  fails(function() c:wait_ready("cert", "slow", SHORT) end, "certmanager.wait_ready: certificate default/slow not ready after 0.2s: no Ready condition yet")
  fake:set_status("certificates", "default", "slow", {conditions = {
    {type = "Ready", status = "False", reason = "DoesNotExist", message = "Issuing certificate as Secret does not exist"},
    {type = "Issuing", status = "True", reason = "DoesNotExist", message = "Issuing certificate as Secret does not exist"}}})
  fails(function() c:wait_ready("certificate", "slow", SHORT) end,
    "certificate default/slow not ready after 0.2s: Ready=False (DoesNotExist: Issuing certificate as Secret does not exist)")
  later(function()
    fake:set_status("certificates", "default", "slow", {failedIssuanceAttempts = 1, lastFailureTime = "2026-12-07T00:00:00Z", conditions = {
      {type = "Ready", status = "False", reason = "DoesNotExist", message = "Issuing certificate as Secret does not exist"},
      {type = "Issuing", status = "False", reason = "Failed", message = "The certificate request has failed to complete and will be retried: rate limited"}}})
  end)
  local t0 = time.monotonic()
  fails(function() c:wait_ready("certificate", "slow", {timeout = 20, interval = 0.02}) end,
    "certmanager.wait_ready: certificate default/slow: issuance failed (1 attempts): The certificate request has failed to complete and will be retried: rate limited")
  assert.lt(time.monotonic() - t0, 5)
  -- a spec change makes an old Ready stale until the controller observes it
  fake:set_status("certificates", "default", "slow", {conditions = {{type = "Ready", status = "True", observedGeneration = 1}}})
  assert.eq(c:wait_ready("certificate", "slow", SHORT).metadata.name, "slow")
  web("slow", {dns_names = {"slow2.example.com"}})
  fails(function() c:wait_ready("certificate", "slow", SHORT) end, "Ready is for generation 1, the certificate is at 2")
end)

test("renew: sets Issuing=True ManuallyTriggered on the status subresource, as cmctl renew", function()
  web("rn")
  fake:set_status("certificates", "default", "rn", {conditions = {
    {type = "Ready", status = "True", reason = "Ready", observedGeneration = 1}}})
  fake:clear_requests()
  local crt = c:renew("rn")
  local get, put = fake.requests[1], fake.requests[2]
  assert.eq(get.method .. " " .. get.path, "GET /apis/cert-manager.io/v1/namespaces/default/certificates/rn")
  assert.eq(put.method .. " " .. put.path, "PUT /apis/cert-manager.io/v1/namespaces/default/certificates/rn/status")
  local body = json.parse(put.body)
  assert.eq(body.metadata.resourceVersion ~= nil, true)   -- an update of what was read
  assert.eq(#body.status.conditions, 2)
  local issuing = body.status.conditions[2]
  assert.eq({issuing.type, issuing.status, issuing.reason, issuing.message, issuing.observedGeneration},
    {"Issuing", "True", "ManuallyTriggered", "Certificate re-issuance manually triggered", 1})
  assert.matches(issuing.lastTransitionTime, "^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$")
  assert.eq(crt.status.conditions[2].reason, "ManuallyTriggered")
  -- waiting after a renew waits for the issuance to end
  fails(function() c:wait_ready("certificate", "rn", SHORT) end, "Issuing=True (ManuallyTriggered: Certificate re-issuance manually triggered)")
  local t = later(function()
    fake:set_status("certificates", "default", "rn", {conditions = {{type = "Ready", status = "True", observedGeneration = 1}}})
  end)
  assert.eq(c:wait_ready("certificate", "rn", FAST).metadata.name, "rn")
  t:await()
  -- a concurrent change between the read and the write: 409 with the API's text
  fake.on_request = function(rec)
    if rec.method == "PUT" then fake:set_status("certificates", "default", "rn", {conditions = {}}) end
  end
  fails(function() c:renew("rn") end, 'certmanager.renew: PUT /apis/cert-manager.io/v1/namespaces/default/certificates/rn/status: 409 Operation cannot be fulfilled on certificates.cert-manager.io "rn"')
  fake.on_request = nil
end)

test("issuers and cluster issuers: created from their spec, waited for Ready", function()
  c:issuer("selfsigned", {selfSigned = {}})
  local r = last("PATCH")
  assert.eq(r.path, "/apis/cert-manager.io/v1/namespaces/default/issuers/selfsigned")
  assert.eq(json.parse(r.body).kind, "Issuer")
  c:cluster_issuer("ca", {ca = {secretName = "root-ca"}})
  r = last("PATCH")
  assert.eq(r.path, "/apis/cert-manager.io/v1/clusterissuers/ca")
  assert.eq(json.parse(r.body).spec.ca.secretName, "root-ca")
  fails(function() c:issuer("x", {}) end, "bad argument #2 'spec' (the issuer's spec expected")
  fake:set_status("clusterissuers", nil, "ca", {conditions = {{type = "Ready", status = "False", reason = "ErrGetKeyPair",
    message = "Error getting keypair for CA issuer: secrets \"root-ca\" not found"}}})
  fails(function() c:wait_ready("clusterissuer", "ca", SHORT) end,
    'certmanager.wait_ready: clusterissuer ca not ready after 0.2s: Ready=False (ErrGetKeyPair: Error getting keypair for CA issuer: secrets "root-ca" not found)')
  local t = later(function() fake:set_status("clusterissuers", nil, "ca", {conditions = {{type = "Ready", status = "True", reason = "KeyPairVerified"}}}) end)
  assert.eq(c:wait_ready("clusterissuer", "ca", FAST).metadata.name, "ca")
  t:await()
  t = later(function() fake:set_status("issuers", "default", "selfsigned", {conditions = {{type = "Ready", status = "True"}}}) end)
  assert.eq(c:wait_ready("issuer", "selfsigned", FAST).kind, "Issuer")
  t:await()
  assert.eq(#c:issuers(), 1)
  assert.eq(c:cluster_issuers()[1].metadata.name, "ca")
  assert.eq(c:cluster_issuer_get("ca").spec.ca.secretName, "root-ca")
end)

test("certificate requests: Ready, and Denied raises at once", function()
  fake:add{apiVersion = "cert-manager.io/v1", kind = "CertificateRequest", metadata = {name = "web-1", namespace = "default"},
    spec = {request = base64.encode("CSR"), issuerRef = {name = "le", kind = "ClusterIssuer"}}}
  later(function() fake:set_status("certificaterequests", "default", "web-1", {conditions = {
    {type = "Denied", status = "True", reason = "policy", message = "violates policy"}}}) end)
  fails(function() c:wait_ready("certificaterequest", "web-1", {timeout = 20, interval = 0.02}) end,
    "certmanager.wait_ready: certificaterequest default/web-1: Denied=True (policy: violates policy)")
  fake:set_status("certificaterequests", "default", "web-1", {conditions = {{type = "Ready", status = "True", reason = "Issued"}}})
  assert.eq(c:wait_ready("cr", "web-1", SHORT).metadata.name, "web-1")
  assert.eq(c:certificate_requests()[1].metadata.name, "web-1")
  assert.eq(c:certificate_request_get("web-1").spec.issuerRef.name, "le")
end)

test("absent objects are nil; other namespaces; delete", function()
  local v, st = c:certificate_get("nope")
  assert.eq(v, nil)
  assert.eq(st.reason, "NotFound")
  assert.eq(c:renew("nope"), nil)
  assert.eq(c:certificate_secret("nope"), nil)
  assert.eq(c:issuer_get("nope"), nil)
  assert.eq(c:cluster_issuer_get("nope"), nil)
  assert.eq(c:certificate_request_get("nope"), nil)
  fake:add{apiVersion = "v1", kind = "Namespace", metadata = {name = "prod"}}
  web("p", {namespace = "prod"})
  assert.eq(last("PATCH").path, "/apis/cert-manager.io/v1/namespaces/prod/certificates/p")
  assert.eq(#c:certificates{namespace = "prod"}, 1)
  assert.eq(#c:certificates{all_namespaces = true} >= 2, true)
  assert.eq(c:certificate_delete("p", {namespace = "prod"}).status, "Success")
  assert.eq(c:certificate_delete("p", {namespace = "prod"}), nil)
end)

test("client: reuses a k8s client or makes one; k8s errors keep their text after the prefix", function()
  local kc = k8s.client{server = fake.url, token = "t", namespace = "default"}
  local c2 = cm.client{k8s = kc, namespace = "prod"}
  assert.eq(c2.k8s, kc)
  assert.eq(c2.namespace, "prod")
  assert.eq(c:certificate_get("web").metadata.name, "web")
  fails(function() cm.client{k8s = kc, server = fake.url} end, "option 'server' cannot be given with 'k8s'")
  fails(function() cm.client{k8s = "x"} end, "field 'k8s': an assay.k8s client expected, got string")
  fails(function() cm.client{sever = "x"} end, "certmanager.client: bad argument #1 'opts' (unknown option 'sever'")
  local bad = cm.client{server = fake.url, token = "wrong"}
  fails(function() bad:certificates() end, "certmanager.certificates: GET /apis: 401 Unauthorized")
  local other = k8s.fake.start{token = "t"}
  local none = cm.client{server = other.url, token = "t"}
  fails(function() none:certificate_get("x") end, 'certmanager.certificate_get: the server doesn\'t have a resource type "certificates.cert-manager.io"')
  other:stop()
end)
