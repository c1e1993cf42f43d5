-- assay.apiclient.crd: the shared rules of the packages on assay.k8s (no server needed).
local crd = require("assay.apiclient.crd")

local function err_of(f, ...)
  local ok, e = pcall(f, ...)
  assert.eq(ok, false)
  return e
end

test("fail: a k8s error keeps its text after the package's prefix; others get the prefix", function()
  assert.eq(err_of(crd.fail, "velero", "backup", "k8s.create: POST /apis/velero.io/v1/namespaces/velero/backups: 409 exists"),
    "velero.backup: POST /apis/velero.io/v1/namespaces/velero/backups: 409 exists")
  assert.eq(err_of(crd.fail, "eso", "sync", "/x/k8s/init.lua:12: k8s.patch: bad argument #3 'patch' (table or string expected, got nil)"):match("eso%.sync: bad argument #3 'patch' %(table or string expected, got nil%)$") ~= nil, true)
  assert.eq(err_of(crd.fail, "eso", "sync", "connection refused"), "eso.sync: connection refused")
  assert.eq(err_of(crd.fail, "eso", "sync", "eso.sync: already ours"), "eso.sync: already ours")
  assert.eq(err_of(crd.call, "eso", "secret", function() error("k8s.get: GET /api/v1/x: 403 forbidden", 0) end),
    "eso.secret: GET /api/v1/x: 403 forbidden")
  assert.eq({crd.call("eso", "secret", function(a, b) return a, nil, b end, 1, 2)}, {1, nil, 2})
end)

test("conditions: read, shown, all required", function()
  local o = {status = {conditions = {{type = "Synced", status = "True"},
    {type = "Ready", status = "False", reason = "Creating", message = "Unready resources: db"}}}}
  assert.eq(crd.condition(o, "Ready").reason, "Creating")
  assert.eq(crd.condition({}, "Ready"), nil)
  assert.eq(crd.condition_text(crd.condition(o, "Ready"), "Ready"), "Ready=False (Creating: Unready resources: db)")
  assert.eq(crd.condition_text(nil, "Offered"), "no Offered condition yet")
  local done, why = crd.all_true{"Synced", "Ready", "Healthy"}(o)
  assert.eq({done, why}, {false, "Ready=False (Creating: Unready resources: db); no Healthy condition yet"})
  assert.eq({crd.all_true{"Synced"}(o)}, {true, "Synced=True"})
  assert.eq(crd.label("backup", "velero", "b1"), "backup velero/b1")
  assert.eq(crd.label("provider", nil, "p"), "provider p")
end)

test("check_fields: lists of strings and Go durations (seconds converted)", function()
  local out = crd.check_fields("x", "f", 2, {ttl = 90061, d = "1h30m", l = {"a"}}, {ttl = "duration", d = "duration", l = "strings"})
  assert.eq({out.ttl, out.d, out.l}, {"25h1m1s", "1h30m", {"a"}})
  assert.matches(err_of(crd.check_fields, "x", "f", 2, {l = {"a", 1}}, {l = "strings"}), "field 'l': a list of strings expected")
  assert.matches(err_of(crd.check_fields, "x", "f", 2, {d = "soon"}, {d = "duration"}), "field 'd': a duration")
  assert.matches(err_of(crd.check_fields, "x", "f", 2, {b = "yes"}, {b = "boolean"}), "field 'b': boolean expected, got 'yes'")
end)

test("client: k8s reused or made, never both; the namespace rule", function()
  local made
  local fake_k8s = {client = function(o) made = o; return {namespace = "ctx-ns", get = print, resource = print} end}
  local c = crd.client("p", fake_k8s, {server = "http://127.0.0.1:1", token = "t"})
  assert.eq({made.server, made.token, c.namespace}, {"http://127.0.0.1:1", "t", "ctx-ns"})
  assert.eq(crd.client("p", fake_k8s, {namespace = "n"}).namespace, "n")
  assert.eq(crd.client("p", fake_k8s, nil, {namespace = "velero"}).namespace, "velero")
  local kc = {namespace = "k", get = print, resource = print}
  assert.eq(crd.client("p", fake_k8s, {k8s = kc}).k8s, kc)
  assert.matches(err_of(crd.client, "p", fake_k8s, {k8s = kc, context = "x"}), "option 'context' cannot be given with 'k8s'")
  assert.matches(err_of(crd.client, "p", fake_k8s, {k8s = {}}), "field 'k8s': an assay.k8s client expected, got table")
  assert.matches(err_of(crd.client, "p", fake_k8s, {nope = 1}), "unknown option 'nope'")
  local failing = {client = function() error("k8s.client: no kubeconfig found", 0) end}
  assert.eq(err_of(crd.client, "p", failing, {}), "p.client: no kubeconfig found")
end)
