-- assay.crossplane against assay.k8s.fake with Crossplane's CRDs registered as the real ones are
-- shaped (pkg.crossplane.io and apiextensions.crossplane.io, cluster-scoped, the status
-- subresource), and the claim and composite resource CRDs Crossplane makes from an XRD.
local crossplane = require("assay.crossplane")
local k8s = require("assay.k8s")
local fake = k8s.fake.start{token = "t", namespaces = {"default", "prod"}}
local function crd(group, kind, plural, scope, versions, extra)
  local vs = {}
  for i, v in ipairs(versions) do
    vs[i] = {name = v, served = true, storage = i == 1, subresources = {status = {}},
      schema = {openAPIV3Schema = {type = "object", ["x-kubernetes-preserve-unknown-fields"] = true}}}
  end
  local names = {kind = kind, listKind = kind .. "List", plural = plural, singular = kind:lower()}
  for k, v in pairs(extra or {}) do names[k] = v end
  fake:add{apiVersion = "apiextensions.k8s.io/v1", kind = "CustomResourceDefinition",
    metadata = {name = plural .. "." .. group}, spec = {group = group, scope = scope, names = names, versions = vs}}
end
crd("pkg.crossplane.io", "Provider", "providers", "Cluster", {"v1"}, {categories = {"crossplane", "pkg"}})
crd("pkg.crossplane.io", "Configuration", "configurations", "Cluster", {"v1"}, {categories = {"crossplane", "pkg"}})
crd("pkg.crossplane.io", "Function", "functions", "Cluster", {"v1", "v1beta1"}, {categories = {"crossplane", "pkg"}})
crd("apiextensions.crossplane.io", "CompositeResourceDefinition", "compositeresourcedefinitions", "Cluster", {"v1"},
  {shortNames = {"xrd", "xrds"}, categories = {"crossplane"}})
crd("apiextensions.crossplane.io", "Composition", "compositions", "Cluster", {"v1"}, {shortNames = {"comp"}, categories = {"crossplane"}})
-- what Crossplane creates for an XRD that offers a claim
crd("database.example.org", "XPostgreSQLInstance", "xpostgresqlinstances", "Cluster", {"v1alpha1"}, {categories = {"composite"}})
crd("database.example.org", "PostgreSQLInstance", "postgresqlinstances", "Namespaced", {"v1alpha1"}, {categories = {"claim"}})
local c = crossplane.client{server = fake.url, token = "t"}
local FAST, SHORT = {timeout = 3, interval = 0.02}, {timeout = 0.2, interval = 0.02}

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
local function cond(t, s, reason, message) return {type = t, status = s, reason = reason, message = message} end

