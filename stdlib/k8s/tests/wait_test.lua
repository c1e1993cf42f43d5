-- assay.k8s wait helpers against assay.k8s.fake: kubectl's rollout rules, Jobs, Pods, PVCs,
-- conditions, predicates, restarts, deletions; true and timeout paths.
local k8s = require("assay.k8s")
local fake = k8s.fake.start{token = "t0k"}
local c = k8s.client{server = fake.url, token = "t0k", timeout = 10}
local FAST = {timeout = 3, interval = 0.02}
local SHORT = {timeout = 0.2, interval = 0.02}

local function with(t, extra)
  local out = {}
  for k, v in pairs(t) do out[k] = v end
  for k, v in pairs(extra or {}) do out[k] = v end
  return out
end
local function deployment(name, replicas)
  return c:create{apiVersion = "apps/v1", kind = "Deployment", metadata = {name = name},
    spec = {replicas = replicas, selector = {matchLabels = {app = name}}}}
end

test("deployment: ready once the rollout completes (after a delay)", function()
  deployment("web", 3)
  fake:rollout("deployments", "default", "web", {delay = 0.2})
  local d = c:wait_ready("deployment", "web", FAST)
  assert.eq(d.status.availableReplicas, 3)
  assert.eq(c:rollout_status("deploy", "web", FAST).metadata.name, "web")
end)

test("deployment: each of kubectl's rollout rules holds the wait, with its message", function()
  deployment("rules", 3)
  local function status_is(st, want)
    local d = c:get("deploy", "rules")
    d.status = st
    c:replace_status(d)
    assert.raises(function() c:wait_ready("deploy", "rules", SHORT) end, want)
  end
  -- generation not observed yet
  status_is({observedGeneration = 0}, "deployment default/rules not ready after 0.2s: waiting for the deployment spec update to be observed")
  status_is({observedGeneration = 1, replicas = 3, updatedReplicas = 1, availableReplicas = 3},
    "1 out of 3 new replicas have been updated")
  status_is({observedGeneration = 1, replicas = 4, updatedReplicas = 3, availableReplicas = 3},
    "1 old replicas are pending termination")
  status_is({observedGeneration = 1, replicas = 3, updatedReplicas = 3, availableReplicas = 2},
    "2 of 3 updated replicas are available")
  -- and a spec change makes the old status stale again
  local d = c:get("deploy", "rules")
  d.status = {observedGeneration = 1, replicas = 3, updatedReplicas = 3, availableReplicas = 3}
  c:replace_status(d)
  assert.eq(c:wait_ready("deploy", "rules", SHORT).metadata.name, "rules")
  c:patch("deploy", "rules", {spec = {template = {metadata = {labels = {v = "2"}}}}})
  assert.raises(function() c:wait_ready("deploy", "rules", SHORT) end, "spec update to be observed")
end)

test("deployment: ProgressDeadlineExceeded fails at once", function()
  deployment("stuck", 2)
  fake:rollout("deployments", "default", "stuck", {delay = 0.1, fail = true})
  local t0 = time.monotonic()
  assert.raises(function() c:wait_ready("deploy", "stuck", {timeout = 30, interval = 0.02}) end,
    'k8s.wait_ready: deployment default/stuck: deployment "stuck" exceeded its progress deadline')
  assert.lt(time.monotonic() - t0, 5)
end)

test("statefulset and daemonset: their rules; OnDelete refused", function()
  c:create{apiVersion = "apps/v1", kind = "StatefulSet", metadata = {name = "db"}, spec = {replicas = 2}}
  assert.raises(function() c:wait_ready("sts", "db", SHORT) end, "statefulset default/db not ready after 0.2s: waiting for the statefulset spec update")
  fake:rollout("statefulsets", "default", "db", {ready = 1})
  assert.raises(function() c:wait_ready("sts", "db", SHORT) end, "1 of 2 pods are ready")
  fake:rollout("statefulsets", "default", "db")
  assert.eq(c:wait_ready("statefulset", "db", FAST).status.readyReplicas, 2)
  local s = c:get("sts", "db")
  s.status.updateRevision = "db-2"
  c:replace_status(s)
  assert.raises(function() c:wait_ready("sts", "db", SHORT) end, "pods at revision db-2")
  c:create{apiVersion = "apps/v1", kind = "StatefulSet", metadata = {name = "od"},
    spec = {replicas = 1, updateStrategy = {type = "OnDelete"}}}
  assert.raises(function() c:wait_ready("sts", "od", {timeout = 30}) end, "only available for the RollingUpdate strategy")
  c:create{apiVersion = "apps/v1", kind = "DaemonSet", metadata = {name = "agent"}, spec = {}}
  fake:rollout("daemonsets", "default", "agent", {ready = 3})
  local ds = c:get("ds", "agent")
  ds.status.numberAvailable = 2
  c:replace_status(ds)
  assert.raises(function() c:wait_ready("ds", "agent", SHORT) end, "2 of 3 updated pods are available")
  fake:rollout("daemonsets", "default", "agent", {ready = 3})
  assert.eq(c:wait_ready("daemonset", "agent", FAST).status.numberAvailable, 3)
end)

