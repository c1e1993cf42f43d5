-- assay.k8s secrets, configmaps, events, can_i and manifests against assay.k8s.fake.
local k8s = require("assay.k8s")
local fake = k8s.fake.start{token = "t0k"}
local c = k8s.client{server = fake.url, token = "t0k", timeout = 10}

local function last() return fake.requests[#fake.requests] end

before_each(function() fake:clear_requests() end)

test("secret_put/secret_get: values base64-encoded on the wire, decoded for the script", function()
  local s = c:secret_put("db", {password = "p@ss\0word", user = "app"}, {type = "Opaque", labels = {team = "a"}})
  assert.eq(s.data.password, base64.encode("p@ss\0word"))
  assert.eq(s.type, "Opaque")
  assert.eq(last().content_type, "application/apply-patch+yaml")
  assert.eq(http.query_value(last().query, "fieldManager"), "assay")
  assert.eq(http.query_value(last().query, "force"), "true")
  local values, secret = c:secret_get("db")
  assert.eq(values, {password = "p@ss\0word", user = "app"})
  assert.eq(secret.metadata.labels.team, "a")
  c:secret_put("db", {password = "new", user = "app"})
  assert.eq(c:secret_get("db").password, "new")
  local none, st = c:secret_get("missing")
  assert.eq({none, st.code}, {nil, 404})
  assert.raises(function() c:secret_put("db", {n = 1}) end, "string keys and string values expected")
  assert.raises(function() c:secret_put("db", {["bad key"] = "x"}) end, 'key "bad key" is not a valid key')
  assert.raises(function() c:secret_put("db", "x") end, "bad argument #2 'values'")
  fake:add{apiVersion = "v1", kind = "Secret", metadata = {name = "broken", namespace = "default"}, data = {k = "!!"}}
  assert.raises(function() c:secret_get("broken") end, 'key "k" is not base64')
end)

test("configmap_put/configmap_get", function()
  c:configmap_put("settings", {mode = "fast"}, {namespace = "kube-system"})
  assert.eq(last().path, "/api/v1/namespaces/kube-system/configmaps/settings")
  local data, obj = c:configmap_get("settings", {namespace = "kube-system"})
  assert.eq(data, {mode = "fast"})
  assert.eq(obj.kind, "ConfigMap")
  assert.eq(c:configmap_get("settings"), nil)
  assert.raises(function() c:configmap_put("x", {}, {type = "Opaque"}) end, "unknown option 'type'")
end)

test("events: about one object, oldest first, selected by involvedObject", function()
  local function ev(name, kind, obj, reason, at)
    fake:add{apiVersion = "v1", kind = "Event", metadata = {name = name, namespace = "default"},
      involvedObject = {kind = kind, name = obj, namespace = "default"}, reason = reason, lastTimestamp = at}
  end
  ev("e2", "Deployment", "web", "ScalingReplicaSet", "2026-01-01T00:00:02Z")
  ev("e1", "Deployment", "web", "Created", "2026-01-01T00:00:01Z")
  ev("e3", "Pod", "web", "Pulled", "2026-01-01T00:00:00Z")
  ev("e4", "Deployment", "api", "Other", "2026-01-01T00:00:00Z")
  local reasons = {}
  for _, e in ipairs(c:events("deployment", "web")) do reasons[#reasons + 1] = e.reason end
  assert.eq(reasons, {"Created", "ScalingReplicaSet"})
  assert.eq(http.query_value(last().query, "fieldSelector"),
    "involvedObject.name=web,involvedObject.kind=Deployment,involvedObject.namespace=default")
end)

test("can_i: a SelfSubjectAccessReview with the resource's group", function()
  assert.eq(c:can_i("get", "secrets"), true)
  local review = json.parse(last().body)
  assert.eq(last().path, "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews")
  assert.eq(review.spec.resourceAttributes, {verb = "get", group = "", resource = "secrets", namespace = "default"})
  fake:deny{verb = "delete", resource = "deployments", group = "apps", reason = "RBAC: no"}
  local ok, why = c:can_i("delete", "deploy", {namespace = "prod", name = "web"})
  assert.eq({ok, why}, {false, "RBAC: no"})
  review = json.parse(last().body)
  assert.eq(review.spec.resourceAttributes, {verb = "delete", group = "apps", resource = "deployments", namespace = "prod", name = "web"})
  assert.eq(c:can_i("list", "namespaces"), true)
  assert.eq(json.parse(last().body).spec.resourceAttributes.namespace, nil)
end)

local MANIFEST = [[
# a comment before the first document
apiVersion: example.com/v1
kind: Widget
metadata: {name: w1, namespace: team}
spec: {size: 2}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: team}
spec: {replicas: 1}
---
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: listed, namespace: team}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, kind: Widget, singular: widget}
  versions: [{name: v1, served: true, storage: true}]
---
apiVersion: v1
kind: Namespace
metadata: {name: team}
]]

