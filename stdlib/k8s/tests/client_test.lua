-- assay.k8s's client against assay.k8s.fake: every verb, with the request it sent checked
-- (method, path, query, content type, body), and every error a user meets.
local k8s = require("assay.k8s")
local fake = k8s.fake.start{token = "t0k", require_token = true, watch_timeout = 0.3}
local c = k8s.client{server = fake.url, token = "t0k", timeout = 10}

-- the last request the fake saw (optionally the last with this method)
local function last(method)
  for i = #fake.requests, 1, -1 do
    local r = fake.requests[i]
    if method == nil or r.method == method then return r end
  end
  return nil
end
local function q(rec, name) return http.query_value(rec.query, name) end
-- assert.raises with the text of the message (not a regex)
local function raises(f, text)
  return assert.raises(f, (text:gsub("[%^%$%(%)%.%[%]%*%+%-%?%{%}%|\\]", "\\%0")))
end

before_each(function()
  fake:clear_requests()
  fake.on_request = nil
end)

local function cm(name, extra)
  local o = {apiVersion = "v1", kind = "ConfigMap", metadata = {name = name}, data = {k = "v"}}
  for k, v in pairs(extra or {}) do o.metadata[k] = v end
  return o
end

test("client: options checked; the token is sent; a wrong one is the server's 401", function()
  raises(function() k8s.client{server = fake.url, bogus = 1} end, "unknown option 'bogus'")
  raises(function() k8s.client{server = "ftp://x"} end, "k8s.client: bad server")
  raises(function() k8s.client{server = fake.url, namespace = 3} end, "field 'namespace': string expected")
  assert.eq(c.namespace, "default")
  assert.eq(tostring(c), "k8s.client(" .. fake.url .. ")")
  c:get("configmaps", "x")
  assert.eq(last().headers.authorization, "Bearer t0k")
  local bad = k8s.client{server = fake.url, token = "wrong"}
  raises(function() bad:get("configmaps", "x") end,
    "k8s.get: GET /api/v1/namespaces/default/configmaps/x: 401 Unauthorized")
end)

test("resource names as kubectl takes them; built-in ones need no discovery", function()
  c:create(cm("names"))
  fake:clear_requests()
  for _, n in ipairs{"configmap", "configmaps", "cm", "ConfigMap", "CONFIGMAP", "v1/ConfigMap", "v1/configmaps"} do
    assert.eq(c:get(n, "names").metadata.name, "names", n)
  end
  c:create{apiVersion = "apps/v1", kind = "Deployment", metadata = {name = "web"}, spec = {replicas = 1}}
  for _, n in ipairs{"deployment", "deploy", "deployments.apps", "deployments.v1.apps", "apps/v1/Deployment", "Deployment"} do
    assert.eq(c:get(n, "web").kind, "Deployment", n)
  end
  for _, rec in ipairs(fake.requests) do assert.eq(rec.path:match("^/apis?$"), nil, rec.path) end
  raises(function() c:get("gizmos", "x") end, 'k8s.get: the server doesn\'t have a resource type "gizmos"')
  raises(function() c:get("a/b/c/d", "x") end, "k8s.get: bad argument #1 'resource' (not a resource name")
  raises(function() c:get("", "x") end, "bad argument #1 'resource'")
  raises(function() c:get("cm", "") end, "bad argument #2 'name'")
end)

test("custom resources resolve through discovery, also when created after the first look", function()
  raises(function() c:get("widgets", "w") end, 'resource type "widgets"')
  fake:add{apiVersion = "apiextensions.k8s.io/v1", kind = "CustomResourceDefinition",
    metadata = {name = "widgets.example.com"},
    spec = {group = "example.com", scope = "Namespaced",
      names = {plural = "widgets", kind = "Widget", singular = "widget", shortNames = {"wg"}},
      versions = {{name = "v1", served = true, storage = true, subresources = {status = {}, scale = {}}}}}}
  -- the cached discovery misses it once, then asks again
  local w = c:create{apiVersion = "example.com/v1", kind = "Widget", metadata = {name = "w1"}, spec = {replicas = 2}}
  assert.eq(w.metadata.namespace, "default")
  for _, n in ipairs{"widgets", "widget", "wg", "Widget", "widgets.example.com", "widgets.v1.example.com", "example.com/v1/Widget"} do
    assert.eq(c:get(n, "w1").kind, "Widget", n)
  end
  assert.eq(c:resource("wg").scale, true)
  assert.eq(c:scale("widgets", "w1", 4).spec.replicas, 4)
  raises(function() c:create{apiVersion = "example.com/v2", kind = "Widget", metadata = {name = "x"}} end,
    'no matches for kind "Widget" in version "example.com/v2"')
end)

