-- Cross-check of assay.k8s.fake with the real kubectl: what plain HTTP calls create kubectl
-- sees, and what kubectl creates (apply, create, patch) reads back over HTTP.
-- kubectl (client-go) sends no bearer token to an http:// server, and http.server has no TLS:
-- the fake accepts requests without authorization unless started with require_token.
local fake = require("assay.k8s.fake").start{token = "kube-tok"}
local dir = fs.tempdir()
local kc = fake:kubeconfig(dir .. "/kubeconfig")
local c = http.client{base_url = fake.url, headers = {authorization = "Bearer kube-tok"}, timeout = 10}

local function kubectl_in(stdin, ...)
  local argv = {"kubectl", "--kubeconfig", kc, "--cache-dir", dir .. "/cache", "--request-timeout", "10s", ...}
  local p = process.run(argv, {timeout = 60, stdin = stdin})
  if p.status ~= 0 then
    error("kubectl " .. table.concat({...}, " ") .. " exited " .. tostring(p.status) .. ": " .. p.stderr, 2)
  end
  return p.stdout
end
local function kubectl(...) return kubectl_in(nil, ...) end
local function post(path, obj)
  local r = c:post(path, json.encode(obj), {headers = {["content-type"] = "application/json"}})
  assert.eq(r.status, 201, r.body)
  return json.parse(r.body)
end

test("kubectl is installed (a missing kubectl fails these tests, never skips them)", function()
  local ok, p = pcall(process.run, {"kubectl", "version", "--client", "-o", "json"}, {timeout = 30})
  if not ok or p.status ~= 0 then
    error("kubectl not found or not working (" .. tostring(ok and p.stderr or p) ..
      "): install kubectl (any 1.2x+ client) on PATH to run the cross-check", 0)
  end
  assert.not_nil(json.parse(p.stdout).clientVersion)
end)

test("the kubeconfig points kubectl at the fake (config view)", function()
  local v = json.parse(kubectl("config", "view", "--minify", "--raw", "-o", "json"))
  assert.eq(v.clusters[1].cluster.server, fake.url)
  assert.eq(v.users[1].user.token, "kube-tok")
  assert.eq(v["current-context"], "fake")
end)

test("kubectl get sees what HTTP created: namespaces, configmaps, deployments, selectors", function()
  post("/api/v1/namespaces", {apiVersion = "v1", kind = "Namespace", metadata = {name = "team"}})
  post("/api/v1/namespaces/team/configmaps", {metadata = {name = "settings", labels = {app = "web"}}, data = {mode = "fast"}})
  post("/api/v1/namespaces/team/configmaps", {metadata = {name = "other", labels = {app = "db"}}})
  post("/apis/apps/v1/namespaces/team/deployments", {apiVersion = "apps/v1", kind = "Deployment",
    metadata = {name = "web"}, spec = {replicas = 2, selector = {matchLabels = {app = "web"}},
      template = {metadata = {labels = {app = "web"}}, spec = {containers = {{name = "c", image = "nginx"}}}}}})
  assert.contains(kubectl("get", "ns", "-o", "name"), "namespace/team")
  local cm = json.parse(kubectl("get", "configmap", "settings", "-n", "team", "-o", "json"))
  assert.eq(cm.data, {mode = "fast"})
  assert.eq(kubectl("get", "cm", "-n", "team", "-l", "app=web", "-o", "name"), "configmap/settings\n")
  assert.eq(kubectl("get", "cm", "-n", "team", "-l", "app in (db)", "-o", "name"), "configmap/other\n")
  assert.eq(kubectl("get", "cm", "-n", "team", "--field-selector", "metadata.name=other", "-o", "name"), "configmap/other\n")
  assert.eq(kubectl("get", "deploy", "-n", "team", "-o", "jsonpath={.items[0].spec.replicas}"), "2")
  assert.eq(kubectl("get", "deployments.apps", "web", "-n", "team", "-o", "jsonpath={.metadata.name}"), "web")
  assert.contains(kubectl("get", "cm", "-A", "-o", "name"), "configmap/settings")
  -- kubectl's chunked list (limit/continue) over 3 pages
  assert.eq(kubectl("get", "cm", "-n", "team", "--chunk-size", "1", "-o", "name"), "configmap/other\nconfigmap/settings\n")
end)