test("apply_yaml: dependency order (namespaces, CRDs, ..., custom resources last), Lists unpacked", function()
  local out = c:apply_yaml(MANIFEST, {field_manager = "deploy"})
  local kinds = {}
  for _, o in ipairs(out) do kinds[#kinds + 1] = o.kind end
  assert.eq(kinds, {"Namespace", "ConfigMap", "CustomResourceDefinition", "Deployment", "Widget"})
  assert.eq(c:get("widget", "w1", {namespace = "team"}).spec.size, 2)
  for _, r in ipairs(fake.requests) do
    if r.method == "PATCH" then
      assert.eq(r.content_type, "application/apply-patch+yaml")
      assert.eq(http.query_value(r.query, "fieldManager"), "deploy")
    end
  end
  -- applying again changes nothing and fails nothing
  assert.eq(#c:apply_yaml(MANIFEST), 5)
end)

test("apply_yaml/apply_file: bad documents named; a failure says which object, earlier ones stay", function()
  assert.raises(function() c:apply_yaml("kind: X\n") end, "k8s.apply_yaml: text: document 1 has no apiVersion and kind")
  assert.raises(function() c:apply_yaml("apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n") end, "document 1 \\(ConfigMap\\) has no metadata.name")
  assert.raises(function() c:apply_yaml("a: [\n") end, "k8s.apply_yaml: yaml.parse_all: invalid YAML")
  assert.raises(function() c:apply_yaml(3) end, "bad argument #1 'text'")
  assert.raises(function()
    c:apply_yaml("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: first}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: second, namespace: nowhere}\n")
  end, 'k8s.apply_yaml: ConfigMap nowhere/second \\(document 2\\): PATCH /api/v1/namespaces/nowhere/configmaps/second: 404 namespaces "nowhere" not found')
  assert.not_nil(c:get("cm", "first"))
  local dir = fs.tempdir()
  fs.write(dir .. "/b.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: from-b}\n")
  fs.write(dir .. "/a.json", json.encode{apiVersion = "v1", kind = "ConfigMap", metadata = {name = "from-a"}})
  fs.write(dir .. "/ignored.txt", "not a manifest")
  local out = c:apply_file(dir)
  assert.eq({out[1].metadata.name, out[2].metadata.name}, {"from-a", "from-b"})
  assert.eq(#c:apply_file(dir .. "/b.yaml"), 1)
  assert.raises(function() c:apply_file(dir .. "/none.yaml") end, "k8s.apply_file: ")
  fs.remove(dir, {recursive = true})
end)

test("apply_all: tables in dependency order", function()
  local out = c:apply_all({
    {apiVersion = "v1", kind = "ConfigMap", metadata = {name = "x", namespace = "fresh"}},
    {apiVersion = "v1", kind = "Namespace", metadata = {name = "fresh"}},
  })
  assert.eq({out[1].kind, out[2].kind}, {"Namespace", "ConfigMap"})
  assert.raises(function() c:apply_all("x") end, "bad argument #1 'objects'")
end)

test("stop", function() fake:stop() end)