test("a CRD's versions share their objects (the fake converts apiVersion, as strategy None)", function()
  fake:add{apiVersion = "apiextensions.k8s.io/v1", kind = "CustomResourceDefinition", metadata = {name = "things.ex.io"},
    spec = {group = "ex.io", scope = "Namespaced", names = {plural = "things", kind = "Thing"},
      versions = {{name = "v1", served = true, storage = true}, {name = "v1beta1", served = true, storage = false}}}}
  c:create{apiVersion = "ex.io/v1beta1", kind = "Thing", metadata = {name = "a"}}
  assert.eq(c:get("things.v1.ex.io", "a").apiVersion, "ex.io/v1")
  assert.eq(c:get("things.v1beta1.ex.io", "a").apiVersion, "ex.io/v1beta1")
  assert.eq(c:list("ex.io/v1/things").items[1].apiVersion, "ex.io/v1")
  raises(function() c:create{apiVersion = "ex.io/v1", kind = "Thing", metadata = {name = "a"}} end, '409 things.ex.io "a" already exists')
  local w <close> = c:watch("things.v1.ex.io", {resource_version = c:get("things.v1.ex.io", "a").metadata.resourceVersion, timeout = 3})
  c:patch("things.v1beta1.ex.io", "a", {spec = {n = 1}})
  local ev = w()
  assert.eq({ev.type, ev.object.apiVersion, ev.object.spec.n}, {"MODIFIED", "ex.io/v1", 1})
end)

test("get: the object, or nil and the NotFound Status; namespaces", function()
  fake:add{apiVersion = "v1", kind = "Namespace", metadata = {name = "ops"}}
  c:create(cm("g1", {namespace = "ops"}))
  assert.eq(c:get("cm", "g1", {namespace = "ops"}).data.k, "v")
  assert.eq(last().path, "/api/v1/namespaces/ops/configmaps/g1")
  local none, st = c:get("cm", "g1")
  assert.eq(none, nil)
  assert.eq({st.kind, st.code, st.reason}, {"Status", 404, "NotFound"})
  -- cluster-scoped: no namespace in the path even when one is given
  assert.eq(c:get("namespace", "ops", {namespace = "x"}).metadata.name, "ops")
  assert.eq(last().path, "/api/v1/namespaces/ops")
  raises(function() c:get("cm", "g1", {nmespace = "ops"}) end, "unknown option 'nmespace'")
end)