test("kubectl apply -f (client-side, then again with a change, then server-side); HTTP reads it", function()
  local m = dir .. "/app.yaml"
  local function manifest(value, replicas)
    fs.write(m, table.concat({
      "apiVersion: v1", "kind: Namespace", "metadata:", "  name: applied", "---",
      "apiVersion: v1", "kind: ConfigMap", "metadata:", "  name: conf", "  namespace: applied", "data:", "  key: " .. value, "---",
      "apiVersion: apps/v1", "kind: Deployment", "metadata:", "  name: api", "  namespace: applied", "spec:",
      "  replicas: " .. replicas, "  selector: {matchLabels: {app: api}}", "  template:", "    metadata: {labels: {app: api}}",
      "    spec:", "      containers: [{name: api, image: 'api:1'}]", ""}, "\n"))
  end
  manifest("first", 1)
  local out = kubectl("apply", "--validate=false", "-f", m)
  assert.contains(out, "configmap/conf created"); assert.contains(out, "deployment.apps/api created")
  local cm = json.parse(c:get("/api/v1/namespaces/applied/configmaps/conf").body)
  assert.eq(cm.data, {key = "first"})
  assert.not_nil(cm.metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"])
  manifest("second", 3)
  out = kubectl("apply", "--validate=false", "-f", m)
  assert.contains(out, "configmap/conf configured")
  local patches = {}
  for _, r in ipairs(fake.requests) do
    if r.method == "PATCH" then patches[#patches + 1] = r.content_type end
  end
  assert.contains(patches, "application/strategic-merge-patch+json")
  assert.eq(json.parse(c:get("/api/v1/namespaces/applied/configmaps/conf").body).data, {key = "second"})
  local dep = json.parse(c:get("/apis/apps/v1/namespaces/applied/deployments/api").body)
  assert.eq(dep.spec.replicas, 3); assert.eq(dep.metadata.generation, 2)
  manifest("third", 3)
  out = kubectl("apply", "--server-side", "--field-manager", "ci", "--validate=false", "-f", m)
  assert.contains(out, "serverside-applied")
  local last = fake.requests[#fake.requests]
  assert.eq(last.content_type, "application/apply-patch+yaml"); assert.eq(last.query.fieldManager, "ci")
  cm = json.parse(c:get("/api/v1/namespaces/applied/configmaps/conf").body)
  assert.eq(cm.data, {key = "third"})
  local managers = {}
  for _, e in ipairs(cm.metadata.managedFields) do managers[#managers + 1] = e.manager end
  assert.contains(managers, "ci")
end)

test("kubectl's typed generators send protobuf: the fake answers 415, kubectl says so", function()
  local p = process.run({"kubectl", "--kubeconfig", kc, "--cache-dir", dir .. "/cache", "create", "configmap", "pb",
    "-n", "team", "--from-literal=a=1"}, {timeout = 60})
  assert.ne(p.status, 0)
  assert.contains(p.stderr, "unknown format")
  assert.eq(fake.requests[#fake.requests].content_type, "application/vnd.kubernetes.protobuf")
end)

test("kubectl create -f, patch (merge, json), label; HTTP reads them", function()
  -- the generators' objects, sent as JSON (create -f): what `kubectl create configmap` would make
  local gen = kubectl("create", "configmap", "made", "-n", "team", "--from-literal=a=1", "--dry-run=client", "-o", "json")
  kubectl_in(gen, "create", "--validate=false", "-f", "-")
  local cm = json.parse(c:get("/api/v1/namespaces/team/configmaps/made").body)
  assert.eq(cm.data, {a = "1"})
  kubectl("patch", "configmap", "made", "-n", "team", "--type", "merge", "-p", '{"data":{"b":"2"}}')
  assert.eq(fake.requests[#fake.requests].content_type, "application/merge-patch+json")
  kubectl("patch", "configmap", "made", "-n", "team", "--type", "json", "-p", '[{"op":"remove","path":"/data/a"}]')
  assert.eq(fake.requests[#fake.requests].content_type, "application/json-patch+json")
  kubectl("label", "configmap", "made", "-n", "team", "tier=x")
  cm = json.parse(c:get("/api/v1/namespaces/team/configmaps/made").body)
  assert.eq(cm.data, {b = "2"}); assert.eq(cm.metadata.labels, {tier = "x"})
  kubectl_in(kubectl("create", "secret", "generic", "s", "-n", "team", "--from-literal=password=hunter2",
    "--dry-run=client", "-o", "json"), "create", "--validate=false", "-f", "-")
  local s = json.parse(c:get("/api/v1/namespaces/team/secrets/s").body)
  assert.eq(base64.decode(s.data.password), "hunter2")
end)

test("kubectl delete removes what HTTP created, and HTTP deletes show in kubectl", function()
  assert.contains(kubectl("delete", "configmap", "other", "-n", "team"), 'configmap "other" deleted')
  assert.eq(c:get("/api/v1/namespaces/team/configmaps/other").status, 404)
  assert.eq(c:delete("/api/v1/namespaces/team/configmaps/made").status, 200)
  local p = process.run({"kubectl", "--kubeconfig", kc, "--cache-dir", dir .. "/cache", "get", "cm", "made", "-n", "team"}, {timeout = 60})
  assert.ne(p.status, 0)
  assert.contains(p.stderr, 'configmaps "made" not found')
  -- (the fake deletes a namespace's objects at once, where a cluster lets the namespace
  -- terminate: delete -f of the whole manifest would find them gone)
  assert.contains(kubectl("delete", "deployment", "api", "-n", "applied"), 'deployment.apps "api" deleted')
  assert.contains(kubectl("delete", "namespace", "applied", "--wait=false"), 'namespace "applied" deleted')
  assert.eq(c:get("/api/v1/namespaces/applied/configmaps/conf").status, 404)
  assert.eq(c:get("/api/v1/namespaces/applied").status, 404)
  assert.eq(c:get("/apis/apps/v1/namespaces/applied/deployments/api").status, 404)
end)

test("a CRD created over HTTP is usable from kubectl by plural and short name", function()
  post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", {apiVersion = "apiextensions.k8s.io/v1",
    kind = "CustomResourceDefinition", metadata = {name = "gadgets.example.com"},
    spec = {group = "example.com", scope = "Namespaced",
      names = {plural = "gadgets", singular = "gadget", kind = "Gadget", shortNames = {"gd"}},
      versions = {{name = "v1", served = true, storage = true,
        schema = {openAPIV3Schema = {type = "object", ["x-kubernetes-preserve-unknown-fields"] = true}}}}}})
  local m = dir .. "/gadget.yaml"
  fs.write(m, "apiVersion: example.com/v1\nkind: Gadget\nmetadata:\n  name: g1\n  namespace: team\nspec:\n  size: 3\n")
  assert.contains(kubectl("apply", "--validate=false", "-f", m), "gadget.example.com/g1 created")
  assert.eq(json.parse(c:get("/apis/example.com/v1/namespaces/team/gadgets/g1").body).spec.size, 3)
  assert.eq(kubectl("get", "gd", "-n", "team", "-o", "name"), "gadget.example.com/g1\n")
  assert.eq(kubectl("get", "crd", "-o", "name"), "customresourcedefinition.apiextensions.k8s.io/gadgets.example.com\n")
end)

test("kubectl logs reads the log the test feeds", function()
  post("/api/v1/namespaces/team/pods", {metadata = {name = "worker"}, spec = {containers = {{name = "w", image = "x"}}}})
  fake:log("team", "worker", "started\nworking\ndone")
  assert.eq(kubectl("logs", "worker", "-n", "team"), "started\nworking\ndone\n")
  assert.eq(kubectl("logs", "worker", "-n", "team", "--tail", "1"), "done\n")
end)

test("kubectl rollout status follows a simulated rollout: ready after a delay, and a deadline exceeded", function()
  local function deploy(name)
    post("/apis/apps/v1/namespaces/team/deployments", {apiVersion = "apps/v1", kind = "Deployment",
      metadata = {name = name}, spec = {replicas = 2, selector = {matchLabels = {app = name}},
        template = {metadata = {labels = {app = name}}, spec = {containers = {{name = "c", image = "x"}}}}}})
  end
  deploy("slow")
  local t = fake:rollout("deployments", "team", "slow", {delay = 0.5})
  local started = time.monotonic()
  local out = kubectl("rollout", "status", "deployment/slow", "-n", "team", "--timeout", "20s")
  assert.contains(out, 'deployment "slow" successfully rolled out')
  assert.ge(time.monotonic() - started, 0.4)
  assert.eq(t:await().status.readyReplicas, 2)
  deploy("stuck")
  fake:rollout("deployments", "team", "stuck", {fail = true})
  local p = process.run({"kubectl", "--kubeconfig", kc, "--cache-dir", dir .. "/cache", "rollout", "status",
    "deployment/stuck", "-n", "team", "--timeout", "20s"}, {timeout = 60})
  assert.ne(p.status, 0)
  assert.contains(p.stderr, "exceeded its progress deadline")
end)

test("kubectl get --watch sees a change made over HTTP", function()
  local w = process.spawn({"kubectl", "--kubeconfig", kc, "--cache-dir", dir .. "/cache", "get", "cm", "-n", "team",
    "--watch-only", "-o", "name", "--request-timeout", "5s"})
  sleep(1)
  post("/api/v1/namespaces/team/configmaps", {metadata = {name = "watched"}})
  local seen = false
  for line in w:lines("stdout") do
    if line:match("configmap/watched") then seen = true; break end
  end
  w:kill("TERM"); w:wait()
  assert.eq(seen, true)
end)

test("stop", function() fake:stop() end)
