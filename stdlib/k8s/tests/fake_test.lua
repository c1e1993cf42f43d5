-- assay.k8s.fake over plain HTTP: discovery, CRUD, selectors, pagination, patches, apply,
-- status, watch, logs, errors as Status objects.
local k8s = require("assay.k8s")
local fake = k8s.fake.start{token = "t0k"}
local c = http.client{base_url = fake.url, headers = {authorization = "Bearer t0k"}, timeout = 10}

local function J(r) return json.parse(r.body) end
local function post(path, obj) return c:post(path, json.encode(obj), {headers = {["content-type"] = "application/json"}}) end
local function put(path, obj) return c:put(path, json.encode(obj), {headers = {["content-type"] = "application/json"}}) end
local function patch(path, body, ct)
  return c:patch(path, type(body) == "string" and body or json.encode(body), {headers = {["content-type"] = ct}})
end
local function status_of(r, code, reason)
  assert.eq(r.status, code, r.body)
  local s = J(r)
  assert.eq(s.kind, "Status"); assert.eq(s.apiVersion, "v1"); assert.eq(s.status, "Failure")
  assert.eq(s.code, code); assert.eq(s.reason, reason)
  assert.eq(type(s.message), "string")
  return s
end
local CM = "/api/v1/namespaces/default/configmaps"

test("k8s exposes fake lazily", function()
  assert.eq(rawget(k8s, "fake") ~= nil, true)
  assert.eq(type(k8s.fake.start), "function")
end)

test("discovery: /api, /api/v1, /apis, /apis/<group>, /apis/<group>/<version>, /version", function()
  local v = J(c:get("/api"))
  assert.eq(v.kind, "APIVersions"); assert.eq(v.versions, {"v1"})
  local core = J(c:get("/api/v1"))
  assert.eq(core.kind, "APIResourceList"); assert.eq(core.groupVersion, "v1")
  local by = {}
  for _, r in ipairs(core.resources) do by[r.name] = r end
  for _, n in ipairs{"namespaces", "pods", "services", "configmaps", "secrets", "serviceaccounts", "events"} do
    assert.not_nil(by[n], n)
    assert.contains(by[n].verbs, "watch")
  end
  assert.eq(by.pods.kind, "Pod"); assert.eq(by.pods.namespaced, true); assert.eq(by.pods.shortNames, {"po"})
  assert.eq(by.namespaces.namespaced, false)
  assert.not_nil(by["pods/status"]); assert.not_nil(by["pods/log"])
  local groups = J(c:get("/apis"))
  assert.eq(groups.kind, "APIGroupList")
  local names = {}
  for _, g in ipairs(groups.groups) do names[g.name] = g.preferredVersion.groupVersion end
  assert.eq(names.apps, "apps/v1"); assert.eq(names.batch, "batch/v1")
  assert.eq(names["apiextensions.k8s.io"], "apiextensions.k8s.io/v1")
  local apps = J(c:get("/apis/apps"))
  assert.eq(apps.kind, "APIGroup"); assert.eq(apps.name, "apps")
  local appsv1 = J(c:get("/apis/apps/v1"))
  local kinds = {}
  for _, r in ipairs(appsv1.resources) do kinds[r.name] = r.kind end
  assert.eq(kinds.deployments, "Deployment"); assert.eq(kinds.statefulsets, "StatefulSet")
  assert.eq(kinds.daemonsets, "DaemonSet")
  local batch = J(c:get("/apis/batch/v1"))
  kinds = {}
  for _, r in ipairs(batch.resources) do kinds[r.name] = r.shortNames or {} end
  assert.eq(kinds.cronjobs, {"cj"}); assert.not_nil(kinds.jobs)
  assert.eq(J(c:get("/version")).major, "1")
  status_of(c:get("/apis/nope.example.com/v1"), 404, "NotFound")
  status_of(c:get("/api/v1/widgets"), 404, "NotFound")
end)

test("auth: a wrong token is 401; require_token refuses a missing one", function()
  status_of(http.get(fake.url .. "/api", {headers = {authorization = "Bearer wrong"}}), 401, "Unauthorized")
  assert.eq(http.get(fake.url .. "/api").status, 200)
  local strict = k8s.fake.start{require_token = true}
  status_of(http.get(strict.url .. "/api"), 401, "Unauthorized")
  assert.eq(http.get(strict.url .. "/api", {headers = {authorization = "Bearer fake-token"}}).status, 200)
  strict:stop()
  assert.raises(function() k8s.fake.start{tokn = "x"} end, "unknown option 'tokn'")
end)

