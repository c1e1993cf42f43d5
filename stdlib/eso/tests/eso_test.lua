-- assay.eso against assay.k8s.fake with ESO's CRDs registered as the real ones are shaped
-- (external-secrets.io; v1 stored and preferred, v1beta1 still listed; the status subresource).
local eso = require("assay.eso")
local k8s = require("assay.k8s")
local function start(versions)
  local fake = k8s.fake.start{token = "t", namespaces = {"default", "apps"}}
  local function crd(kind, plural, scope, short)
    local vs = {}
    for i, v in ipairs(versions) do
      vs[i] = {name = v, served = true, storage = i == 1, subresources = {status = {}},
        schema = {openAPIV3Schema = {type = "object", ["x-kubernetes-preserve-unknown-fields"] = true}}}
    end
    fake:add{apiVersion = "apiextensions.k8s.io/v1", kind = "CustomResourceDefinition",
      metadata = {name = plural .. ".external-secrets.io"},
      spec = {group = "external-secrets.io", scope = scope, names = {kind = kind, listKind = kind .. "List",
        plural = plural, singular = kind:lower(), shortNames = short, categories = {"external-secrets"}}, versions = vs}}
  end
  crd("ExternalSecret", "externalsecrets", "Namespaced", {"es"})
  crd("ClusterExternalSecret", "clusterexternalsecrets", "Cluster", {"ces"})
  crd("SecretStore", "secretstores", "Namespaced", {"ss"})
  crd("ClusterSecretStore", "clustersecretstores", "Cluster", {"css"})
  return fake
end
local fake = start{"v1", "v1beta1"}
local c = eso.client{server = fake.url, token = "t"}
-- the fake keeps each served version apart (no conversion): the controller writes the stored one
local ES = "external-secrets.io/v1/externalsecrets"
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
local function synced(extra)
  local st = {refreshTime = time.iso(time() + 1, {precision = 0}), syncedResourceVersion = "1-abc",
    conditions = {{type = "Ready", status = "True", reason = "SecretSynced", message = "secret synced"}}}
  for k, v in pairs(extra or {}) do st[k] = v end
  return st
end