test("list: selectors encoded, pages followed, all namespaces; an expired continue restarts the list", function()
  for i = 1, 5 do c:create(cm("l" .. i, {labels = {set = "l", n = tostring(i)}})) end
  local l = c:list("cm", {label_selector = {set = "l"}, limit = 2})
  assert.eq(#l.items, 5)
  assert.eq(l.kind, "ConfigMapList")
  assert.eq(l.metadata["continue"], nil)
  local gets = {}
  for _, r in ipairs(fake.requests) do if r.method == "GET" then gets[#gets + 1] = r end end
  assert.eq(#gets, 3)
  assert.eq(q(gets[1], "labelSelector"), "set=l")
  assert.eq(q(gets[1], "limit"), "2")
  assert.eq(q(gets[1], "continue"), nil)
  assert.not_nil(q(gets[2], "continue"))
  assert.eq(#c:list("cm", {label_selector = "set=l,n in (1,2)"}).items, 2)
  assert.eq(#c:list("cm", {field_selector = {["metadata.name"] = "l3"}}).items, 1)
  assert.eq(q(last(), "fieldSelector"), "metadata.name=l3")
  c:list("cm", {all_namespaces = true})
  assert.eq(last().path, "/api/v1/configmaps")
  -- the continue token expires between pages: the list starts over, whole
  fake:clear_requests()
  fake.on_request = function(rec)
    if q(rec, "continue") and not fake._compacted then fake._compacted = true; fake:compact() end
  end
  local again = c:list("cm", {label_selector = {set = "l"}, limit = 2})
  assert.eq(#again.items, 5)
  assert.eq(fake._compacted, true)
  raises(function() c:list("cm", {limit = 0}) end, "field 'limit': positive integer expected")
end)

test("create: POST with JSON; 409 when it exists, with the server's message", function()
  local o = c:create(cm("c1"))
  assert.not_nil(o.metadata.uid)
  local rec = last()
  assert.eq({rec.method, rec.path, rec.content_type}, {"POST", "/api/v1/namespaces/default/configmaps", "application/json"})
  assert.eq(json.parse(rec.body).data.k, "v")
  raises(function() c:create(cm("c1")) end,
    'k8s.create: POST /api/v1/namespaces/default/configmaps: 409 configmaps "c1" already exists')
  c:create(cm("c2"), {dry_run = true, field_manager = "me"})
  assert.eq({q(last(), "dryRun"), q(last(), "fieldManager")}, {"All", "me"})
  raises(function() c:create{kind = "ConfigMap", metadata = {name = "x"}} end, "apiVersion and kind are required")
  raises(function() c:create("x") end, "bad argument #1 'object' (table expected, got string)")
end)

test("replace: PUT; a stale resourceVersion is a 409 Conflict", function()
  local o = c:create(cm("r1"))
  o.data.k = "w"
  local stale = json.parse(json.encode(o))
  local o2 = c:replace(o)
  assert.eq(o2.data.k, "w")
  assert.eq({last().method, last().path}, {"PUT", "/api/v1/namespaces/default/configmaps/r1"})
  raises(function() c:replace(stale) end, "k8s.replace: PUT /api/v1/namespaces/default/configmaps/r1: 409 Operation cannot be fulfilled")
end)

test("patch: merge by default, JSON patch and strategic merge on request, each with its content type", function()
  c:create(cm("p1"))
  assert.eq(c:patch("configmap", "p1", {data = {a = "1"}}).data.a, "1")
  assert.eq(last().content_type, "application/merge-patch+json")
  assert.eq(json.parse(last().body), {data = {a = "1"}})
  c:patch("cm", "p1", {{op = "replace", path = "/data/a", value = "2"}}, {type = "json"})
  assert.eq(last().content_type, "application/json-patch+json")
  assert.eq(json.parse(last().body)[1].op, "replace")
  assert.eq(c:get("cm", "p1").data.a, "2")
  c:patch("cm", "p1", {data = {b = "3"}}, {type = "strategic"})
  assert.eq(last().content_type, "application/strategic-merge-patch+json")
  c:patch("cm", "p1", '{"data":{"c":"4"}}')
  assert.eq(last().body, '{"data":{"c":"4"}}')
  assert.eq(c:get("cm", "p1").data, {k = "v", a = "2", b = "3", c = "4"})
  raises(function() c:patch("cm", "p1", {}, {type = "apply"}) end, "field 'type': merge, json or strategic expected")
  raises(function() c:patch("cm", "p1", 3) end, "bad argument #3 'patch'")
  local none = c:get("cm", "nope")
  assert.eq(none, nil)
  raises(function() c:patch("cm", "nope", {}) end, 'k8s.patch: PATCH /api/v1/namespaces/default/configmaps/nope: 404 configmaps "nope" not found')
end)

test("apply: server-side apply with application/apply-patch+yaml, fieldManager, force", function()
  local o = c:apply(cm("a1"))
  assert.eq(o.metadata.name, "a1")
  local rec = last()
  assert.eq({rec.method, rec.path, rec.content_type}, {"PATCH", "/api/v1/namespaces/default/configmaps/a1", "application/apply-patch+yaml"})
  assert.eq(q(rec, "fieldManager"), "assay")
  assert.eq(q(rec, "force"), nil)
  c:apply({apiVersion = "v1", kind = "ConfigMap", metadata = {name = "a1"}, data = {x = "y"}}, {field_manager = "ops", force = true})
  assert.eq({q(last(), "fieldManager"), q(last(), "force")}, {"ops", "true"})
  local managers = {}
  for _, m in ipairs(c:get("cm", "a1").metadata.managedFields) do managers[#managers + 1] = m.manager end
  table.sort(managers)
  assert.eq(managers, {"assay", "ops"})
  local c2 = k8s.client{server = fake.url, token = "t0k", field_manager = "deployer", namespace = "kube-system"}
  c2:apply(cm("a2"))
  assert.eq({last().path, q(last(), "fieldManager")}, {"/api/v1/namespaces/kube-system/configmaps/a2", "deployer"})
end)

test("delete: Background propagation by default, options in DeleteOptions; nil when absent; collections", function()
  c:create(cm("d1")); c:create(cm("d2", {labels = {gone = "yes"}})); c:create(cm("d3", {labels = {gone = "yes"}}))
  assert.eq(c:delete("cm", "d1").status, "Success")
  local body = json.parse(last().body)
  assert.eq({last().method, body.kind, body.propagationPolicy}, {"DELETE", "DeleteOptions", "Background"})
  local none, st = c:delete("cm", "d1")
  assert.eq({none, st.code}, {nil, 404})
  c:delete("cm", "d1", {propagation_policy = "Foreground", grace_period = 0})
  body = json.parse(last().body)
  assert.eq({body.propagationPolicy, body.gracePeriodSeconds}, {"Foreground", 0})
  raises(function() c:delete("cm", "d1", {propagation_policy = "Later"}) end, "Background, Foreground or Orphan expected")
  c:delete_collection("cm", {label_selector = {gone = "yes"}})
  assert.eq({last().method, last().path, q(last(), "labelSelector")}, {"DELETE", "/api/v1/namespaces/default/configmaps", "gone=yes"})
  assert.eq(#c:list("cm", {label_selector = "gone=yes"}).items, 0)
end)

test("status and scale subresources", function()
  c:create{apiVersion = "apps/v1", kind = "Deployment", metadata = {name = "s1"},
    spec = {replicas = 1, selector = {matchLabels = {app = "s1"}}}}
  local d = c:get("deploy", "s1")
  d.status = {replicas = 1, readyReplicas = 1}
  assert.eq(c:replace_status(d).status.readyReplicas, 1)
  assert.eq({last().method, last().path}, {"PUT", "/apis/apps/v1/namespaces/default/deployments/s1/status"})
  assert.eq(c:get_status("deploy", "s1").status.readyReplicas, 1)
  c:patch("deploy", "s1", {status = {readyReplicas = 0}}, {subresource = "status"})
  assert.eq(last().path, "/apis/apps/v1/namespaces/default/deployments/s1/status")
  assert.eq(c:get("deploy", "s1").status.readyReplicas, 0)
  local s = c:scale("deployment", "s1", 3)
  assert.eq({s.kind, s.spec.replicas, s.status.selector}, {"Scale", 3, "app=s1"})
  assert.eq({last().method, last().path, last().content_type},
    {"PATCH", "/apis/apps/v1/namespaces/default/deployments/s1/scale", "application/merge-patch+json"})
  assert.eq(c:get("deploy", "s1").spec.replicas, 3)
  assert.eq(c:get_scale("deploy", "s1").spec.replicas, 3)
  raises(function() c:scale("deploy", "s1", -1) end, "bad argument #3 'replicas'")
  assert.eq(c:get_scale("deploy", "none"), nil)
end)

test("dry_run: the server answers as it would, and stores nothing", function()
  local o = c:create(cm("dry1"), {dry_run = true})
  assert.eq(o.metadata.name, "dry1")
  assert.eq(c:get("cm", "dry1"), nil)
  c:create(cm("dry2"))
  assert.eq(c:patch("cm", "dry2", {data = {k = "changed"}}, {dry_run = true}).data.k, "changed")
  assert.eq(c:apply(cm("dry2", {labels = {x = "y"}}), {dry_run = true}).metadata.labels.x, "y")
  assert.eq(c:delete("cm", "dry2", {dry_run = true}).status, "Success")
  assert.eq(json.parse(last().body).dryRun, {"All"})
  local kept = c:get("cm", "dry2")
  assert.eq({kept.data.k, kept.metadata.labels}, {"v", nil})
  -- a dry run still fails as the real one would
  raises(function() c:create(cm("dry2"), {dry_run = true}) end, '409 configmaps "dry2" already exists')
end)

test("request and version: raw calls", function()
  assert.eq(c:version().major, "1")
  assert.eq(c:request("GET", "/api").kind, "APIVersions")
  raises(function() c:request("GET", "/nope") end, "k8s.request: GET /nope: 404")
end)