test("create sets uid, resourceVersion, creationTimestamp; 409 AlreadyExists; generateName", function()
  local r = post(CM, {apiVersion = "v1", kind = "ConfigMap", metadata = {name = "one", labels = {app = "a"}}, data = {k = "v"}})
  assert.eq(r.status, 201, r.body)
  local o = J(r)
  assert.matches(o.metadata.uid, "^[0-9a-f]+-[0-9a-f]+-[0-9a-f]+-[0-9a-f]+-[0-9a-f]+$")
  assert.matches(o.metadata.resourceVersion, "^[0-9]+$")
  assert.matches(o.metadata.creationTimestamp, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$")
  assert.eq(o.metadata.namespace, "default"); assert.eq(o.kind, "ConfigMap")
  local s = status_of(post(CM, {metadata = {name = "one"}}), 409, "AlreadyExists")
  assert.eq(s.message, 'configmaps "one" already exists')
  assert.eq(s.details.name, "one"); assert.eq(s.details.kind, "configmaps")
  local g = J(post(CM, {metadata = {generateName = "gen-"}}))
  assert.matches(g.metadata.name, "^gen-[a-z0-9]{5}$")
  status_of(post(CM, {metadata = {}}), 422, "Invalid")
  status_of(post("/api/v1/namespaces/nope/configmaps", {metadata = {name = "x"}}), 404, "NotFound")
  status_of(post(CM, {metadata = {name = "x", namespace = "other"}}), 400, "BadRequest")
  status_of(post(CM, {apiVersion = "apps/v1", kind = "ConfigMap", metadata = {name = "x"}}), 400, "BadRequest")
  status_of(c:post(CM, "{not json", {headers = {["content-type"] = "application/json"}}), 400, "BadRequest")
  assert.eq(fake:object("configmaps", "default", "one").data, {k = "v"})
end)

test("get: the object; 404 is a NotFound Status; cluster-scoped namespaces", function()
  local o = J(c:get(CM .. "/one"))
  assert.eq(o.metadata.name, "one")
  local s = status_of(c:get(CM .. "/missing"), 404, "NotFound")
  assert.eq(s.message, 'configmaps "missing" not found')
  assert.eq(J(c:get("/api/v1/namespaces/default")).kind, "Namespace")
  assert.eq(J(c:get("/api/v1/namespaces/default")).status.phase, "Active")
  local dep = J(post("/apis/apps/v1/namespaces/default/deployments",
    {apiVersion = "apps/v1", kind = "Deployment", metadata = {name = "web"}, spec = {replicas = 1}}))
  assert.eq(dep.metadata.generation, 1)
  assert.eq(J(c:get("/apis/apps/v1/namespaces/default/deployments/web")).spec.replicas, 1)
  status_of(c:get("/apis/apps/v1/namespaces/default/deployments/web/bogus"), 404, "NotFound")
  status_of(c:get("/api/v1/namespaces/default/configmaps/web/scale"), 404, "NotFound")
end)

test("scale subresource: autoscaling/v1 Scale; PATCH and PUT set spec.replicas", function()
  post("/apis/apps/v1/namespaces/default/deployments", {apiVersion = "apps/v1", kind = "Deployment",
    metadata = {name = "sc"}, spec = {replicas = 2, selector = {matchLabels = {app = "sc"}}}})
  local base = "/apis/apps/v1/namespaces/default/deployments/sc/scale"
  local s = J(c:get(base))
  assert.eq({s.kind, s.apiVersion, s.spec.replicas, s.status.selector}, {"Scale", "autoscaling/v1", 2, "app=sc"})
  assert.eq(J(patch(base, {spec = {replicas = 5}}, "application/merge-patch+json")).spec.replicas, 5)
  assert.eq(J(c:get("/apis/apps/v1/namespaces/default/deployments/sc")).spec.replicas, 5)
  s.spec.replicas = 1
  status_of(put(base, s), 409, "Conflict")
  s.metadata.resourceVersion = nil
  assert.eq(J(put(base, s)).spec.replicas, 1)
  status_of(patch(base, {spec = {replicas = -1}}, "application/merge-patch+json"), 422, "Invalid")
end)

test("list: label selectors =, ==, !=, in, notin, exists, !exists; field selectors; all namespaces", function()
  fake:add{apiVersion = "v1", kind = "Namespace", metadata = {name = "sel"}}
  local base = "/api/v1/namespaces/sel/pods"
  for i, l in ipairs{{app = "web", tier = "fe"}, {app = "web", tier = "be"}, {app = "db"}, {}} do
    assert.eq(post(base, {metadata = {name = "p" .. i, labels = l}}).status, 201)
  end
  local function names(q, path)
    local r = c:get(path or base, {query = q})
    assert.eq(r.status, 200, r.body)
    local out = {}
    for _, o in ipairs(J(r).items) do out[#out + 1] = o.metadata.name end
    return out
  end
  assert.eq(J(c:get(base)).kind, "PodList")
  assert.eq(names{labelSelector = "app=web"}, {"p1", "p2"})
  assert.eq(names{labelSelector = "app==web,tier=be"}, {"p2"})
  assert.eq(names{labelSelector = "app!=web"}, {"p3", "p4"})
  assert.eq(names{labelSelector = "app in (db, web),tier notin (fe)"}, {"p2", "p3"})
  assert.eq(names{labelSelector = "tier"}, {"p1", "p2"})
  assert.eq(names{labelSelector = "!app"}, {"p4"})
  assert.eq(names{fieldSelector = "metadata.name=p3"}, {"p3"})
  assert.eq(names{fieldSelector = "metadata.name!=p3,metadata.namespace=sel"}, {"p1", "p2", "p4"})
  assert.eq(names({fieldSelector = "metadata.namespace=sel"}, "/api/v1/pods"), {"p1", "p2", "p3", "p4"})
  status_of(c:get(base, {query = {fieldSelector = "spec.bogus=x"}}), 400, "BadRequest")
  assert.eq(names{fieldSelector = "status.phase=Running,metadata.namespace=sel"}, {})
  status_of(c:get(base, {query = {labelSelector = "a b c"}}), 400, "BadRequest")
  -- the selector the request carried, encoded
  local last = fake.requests[#fake.requests]
  assert.eq(last.query.labelSelector, "a b c")
end)

test("list: limit/continue pagination with remainingItemCount", function()
  local base = "/api/v1/namespaces/sel/pods"
  local seen, token, pages = {}, nil, 0
  repeat
    local l = J(c:get(base, {query = {limit = "3", ["continue"] = token}}))
    pages = pages + 1
    for _, o in ipairs(l.items) do seen[#seen + 1] = o.metadata.name end
    token = l.metadata.continue
    if token then assert.eq(l.metadata.remainingItemCount, 1) end
  until not token or pages > 5
  assert.eq(seen, {"p1", "p2", "p3", "p4"}); assert.eq(pages, 2)
  status_of(c:get(base, {query = {["continue"] = "garbage!"}}), 400, "BadRequest")
end)

test("replace: resourceVersion checked (409 Conflict), generation bumps on spec change", function()
  local o = J(c:get(CM .. "/one"))
  local rv = o.metadata.resourceVersion
  o.data.k = "v2"
  local r = put(CM .. "/one", o)
  assert.eq(r.status, 200, r.body)
  local n = J(r)
  assert.eq(n.data.k, "v2"); assert.ne(n.metadata.resourceVersion, rv); assert.eq(n.metadata.uid, o.metadata.uid)
  local s = status_of(put(CM .. "/one", o), 409, "Conflict")
  assert.matches(s.message, 'Operation cannot be fulfilled on configmaps "one": the object has been modified')
  status_of(put(CM .. "/missing", {metadata = {name = "missing"}}), 404, "NotFound")
  status_of(put(CM .. "/one", {metadata = {name = "other"}}), 400, "BadRequest")
  local d = J(c:get("/apis/apps/v1/namespaces/default/deployments/web"))
  d.spec.replicas = 3
  local d2 = J(put("/apis/apps/v1/namespaces/default/deployments/web", d))
  assert.eq(d2.metadata.generation, 2); assert.eq(d2.spec.replicas, 3)
end)

test("status subresource: PUT/PATCH change only status; main writes keep status", function()
  local path = "/apis/apps/v1/namespaces/default/deployments/web"
  local d = J(c:get(path))
  d.status = {readyReplicas = 3}; d.spec.replicas = 9
  local r = J(put(path .. "/status", d))
  assert.eq(r.status.readyReplicas, 3); assert.eq(r.spec.replicas, 3)
  r = J(patch(path .. "/status", {status = {observedGeneration = 2}}, "application/merge-patch+json"))
  assert.eq(r.status, {readyReplicas = 3, observedGeneration = 2})
  r = J(patch(path, {status = {readyReplicas = 0}, spec = {paused = true}}, "application/merge-patch+json"))
  assert.eq(r.status.readyReplicas, 3); assert.eq(r.spec.paused, true)
  assert.eq(J(c:get(path .. "/status")).kind, "Deployment")
  status_of(c:get(CM .. "/one/status"), 404, "NotFound")
  local s = fake:set_status("deployments", "default", "web", {readyReplicas = 1})
  assert.eq(s.status, {readyReplicas = 1})
end)

test("patch: merge, strategic (lists replaced, $directives dropped), JSON patch, 415 otherwise", function()
  local p = CM .. "/one"
  local o = J(patch(p, {data = {a = "1", k = json.null}, metadata = {labels = {x = "y"}}}, "application/merge-patch+json"))
  assert.eq(o.data, {a = "1"}); assert.eq(o.metadata.labels, {app = "a", x = "y"})
  assert.eq(fake.requests[#fake.requests].content_type, "application/merge-patch+json")
  o = J(patch(p, {data = {b = "2"}, ["$setElementOrder/data"] = {}, metadata = {labels = {x = json.null}}},
    "application/strategic-merge-patch+json"))
  assert.eq(o.data, {a = "1", b = "2"}); assert.eq(o.metadata.labels, {app = "a"}); assert.is_nil(o["$setElementOrder/data"])
  o = J(patch(p, {
    {op = "add", path = "/data/c", value = "3"},
    {op = "replace", path = "/data/a", value = "one"},
    {op = "remove", path = "/data/b"},
    {op = "copy", from = "/data/c", path = "/data/d"},
    {op = "move", from = "/data/d", path = "/data/e"},
    {op = "test", path = "/data/a", value = "one"},
    {op = "add", path = "/metadata/finalizers", value = {"x"}},
    {op = "add", path = "/metadata/finalizers/-", value = "z"},
    {op = "add", path = "/metadata/finalizers/1", value = "y"},
  }, "application/json-patch+json"))
  assert.eq(o.data, {a = "one", c = "3", e = "3"}); assert.eq(o.metadata.finalizers, {"x", "y", "z"})
  o = J(patch(p, {{op = "remove", path = "/metadata/finalizers/0"}}, "application/json-patch+json"))
  assert.eq(o.metadata.finalizers, {"y", "z"})
  -- an empty list in a merge patch replaces the list; an empty object merges nothing
  o = J(patch(p, '{"metadata":{"finalizers":[]},"data":{}}', "application/merge-patch+json"))
  assert.eq(#o.metadata.finalizers, 0); assert.eq(o.data, {a = "one", c = "3", e = "3"})
  o = J(patch(p, {{op = "add", path = "/metadata/finalizers/0", value = "first"}}, "application/json-patch+json"))
  assert.eq(o.metadata.finalizers, {"first"})
  status_of(patch(p, {{op = "test", path = "/data/a", value = "nope"}}, "application/json-patch+json"), 422, "Invalid")
  status_of(patch(p, {{op = "remove", path = "/data/zz"}}, "application/json-patch+json"), 422, "Invalid")
  status_of(patch(p, {data = {}}, "application/json"), 415, "UnsupportedMediaType")
  status_of(patch(CM .. "/missing", {data = {}}, "application/merge-patch+json"), 404, "NotFound")
  status_of(patch(p, {metadata = {resourceVersion = "1"}}, "application/merge-patch+json"), 409, "Conflict")
end)

test("server-side apply: fieldManager required, creates then merges, managedFields", function()
  local p = CM .. "/applied"
  local yaml_body = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\ndata:\n  a: '1'\n"
  local s = status_of(c:patch(p, yaml_body, {headers = {["content-type"] = "application/apply-patch+yaml"}}), 400, "BadRequest")
  assert.matches(s.message, "fieldManager")
  local r = c:patch(p, yaml_body, {query = {fieldManager = "me"}, headers = {["content-type"] = "application/apply-patch+yaml"}})
  assert.eq(r.status, 201, r.body)
  assert.eq(J(r).metadata.managedFields[1].manager, "me")
  r = c:patch(p, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: applied}\ndata: {b: '2'}\n",
    {query = {fieldManager = "other", force = "true"}, headers = {["content-type"] = "application/apply-patch+yaml"}})
  assert.eq(r.status, 200, r.body)
  local o = J(r)
  assert.eq(o.data, {a = "1", b = "2"}); assert.eq(#o.metadata.managedFields, 2)
end)

test("CRDs created at run time appear in discovery and serve their resources; deleting drops them", function()
  local crd = {apiVersion = "apiextensions.k8s.io/v1", kind = "CustomResourceDefinition",
    metadata = {name = "widgets.example.com"},
    spec = {group = "example.com", scope = "Namespaced",
      names = {plural = "widgets", singular = "widget", kind = "Widget", shortNames = {"wg"}},
      versions = {{name = "v1", served = true, storage = true, subresources = {status = json.object({})},
        schema = {openAPIV3Schema = {type = "object", ["x-kubernetes-preserve-unknown-fields"] = true}}}}}}
  local r = post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)
  assert.eq(r.status, 201, r.body)
  local est = false
  for _, cond in ipairs(J(r).status.conditions) do est = est or (cond.type == "Established" and cond.status == "True") end
  assert.eq(est, true)
  local res = J(c:get("/apis/example.com/v1")).resources
  assert.eq(res[1].name, "widgets"); assert.eq(res[1].kind, "Widget"); assert.eq(res[1].shortNames, {"wg"})
  local w = post("/apis/example.com/v1/namespaces/default/widgets", {apiVersion = "example.com/v1", kind = "Widget",
    metadata = {name = "w1"}, spec = {size = 2}})
  assert.eq(w.status, 201, w.body)
  assert.eq(J(patch("/apis/example.com/v1/namespaces/default/widgets/w1/status", {status = {ok = true}},
    "application/merge-patch+json")).status.ok, true)
  assert.eq(#J(c:get("/apis/example.com/v1/widgets")).items, 1)
  local bad = status_of(post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
    {metadata = {name = "x"}, spec = {group = "example.com", names = {plural = "ys", kind = "Y"}, versions = {{name = "v1"}}}}),
    422, "Invalid")
  assert.matches(bad.message, "metadata.name")
  assert.eq(c:delete("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com").status, 200)
  status_of(c:get("/apis/example.com/v1"), 404, "NotFound")
  status_of(c:get("/apis/example.com/v1/namespaces/default/widgets/w1"), 404, "NotFound")
end)

test("delete: a Success Status (pods: the object); 404 again; deletecollection by selector", function()
  local r = c:delete(CM .. "/applied")
  assert.eq(r.status, 200)
  local s = J(r)
  assert.eq(s.kind, "Status"); assert.eq(s.status, "Success"); assert.eq(s.details.name, "applied")
  status_of(c:delete(CM .. "/applied"), 404, "NotFound")
  local p = J(c:delete("/api/v1/namespaces/sel/pods/p4"))
  assert.eq(p.kind, "Pod"); assert.eq(p.metadata.name, "p4")
  local gone = J(c:delete("/api/v1/namespaces/sel/pods", {query = {labelSelector = "app=web"}}))
  assert.eq(gone.kind, "PodList"); assert.eq(#gone.items, 2)
  assert.eq(#fake:objects("pods", "sel"), 1)
  -- deleting a namespace deletes what is in it
  assert.eq(c:delete("/api/v1/namespaces/sel").status, 200)
  assert.eq(#fake:objects("pods", "sel"), 0)
  status_of(c:request("POST", CM .. "/one", {body = "{}"}), 405, "MethodNotAllowed")
end)

test("watch: ADDED/MODIFIED/DELETED from a resourceVersion, BOOKMARK, 410 Expired when too old", function()
  local start = J(c:get(CM)).metadata.resourceVersion
  local t = async.spawn(function()
    return c:get(CM, {query = {watch = "1", resourceVersion = start, allowWatchBookmarks = "true", timeoutSeconds = "2"}})
  end)
  sleep(0.1)
  post(CM, {metadata = {name = "w"}, data = {x = "1"}})
  patch(CM .. "/w", {data = {x = "2"}}, "application/merge-patch+json")
  c:delete(CM .. "/w")
  local r = t:await()
  assert.eq(r.status, 200)
  local types, last = {}, nil
  for line in r.body:gmatch("[^\n]+") do
    local ev = json.parse(line)
    types[#types + 1] = ev.type
    last = ev
    if ev.type ~= "BOOKMARK" then assert.eq(ev.object.metadata.name, "w") end
  end
  -- the watch streams until timeoutSeconds: all of them, then the bookmark
  assert.eq(types[1], "ADDED"); assert.eq(last.type, "BOOKMARK")
  assert.matches(last.object.metadata.resourceVersion, "^[0-9]+$")
  -- resume from where it stopped: the rest arrives
  local all = {}
  for _, ty in ipairs(types) do if ty ~= "BOOKMARK" then all[#all + 1] = ty end end
  local rv = last.object.metadata.resourceVersion
  while #all < 3 do
    local more = c:get(CM, {query = {watch = "true", resourceVersion = rv, allowWatchBookmarks = "true", timeoutSeconds = "1"}})
    for line in more.body:gmatch("[^\n]+") do
      local ev = json.parse(line)
      if ev.type == "BOOKMARK" then rv = ev.object.metadata.resourceVersion else all[#all + 1] = ev.type end
    end
  end
  assert.eq(all, {"ADDED", "MODIFIED", "DELETED"})
  -- no resourceVersion: the current objects as ADDED first
  local init = c:get(CM, {query = {watch = "1", timeoutSeconds = "1"}})
  assert.matches(init.body, '"type":"ADDED"')
  -- a watch with a label selector sees only its objects; a quiet one ends empty after timeoutSeconds
  local quiet = c:get(CM, {query = {watch = "1", resourceVersion = tostring(fake.rv), labelSelector = "none=1", timeoutSeconds = "1"}})
  assert.eq(quiet.body, "")
  fake:compact()
  local old = c:get(CM, {query = {watch = "1", resourceVersion = start}})
  assert.eq(old.status, 200)
  local ev = json.parse(old.body:match("[^\n]+"))
  assert.eq(ev.type, "ERROR"); assert.eq(ev.object.code, 410); assert.eq(ev.object.reason, "Expired")
end)

test("watch and followed logs are streamed: each event or line arrives while the body is open", function()
  local auth = {authorization = "Bearer t0k"}
  local w <close> = http.get(fake.url .. CM .. "?watch=1&timeoutSeconds=2&resourceVersion=" .. fake.rv,
    {stream = true, headers = auth})
  assert.eq(w.status, 200)
  local started = time.monotonic()
  post(CM, {metadata = {name = "streamed"}})
  local ev = json.parse(w:read_line())
  assert.eq(ev.type, "ADDED"); assert.eq(ev.object.metadata.name, "streamed")
  assert.lt(time.monotonic() - started, 1, "seconds before the event arrived")
  c:delete(CM .. "/streamed")
  assert.eq(json.parse(w:read_line()).type, "DELETED")
  assert.eq(w:read_line(), nil, "the watch ends at timeoutSeconds")
  post("/api/v1/namespaces/default/pods", {metadata = {name = "follower"}, spec = {containers = {{name = "main", image = "x"}}}})
  fake:log("default", "follower", "a")
  local l <close> = http.get(fake.url .. "/api/v1/namespaces/default/pods/follower/log?follow=true",
    {stream = true, headers = auth})
  assert.eq(l:read_line(), "a")
  fake:log("default", "follower", "b")
  assert.eq(l:read_line(), "b")
  fake:log("default", "follower", "c", {done = true})
  assert.eq(l:read_line(), "c")
  assert.eq(l:read_line(), nil)
end)

test("a continue token older than the watch history is 410 Expired", function()
  post(CM, {metadata = {name = "pg1"}}); post(CM, {metadata = {name = "pg2"}})
  local l = J(c:get(CM, {query = {limit = "1"}}))
  assert.not_nil(l.metadata.continue)
  post(CM, {metadata = {name = "pg3"}})
  fake:compact()
  status_of(c:get(CM, {query = {limit = "1", ["continue"] = l.metadata.continue}}), 410, "Expired")
  status_of(c:get(CM, {query = {resourceVersion = l.metadata.resourceVersion, resourceVersionMatch = "Exact"}}),
    410, "Expired")
end)

test("pod logs: fed by the test, tailLines, container, follow waits for done", function()
  post("/api/v1/namespaces/default/pods", {metadata = {name = "logger"}, spec = {containers = {{name = "main", image = "x"}}}})
  fake:log("default", "logger", "one\ntwo\nthree")
  local r = c:get("/api/v1/namespaces/default/pods/logger/log")
  assert.eq(r.status, 200); assert.eq(r.body, "one\ntwo\nthree\n")
  assert.eq(r.headers["content-type"], "text/plain")
  assert.eq(c:get("/api/v1/namespaces/default/pods/logger/log", {query = {tailLines = "1"}}).body, "three\n")
  fake:log("default", "logger", "side", {container = "sidecar"})
  assert.eq(c:get("/api/v1/namespaces/default/pods/logger/log", {query = {container = "sidecar"}}).body, "side\n")
  local t = async.spawn(function()
    return c:get("/api/v1/namespaces/default/pods/logger/log", {query = {follow = "true"}})
  end)
  sleep(0.1)
  fake:log("default", "logger", "four", {done = true})
  assert.eq(t:await().body, "one\ntwo\nthree\nfour\n")
  status_of(c:get("/api/v1/namespaces/default/pods/nope/log"), 404, "NotFound")
end)

test("requests are recorded with method, path, query, headers, body", function()
  fake:clear_requests()
  patch(CM .. "/one", {data = {q = "1"}}, "application/merge-patch+json")
  local r = fake.requests[1]
  assert.eq(r.method, "PATCH"); assert.eq(r.path, CM .. "/one")
  assert.eq(r.headers.authorization, "Bearer t0k"); assert.eq(json.parse(r.body), {data = {q = "1"}})
end)

test("unit: label_selector, merge patch and JSON patch helpers", function()
  local f = k8s.fake
  assert.eq(f.label_selector("a in (1,2),!b")({a = "2"}), true)
  assert.eq(f.label_selector("a in (1,2),!b")({a = "2", b = "x"}), false)
  assert.eq(f.label_selector("")({}), true)
  assert.eq(f._merge_patch({a = {b = 1, c = 2}}, {a = {b = json.null}, d = {1}}), {a = {c = 2}, d = {1}})
  assert.eq(f._json_patch({a = {"x"}}, {{op = "add", path = "/a/0", value = "w"}}), {a = {"w", "x"}})
end)

test("rollout: sets the status kubectl reads, at once or after a delay; statefulsets, daemonsets", function()
  local base = "/apis/apps/v1/namespaces/default/"
  post(base .. "deployments", {metadata = {name = "ro"}, spec = {replicas = 3}})
  local o = fake:rollout("deployments", "default", "ro")
  assert.eq(o.status.readyReplicas, 3); assert.eq(o.status.observedGeneration, 1)
  assert.eq(o.status.conditions[2].reason, "NewReplicaSetAvailable")
  o = fake:rollout("deploy", "default", "ro", {fail = true})
  assert.eq(o.status.conditions[2].reason, "ProgressDeadlineExceeded")
  post(base .. "statefulsets", {metadata = {name = "db"}, spec = {replicas = 2}})
  local t = fake:rollout("statefulsets", "default", "db", {delay = 0.2})
  assert.is_nil(J(c:get(base .. "statefulsets/db")).status)
  assert.eq(t:await().status.readyReplicas, 2)
  post(base .. "daemonsets", {metadata = {name = "agent"}, spec = {}})
  assert.eq(fake:rollout("ds", "default", "agent", {ready = 4}).status.numberReady, 4)
  assert.raises(function() fake:rollout("configmaps", "default", "one") end, "not a workload")
  assert.raises(function() fake:rollout("deployments", "default", "ro", {dely = 1}) end, "unknown option 'dely'")
end)

test("namespace status subresource and cluster-wide paths", function()
  local r = patch("/api/v1/namespaces/default/status", {status = {phase = "Active", conditions = {}}},
    "application/merge-patch+json")
  assert.eq(r.status, 200, r.body)
  assert.eq(J(c:get("/api/v1/namespaces/default/status")).status.phase, "Active")
  assert.eq(J(c:get("/api/v1/namespaces")).kind, "NamespaceList")
  assert.eq(c:get("/apis/apps/v1/deployments").status, 200)
  status_of(c:get("/api/v1/namespaces/default/namespaces/x"), 404, "NotFound")
end)

test("stop", function() fake:stop() end)