test("external_secret: an ExternalSecret in the preferred version, applied server-side", function()
  c:external_secret("db", {store = "vault", store_kind = "ClusterSecretStore", refresh_interval = 900,
    data = {password = {key = "apps/db", property = "password"}, user = "apps/db-user"}, target = "db-credentials",
    creation_policy = "Owner"})
  local r = last("PATCH")
  assert.eq(r.path, "/apis/external-secrets.io/v1/namespaces/default/externalsecrets/db")
  assert.eq(r.content_type, "application/apply-patch+yaml")
  local body = json.parse(r.body)
  assert.eq({body.apiVersion, body.kind}, {"external-secrets.io/v1", "ExternalSecret"})
  assert.eq(body.spec.secretStoreRef, {name = "vault", kind = "ClusterSecretStore"})
  assert.eq(body.spec.refreshInterval, "0h15m0s")
  assert.eq(body.spec.target, {name = "db-credentials", creationPolicy = "Owner"})
  assert.eq(body.spec.data, {{secretKey = "password", remoteRef = {key = "apps/db", property = "password"}},
    {secretKey = "user", remoteRef = {key = "apps/db-user"}}})
  c:external_secret("all", {store = "vault", data_from = "apps/config", namespace = "apps"})
  r = last("PATCH")
  assert.eq(r.path, "/apis/external-secrets.io/v1/namespaces/apps/externalsecrets/all")
  assert.eq(json.parse(r.body).spec.dataFrom, {{extract = {key = "apps/config"}}})
  assert.eq(json.parse(r.body).spec.secretStoreRef.kind, "SecretStore")
  assert.eq(#c:external_secrets(), 1)
  assert.eq(#c:external_secrets{all_namespaces = true}, 2)
  assert.eq(c:external_secret_get("all", {namespace = "apps"}).spec.dataFrom[1].extract.key, "apps/config")
end)

test("an older ESO serving only v1beta1: that version is used", function()
  local old = start{"v1beta1"}
  local oc = eso.client{server = old.url, token = "t"}
  oc:external_secret("db", {store = "vault", data = {password = "db"}})
  local r = old.requests[#old.requests]
  assert.eq(r.path, "/apis/external-secrets.io/v1beta1/namespaces/default/externalsecrets/db")
  assert.eq(json.parse(r.body).apiVersion, "external-secrets.io/v1beta1")
  old:stop()
end)

test("bad arguments are named", function()
  fails(function() c:external_secret("x", {data = {a = "b"}}) end, "eso.external_secret: bad argument #2 'opts' (field 'store': the SecretStore's name is required)")
  fails(function() c:external_secret("x", {store = "s"}) end, "one of data or data_from is required")
  fails(function() c:external_secret("x", {store = "s", store_kind = "Vault", data = {a = "b"}}) end, "field 'store_kind': SecretStore or ClusterSecretStore expected")
  fails(function() c:external_secret("x", {store = "s", data = {a = 1}}) end, "field 'data.a': a remote key or {key = ..., property = ...} expected")
  fails(function() c:external_secret("x", {store = "s", data = {a = "b"}, refresh = "1h"}) end, "unknown option 'refresh'")
  fails(function() c:external_secret("x") end, "eso.external_secret: bad argument #2 'opts' (table expected, got nil)")
  fails(function() c:secret_store("x", {}) end, "eso.secret_store: bad argument #2 'provider'")
  fails(function() c:wait_ready("secret", "x") end, "eso.wait_ready: bad argument #1 'kind' (externalsecret, secretstore, clustersecretstore or clusterexternalsecret expected")
  fails(function() c:wait_ready("ss", "x", {since = "2026-01-01T00:00:00Z"}) end, "field 'since': only an externalsecret has a refresh time")
  fails(function() c:sync("db", {wait = "yes"}) end, "eso.sync: bad argument #2 'opts' (field 'wait': boolean expected, got string)")
end)

test("wait_ready: true once synced; the target secret read back", function()
  assert.eq(c:secret("db"), nil)   -- not synced yet: no Secret
  local t = later(function()
    fake:add{apiVersion = "v1", kind = "Secret", metadata = {name = "db-credentials", namespace = "default"},
      data = {password = base64.encode("s3cr3t"), user = base64.encode("app")}}
    fake:set_status(ES, "default", "db", synced{binding = {name = "db-credentials"}})
  end)
  local es = c:wait_ready("externalsecret", "db", FAST)
  t:await()
  assert.eq(es.status.binding.name, "db-credentials")
  local values, secret = c:secret("db")
  assert.eq(values, {password = "s3cr3t", user = "app"})
  assert.eq(secret.metadata.name, "db-credentials")
end)

test("wait_ready: SecretSyncedError is waited on and reported with ESO's message at the timeout", function()
  c:external_secret("broken", {store = "vault", data = {k = "missing"}})
  fails(function() c:wait_ready("es", "broken", SHORT) end, "eso.wait_ready: externalsecret default/broken not ready after 0.2s: no Ready condition yet")
  fake:set_status(ES, "default", "broken", {refreshTime = json.null, conditions = {
    {type = "Ready", status = "False", reason = "SecretSyncedError", message = "could not get secret data from provider"}}})
  fails(function() c:wait_ready("es", "broken", SHORT) end,
    "eso.wait_ready: externalsecret default/broken not ready after 0.2s: Ready=False (SecretSyncedError: could not get secret data from provider)")
  local t = later(function() fake:set_status(ES, "default", "broken", synced()) end)
  assert.eq(c:wait_ready("es", "broken", FAST).metadata.name, "broken")
  t:await()
end)

test("sync: the force-sync annotation as the ESO docs set it; wait = true waits for a newer refresh", function()
  local before = math.floor(time())
  fake:set_status(ES, "default", "db", synced{refreshTime = "2026-01-01T00:00:00Z"})
  local es = c:sync("db")
  local r = last("PATCH")
  assert.eq(r.path, "/apis/external-secrets.io/v1/namespaces/default/externalsecrets/db")
  assert.eq(r.content_type, "application/merge-patch+json")
  local stamp = json.parse(r.body).metadata.annotations["force-sync"]
  assert.matches(stamp, "^\\d+$")
  assert.eq(tonumber(stamp) >= before, true)
  assert.eq(es.metadata.annotations["force-sync"], stamp)
  -- the old refresh does not count
  fails(function() c:wait_ready("es", "db", {since = time.iso(before, {precision = 0}), timeout = 0.2, interval = 0.02}) end,
    "last refresh 2026-01-01T00:00:00Z, before the sync asked at")
  local t = later(function() fake:set_status(ES, "default", "db", synced()) end)
  local done = c:sync("db", {wait = true, timeout = 3, interval = 0.02})
  t:await()
  assert.eq(done.status.conditions[1].reason, "SecretSynced")
  fake:set_status(ES, "default", "db", synced{refreshTime = "2026-01-01T00:00:00Z"})
  fails(function() c:sync("db", {wait = true, timeout = 0.2, interval = 0.02}) end, "eso.sync: externalsecret default/db not ready after 0.2s: last refresh")
  assert.eq(c:sync("nope"), nil)
end)

test("stores: created from the provider's configuration, waited for Ready", function()
  c:secret_store("vault", {vault = {server = "http://vault:8200", path = "secret", version = "v2",
    auth = {tokenSecretRef = {name = "vault-token", key = "token"}}}}, {refresh_interval = 60})
  local r = last("PATCH")
  assert.eq(r.path, "/apis/external-secrets.io/v1/namespaces/default/secretstores/vault")
  local body = json.parse(r.body)
  assert.eq(body.kind, "SecretStore")
  assert.eq(body.spec.provider.vault.server, "http://vault:8200")
  assert.eq(body.spec.refreshInterval, 60)
  c:cluster_secret_store("vault", {fake = {data = {{key = "k", value = "v"}}}})
  assert.eq(last("PATCH").path, "/apis/external-secrets.io/v1/clustersecretstores/vault")
  fake:set_status("external-secrets.io/v1/secretstores", "default", "vault", {conditions = {{type = "Ready", status = "False",
    reason = "InvalidProviderConfig", message = "unable to validate store"}}})
  fails(function() c:wait_ready("secretstore", "vault", SHORT) end,
    "eso.wait_ready: secretstore default/vault not ready after 0.2s: Ready=False (InvalidProviderConfig: unable to validate store)")
  local t = later(function()
    fake:set_status("external-secrets.io/v1/secretstores", "default", "vault", {capabilities = "ReadWrite", conditions = {{type = "Ready", status = "True", reason = "Valid", message = "store validated"}}})
    fake:set_status("external-secrets.io/v1/clustersecretstores", nil, "vault", {conditions = {{type = "Ready", status = "True", reason = "Valid"}}})
  end)
  assert.eq(c:wait_ready("ss", "vault", FAST).status.capabilities, "ReadWrite")
  assert.eq(c:wait_ready("clustersecretstore", "vault", FAST).kind, "ClusterSecretStore")
  t:await()
  assert.eq(#c:secret_stores(), 1)
  assert.eq(c:cluster_secret_stores()[1].metadata.name, "vault")
  assert.eq(c:cluster_secret_store_get("vault").spec.provider.fake ~= nil, true)
  assert.eq(c:secret_store_get("vault").spec.provider.vault.path, "secret")
end)

test("absent objects are nil; the client's rule", function()
  local es, st = c:external_secret_get("nope")
  assert.eq(es, nil)
  assert.eq(st.reason, "NotFound")
  assert.eq(c:secret("nope"), nil)
  assert.eq(c:secret_store_get("nope"), nil)
  assert.eq(c:cluster_secret_store_get("nope"), nil)
  assert.eq(c:cluster_external_secret_get("nope"), nil)
  assert.eq(#c:cluster_external_secrets(), 0)
  local c2 = eso.client{k8s = c.k8s, namespace = "apps"}
  assert.eq(c2:external_secret_get("all").metadata.namespace, "apps")
  fails(function() eso.client{k8s = c.k8s, token = "x"} end, "eso.client: bad argument #1 'opts' (option 'token' cannot be given with 'k8s'")
end)