test("provider: installed by server-side apply of a pkg.crossplane.io/v1 Provider", function()
  c:provider("provider-aws-s3", "xpkg.upbound.io/upbound/provider-aws-s3:v1.1.0",
    {package_pull_policy = "IfNotPresent", runtime_config = "debug", package_pull_secrets = {"regcred"}})
  local r = last("PATCH")
  assert.eq(r.path, "/apis/pkg.crossplane.io/v1/providers/provider-aws-s3")
  assert.eq(r.content_type, "application/apply-patch+yaml")
  assert.eq(http.query_value(r.query, "fieldManager"), "assay")
  local body = json.parse(r.body)
  assert.eq({body.apiVersion, body.kind, body.metadata.name}, {"pkg.crossplane.io/v1", "Provider", "provider-aws-s3"})
  assert.eq(body.spec.package, "xpkg.upbound.io/upbound/provider-aws-s3:v1.1.0")
  assert.eq(body.spec.packagePullPolicy, "IfNotPresent")
  assert.eq(body.spec.runtimeConfigRef, {name = "debug"})
  assert.eq(body.spec.packagePullSecrets, {{name = "regcred"}})
  assert.eq(c:provider_get("provider-aws-s3").spec.package, "xpkg.upbound.io/upbound/provider-aws-s3:v1.1.0")
  assert.eq(#c:providers(), 1)
  c:configuration("platform", "xpkg.upbound.io/acme/platform:v0.3.0")
  assert.eq(last("PATCH").path, "/apis/pkg.crossplane.io/v1/configurations/platform")
  c:function_install("function-patch-and-transform", "xpkg.upbound.io/crossplane-contrib/function-patch-and-transform:v0.7.0")
  assert.eq(last("PATCH").path, "/apis/pkg.crossplane.io/v1/functions/function-patch-and-transform")
  assert.eq(c:functions()[1].kind, "Function")
end)

test("packages: bad arguments are named", function()
  fails(function() c:provider("p", nil) end, "crossplane.provider: bad argument #2 'package' (non-empty string expected, got nil)")
  fails(function() c:provider("p", "x", {package_pull_policy = "Sometimes"}) end, "field 'package_pull_policy': Always, Never or IfNotPresent expected")
  fails(function() c:provider("p", "x", {pull_policy = "Always"}) end, "crossplane.provider: bad argument #3 'opts' (unknown option 'pull_policy'")
  fails(function() c:configuration("p", "x", {runtime_config = "d"}) end, "configurations have no runtime")
  fails(function() c:wait_ready(nil, "x") end, "crossplane.wait_ready: bad argument #1 'kind' (non-empty string expected, got nil)")
end)

test("provider: ready when Installed and Healthy; the timeout names what does not hold", function()
  fails(function() c:wait_ready("provider", "provider-aws-s3", SHORT) end,
    "crossplane.wait_ready: provider provider-aws-s3 not ready after 0.2s: no Installed condition yet; no Healthy condition yet")
  fake:set_status("providers", nil, "provider-aws-s3", {conditions = {
    cond("Installed", "True", "ActivePackageRevision"),
    cond("Healthy", "False", "UnhealthyPackageRevision", "post establish runtime hook failed for package: provider package deployment is unavailable")}})
  fails(function() c:wait_ready("provider", "provider-aws-s3", SHORT) end,
    "provider provider-aws-s3 not ready after 0.2s: Healthy=False (UnhealthyPackageRevision: post establish runtime hook failed for package: provider package deployment is unavailable)")
  local t = later(function() fake:set_status("providers", nil, "provider-aws-s3", {conditions = {
    cond("Installed", "True", "ActivePackageRevision"), cond("Healthy", "True", "HealthyPackageRevision")}}) end)
  assert.eq(c:wait_ready("provider", "provider-aws-s3", FAST).metadata.name, "provider-aws-s3")
  t:await()
  t = later(function() fake:set_status("configurations", nil, "platform", {conditions = {
    cond("Installed", "True"), cond("Healthy", "True")}}) end)
  assert.eq(c:wait_ready("configuration", "platform", FAST).kind, "Configuration")
  t:await()
end)

test("xrd: Established, and Offered when it defines a claim", function()
  fake:add{apiVersion = "apiextensions.crossplane.io/v1", kind = "CompositeResourceDefinition",
    metadata = {name = "xpostgresqlinstances.database.example.org"},
    spec = {group = "database.example.org", names = {kind = "XPostgreSQLInstance", plural = "xpostgresqlinstances"},
      claimNames = {kind = "PostgreSQLInstance", plural = "postgresqlinstances"},
      versions = {{name = "v1alpha1", served = true, referenceable = true}}}}
  fake:set_status("compositeresourcedefinitions", nil, "xpostgresqlinstances.database.example.org",
    {conditions = {cond("Established", "True", "WatchingCompositeResource")}})
  fails(function() c:wait_ready("xrd", "xpostgresqlinstances.database.example.org", SHORT) end,
    "compositeresourcedefinition xpostgresqlinstances.database.example.org not ready after 0.2s: no Offered condition yet")
  local t = later(function() fake:set_status("compositeresourcedefinitions", nil, "xpostgresqlinstances.database.example.org",
    {conditions = {cond("Established", "True", "WatchingCompositeResource"), cond("Offered", "True", "WatchingCompositeResourceClaim")}}) end)
  assert.eq(c:wait_ready("xrd", "xpostgresqlinstances.database.example.org", FAST).spec.claimNames.kind, "PostgreSQLInstance")
  t:await()
  assert.eq(#c:xrds(), 1)
  assert.eq(c:xrd_get("xpostgresqlinstances.database.example.org").spec.group, "database.example.org")
  fake:add{apiVersion = "apiextensions.crossplane.io/v1", kind = "Composition", metadata = {name = "pg-aws"},
    spec = {compositeTypeRef = {apiVersion = "database.example.org/v1alpha1", kind = "XPostgreSQLInstance"}, mode = "Pipeline"}}
  assert.eq(c:compositions()[1].metadata.name, "pg-aws")
  assert.eq(c:composition_get("pg-aws").spec.mode, "Pipeline")
end)

test("claims: Synced and Ready both required; a failing claim's message in the timeout", function()
  c:claim{apiVersion = "database.example.org/v1alpha1", kind = "PostgreSQLInstance",
    metadata = {name = "db", namespace = "prod"}, spec = {parameters = {storageGB = 20}, compositionRef = {name = "pg-aws"}}}
  local r = last("PATCH")
  assert.eq(r.path, "/apis/database.example.org/v1alpha1/namespaces/prod/postgresqlinstances/db")
  assert.eq(r.content_type, "application/apply-patch+yaml")
  fake:set_status("postgresqlinstances", "prod", "db", {conditions = {
    cond("Synced", "False", "ReconcileError", "cannot compose resources: cannot apply composed resource \"db-x7k2p\": admission webhook denied the request"),
    cond("Ready", "False", "Creating")}})
  fails(function() c:wait_ready("postgresqlinstances", "db", {namespace = "prod", timeout = 0.2, interval = 0.02}) end,
    'crossplane.wait_ready: postgresqlinstance prod/db not ready after 0.2s: Synced=False (ReconcileError: cannot compose resources: cannot apply composed resource "db-x7k2p": admission webhook denied the request); Ready=False (Creating)')
  -- Synced alone is not enough
  fake:set_status("postgresqlinstances", "prod", "db", {conditions = {cond("Synced", "True", "ReconcileSuccess"), cond("Ready", "False", "Creating")}})
  fails(function() c:wait_ready("PostgreSQLInstance", "db", {namespace = "prod", timeout = 0.2, interval = 0.02}) end,
    "not ready after 0.2s: Ready=False (Creating)")
  local t = later(function() fake:set_status("postgresqlinstances", "prod", "db", {conditions = {
    cond("Synced", "True", "ReconcileSuccess"), cond("Ready", "True", "Available")}}) end)
  local claim = c:wait_ready("postgresqlinstances.database.example.org", "db", {namespace = "prod", timeout = 3, interval = 0.02})
  t:await()
  assert.eq(claim.spec.parameters.storageGB, 20)
  assert.eq(#c:claims("postgresqlinstances", {namespace = "prod"}), 1)
  assert.eq(#c:claims("postgresqlinstances", {all_namespaces = true}), 1)
  assert.eq(c:claim_get("postgresqlinstances", "db", {namespace = "prod"}).kind, "PostgreSQLInstance")
  assert.eq(c:claim_get("postgresqlinstances", "db"), nil)   -- the client's namespace is default
end)

test("composite resources (cluster-scoped): the same rule, no namespace", function()
  fake:add{apiVersion = "database.example.org/v1alpha1", kind = "XPostgreSQLInstance", metadata = {name = "db-x7k2p"},
    spec = {parameters = {storageGB = 20}}}
  fake:set_status("xpostgresqlinstances", nil, "db-x7k2p", {conditions = {cond("Synced", "True"), cond("Ready", "False", "Creating", "Unready resources: instance")}})
  fails(function() c:wait_ready("xpostgresqlinstances", "db-x7k2p", SHORT) end,
    "crossplane.wait_ready: xpostgresqlinstance db-x7k2p not ready after 0.2s: Ready=False (Creating: Unready resources: instance)")
  local t = later(function() fake:set_status("xpostgresqlinstances", nil, "db-x7k2p", {conditions = {cond("Synced", "True"), cond("Ready", "True")}}) end)
  assert.eq(c:wait_ready("xpostgresqlinstance", "db-x7k2p", FAST).metadata.name, "db-x7k2p")
  t:await()
end)

test("absent objects are nil; unknown kinds and k8s errors keep their text after the prefix", function()
  local p, st = c:provider_get("nope")
  assert.eq(p, nil)
  assert.eq(st.reason, "NotFound")
  assert.eq(c:configuration_get("nope"), nil)
  assert.eq(c:function_get("nope"), nil)
  assert.eq(c:xrd_get("nope"), nil)
  assert.eq(c:composition_get("nope"), nil)
  fails(function() c:wait_ready("buckets.s3.aws.upbound.io", "b", SHORT) end,
    'crossplane.wait_ready: the server doesn\'t have a resource type "buckets.s3.aws.upbound.io"')
  fails(function() c:claims("nothings") end, 'crossplane.claims: the server doesn\'t have a resource type "nothings"')
  fails(function() c:claim{apiVersion = "database.example.org/v1alpha1", kind = "PostgreSQLInstance", metadata = {name = "x", namespace = "nope"}} end,
    'crossplane.claim: PATCH /apis/database.example.org/v1alpha1/namespaces/nope/postgresqlinstances/x: 404 namespaces "nope" not found')
  local kc = k8s.client{server = fake.url, token = "t"}
  local c2 = crossplane.client{k8s = kc}
  assert.eq(c2.k8s, kc)
  assert.eq(c2.namespace, "default")
end)
