-- assay.k8s's client and the real kubectl on one fake API server: what one writes the other
-- reads, and wait_ready agrees with `kubectl rollout status` on the same states.
local k8s = require("assay.k8s")
local fake = k8s.fake.start{token = "kube-tok", watch_timeout = 0.5}
local dir = fs.tempdir()
local kc = fake:kubeconfig(dir .. "/kubeconfig")
local c = k8s.client{server = fake.url, token = "kube-tok", timeout = 10}

local function run(stdin, ...)
  local argv = {"kubectl", "--kubeconfig", kc, "--cache-dir", dir .. "/cache", "--request-timeout", "10s", ...}
  local ok, p = pcall(process.run, argv, {timeout = 60, stdin = stdin})
  if not ok then error("kubectl could not run (install kubectl on PATH): " .. tostring(p), 0) end
  return p
end
local function kubectl(...)
  local p = run(nil, ...)
  if p.status ~= 0 then error("kubectl " .. table.concat({...}, " ") .. " exited " .. tostring(p.status) .. ": " .. p.stderr, 2) end
  return p.stdout
end

test("kubectl gets what the client created, applied, patched and scaled", function()
  c:create{apiVersion = "v1", kind = "Namespace", metadata = {name = "cross"}}
  c:create{apiVersion = "v1", kind = "ConfigMap", metadata = {name = "made", namespace = "cross", labels = {by = "assay"}},
    data = {a = "1"}}
  c:apply({apiVersion = "apps/v1", kind = "Deployment", metadata = {name = "web", namespace = "cross"},
    spec = {replicas = 1, selector = {matchLabels = {app = "web"}},
      template = {metadata = {labels = {app = "web"}}, spec = {containers = {{name = "c", image = "nginx"}}}}}},
    {field_manager = "bootstrap"})
  c:patch("configmap", "made", {data = {b = "2"}}, {namespace = "cross"})
  c:scale("deployment", "web", 3, {namespace = "cross"})
  c:secret_put("creds", {password = "hunter2"}, {namespace = "cross"})
  assert.eq(kubectl("get", "cm", "-n", "cross", "-l", "by=assay", "-o", "name"), "configmap/made\n")
  assert.eq(json.parse(kubectl("get", "configmap", "made", "-n", "cross", "-o", "json")).data, {a = "1", b = "2"})
  assert.eq(kubectl("get", "deploy", "web", "-n", "cross", "-o", "jsonpath={.spec.replicas}"), "3")
  local managers = kubectl("get", "deploy", "web", "-n", "cross", "--show-managed-fields", "-o",
    "jsonpath={.metadata.managedFields[*].manager}")
  assert.contains(managers, "bootstrap")
  assert.eq(base64.decode(kubectl("get", "secret", "creds", "-n", "cross", "-o", "jsonpath={.data.password}")), "hunter2")
  c:delete("configmap", "made", {namespace = "cross"})
  local p = run(nil, "get", "cm", "made", "-n", "cross")
  assert.ne(p.status, 0)
  assert.contains(p.stderr, 'configmaps "made" not found')
end)

test("the client reads what kubectl created, applied and labelled; a CRD kubectl applies resolves by discovery", function()
  local m = dir .. "/m.yaml"
  fs.write(m, [[
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gizmos.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: gizmos, singular: gizmo, kind: Gizmo, shortNames: [gz]}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: from-kubectl, namespace: cross}
data: {k: v}
]])
  kubectl("apply", "--server-side", "--validate=false", "-f", m)
  kubectl("label", "configmap", "from-kubectl", "-n", "cross", "tier=x")
  local cm = c:get("cm", "from-kubectl", {namespace = "cross"})
  assert.eq({cm.data.k, cm.metadata.labels.tier}, {"v", "x"})
  fs.write(m, "apiVersion: example.com/v1\nkind: Gizmo\nmetadata: {name: g1, namespace: cross}\nspec: {size: 3}\n")
  kubectl("apply", "--validate=false", "-f", m)
  assert.eq(c:get("gz", "g1", {namespace = "cross"}).spec.size, 3)
  assert.eq(#c:list("gizmos.example.com", {namespace = "cross"}).items, 1)
  local gen = kubectl("create", "secret", "generic", "ks", "-n", "cross", "--from-literal=token=abc", "--dry-run=client", "-o", "json")
  local p = run(gen, "create", "--validate=false", "-f", "-")
  assert.eq(p.status, 0, p.stderr)
  assert.eq(c:secret_get("ks", {namespace = "cross"}).token, "abc")
  -- kubectl's server-side dry runs store nothing, as on a cluster
  fs.write(m, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dry, namespace: cross}\n")
  assert.contains(kubectl("apply", "--dry-run=server", "--validate=false", "-f", m), "(server dry run)")
  assert.eq(c:get("cm", "dry", {namespace = "cross"}), nil)
  assert.contains(kubectl("delete", "secret", "ks", "-n", "cross", "--dry-run=server"), "(server dry run)")
  assert.not_nil(c:get("secret", "ks", {namespace = "cross"}))
end)

-- The same Deployment status shown to kubectl rollout status and to wait_ready: both must say
-- ready, or both not ready.
test("wait_ready on a Deployment agrees with kubectl rollout status, state by state", function()
  c:create{apiVersion = "apps/v1", kind = "Deployment", metadata = {name = "r", namespace = "cross"},
    spec = {replicas = 3, selector = {matchLabels = {app = "r"}},
      template = {metadata = {labels = {app = "r"}}, spec = {containers = {{name = "c", image = "x"}}}}}}
  local cases = {
    {name = "not observed", status = {observedGeneration = 0}},
    {name = "updating", status = {observedGeneration = 1, replicas = 3, updatedReplicas = 2, availableReplicas = 3}},
    {name = "old pending", status = {observedGeneration = 1, replicas = 4, updatedReplicas = 3, availableReplicas = 3}},
    {name = "unavailable", status = {observedGeneration = 1, replicas = 3, updatedReplicas = 3, availableReplicas = 2}},
    {name = "done", status = {observedGeneration = 1, replicas = 3, updatedReplicas = 3, availableReplicas = 3}, ready = true},
    {name = "deadline", status = {observedGeneration = 1, replicas = 3, updatedReplicas = 1, availableReplicas = 1,
      conditions = {{type = "Progressing", status = "False", reason = "ProgressDeadlineExceeded"}}}, failed = true},
  }
  for _, case in ipairs(cases) do
    fake:set_status("deployments", "cross", "r", case.status)
    local p = run(nil, "rollout", "status", "deployment/r", "-n", "cross", "--timeout", "1s")
    local ok, err = pcall(c.wait_ready, c, "deployment", "r", {namespace = "cross", timeout = 0.3, interval = 0.05})
    assert.eq(p.status == 0, case.ready == true, case.name .. ": kubectl: " .. p.stdout .. p.stderr)
    assert.eq(ok, case.ready == true, case.name .. ": " .. tostring(err))
    if case.failed then
      assert.contains(p.stderr, "exceeded its progress deadline")
      assert.contains(err, "exceeded its progress deadline")
    end
  end
end)

test("stop", function()
  fake:stop()
  fs.remove(dir, {recursive = true})
end)