test("job: Complete, or Failed at once with its reason", function()
  c:create{apiVersion = "batch/v1", kind = "Job", metadata = {name = "ok"}, spec = {}}
  async.spawn(function()
    sleep(0.1)
    fake:set_status("jobs", "default", "ok", {succeeded = 1, conditions = {{type = "Complete", status = "True"}}})
  end)
  assert.eq(c:wait_ready("job", "ok", FAST).status.succeeded, 1)
  c:create{apiVersion = "batch/v1", kind = "Job", metadata = {name = "bad"}, spec = {}}
  assert.raises(function() c:wait_ready("job", "bad", SHORT) end, "job default/bad not ready after 0.2s: 0 active, 0 succeeded, 0 failed")
  fake:set_status("jobs", "default", "bad", {failed = 3, conditions = {{type = "Failed", status = "True",
    reason = "BackoffLimitExceeded", message = "Job has reached the specified backoff limit"}}})
  assert.raises(function() c:wait_ready("job", "bad", {timeout = 30}) end,
    "job default/bad: job failed: BackoffLimitExceeded: Job has reached the specified backoff limit")
end)

test("pod and pvc", function()
  c:create{apiVersion = "v1", kind = "Pod", metadata = {name = "p"}, spec = {containers = {{name = "c", image = "i"}}}}
  fake:set_status("pods", "default", "p", {phase = "Running", conditions = {{type = "Ready", status = "False", message = "containers not ready"}}})
  assert.raises(function() c:wait_ready("pod", "p", SHORT) end, "pod default/p not ready after 0.2s: phase Running, containers not ready")
  fake:set_status("pods", "default", "p", {phase = "Running", conditions = {{type = "Ready", status = "True"}}})
  assert.eq(c:wait_ready("po", "p", FAST).status.phase, "Running")
  fake:set_status("pods", "default", "p", {phase = "Failed", reason = "Evicted"})
  assert.raises(function() c:wait_ready("po", "p", {timeout = 30}) end, "pod failed: Evicted")
  c:create{apiVersion = "v1", kind = "PersistentVolumeClaim", metadata = {name = "data"}, spec = {}}
  assert.raises(function() c:wait_ready("pvc", "data", SHORT) end, "phase Pending")
  fake:set_status("pvc", "default", "data", {phase = "Bound"})
  assert.eq(c:wait_ready("pvc", "data", FAST).status.phase, "Bound")
end)

test("any object: Ready by default, a condition, a predicate; missing objects are waited for", function()
  fake:add{apiVersion = "apiextensions.k8s.io/v1", kind = "CustomResourceDefinition", metadata = {name = "dbs.example.com"},
    spec = {group = "example.com", scope = "Namespaced", names = {plural = "dbs", kind = "DB"},
      versions = {{name = "v1", served = true, storage = true, subresources = {status = {}}}}}}
  assert.raises(function() c:wait_ready("dbs", "main", SHORT) end, "db default/main not ready after 0.2s: not found")
  async.spawn(function()
    sleep(0.05)
    c:create{apiVersion = "example.com/v1", kind = "DB", metadata = {name = "main"}}
    sleep(0.05)
    fake:set_status("dbs", "default", "main", {conditions = {{type = "Ready", status = "True"}}})
  end)
  assert.eq(c:wait_ready("dbs", "main", FAST).metadata.name, "main")
  assert.raises(function() c:wait_ready("dbs", "main", with(SHORT, {condition = "Synced"})) end, "no Synced condition yet")
  fake:set_status("dbs", "default", "main", {conditions = {{type = "Synced", status = "False", reason = "ReconcileError", message = "boom"}}})
  assert.raises(function() c:wait_ready("dbs", "main", with(SHORT, {condition = "Synced"})) end,
    "condition Synced is False \\(ReconcileError: boom\\)")
  assert.eq(c:wait_ready("dbs", "main", with(FAST, {condition = "Synced=False"})).metadata.name, "main")
  local n = 0
  local got = c:wait_for("dbs", "main", with(FAST, {predicate = function() n = n + 1; return n >= 3, "n is " .. n end}))
  assert.eq({got.metadata.name, n}, {"main", 3})
  assert.raises(function() c:wait_for("dbs", "main", with(SHORT, {predicate = function() return false, "still no" end})) end,
    "k8s.wait_for: db default/main not ready after 0.2s: still no")
  assert.raises(function() c:wait_for("dbs", "main", SHORT) end, "a condition or a predicate is required")
  -- a predicate's third value says it never will be: the wait ends at once with its text
  local t0 = time.monotonic()
  assert.raises(function()
    c:wait_for("dbs", "main", {timeout = 30, predicate = function() return false, "gave up: quota exceeded", true end})
  end, "^k8s.wait_for: db default/main: gave up: quota exceeded$")
  assert.lt(time.monotonic() - t0, 5)
  assert.raises(function() c:wait_ready("dbs", "main", {timeout = -1}) end, "opts.timeout")
end)

test("rollout_restart sets restartedAt; rollout_status refuses what does not roll out", function()
  deployment("r", 1)
  local d = c:rollout_restart("deploy", "r")
  local at = d.spec.template.metadata.annotations["kubectl.kubernetes.io/restartedAt"]
  assert.matches(at, "^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$")
  assert.eq(d.metadata.generation, 2)
  assert.raises(function() c:rollout_restart("cm", "x") end, "a deployment, statefulset or daemonset expected, got configmaps")
  assert.raises(function() c:rollout_status("job", "x") end, "a deployment, statefulset or daemonset expected, got jobs")
end)

test("wait_deleted: true once gone; the timeout names what remains", function()
  c:create{apiVersion = "v1", kind = "ConfigMap", metadata = {name = "bye"}}
  assert.raises(function() c:wait_deleted("cm", "bye", SHORT) end, "configmap default/bye still exists after 0.2s: not being deleted")
  async.spawn(function() sleep(0.05); c:delete("cm", "bye") end)
  assert.eq(c:wait_deleted("cm", "bye", FAST), true)
end)

test("stop", function() fake:stop() end)
