--- assay.k8s.wait: waiting for objects. Loaded by assay.k8s on first use of `wait_ready`,
--- `wait_for`, `wait_deleted`, `rollout_status` or `rollout_restart`.
---
--- Readiness by kind, as kubectl reads it:
--- - Deployment, StatefulSet, DaemonSet: `kubectl rollout status`'s rules
---   (kubectl/pkg/polymorphichelpers/rollout_status.go): the controller has observed the
---   latest generation, then every replica is updated, old ones are gone and the updated ones
---   are available (StatefulSets: ready, at the update revision or past the partition;
---   DaemonSets: updated and available on every node). A Deployment whose Progressing condition
---   says ProgressDeadlineExceeded has failed: the wait raises at once. StatefulSets and
---   DaemonSets with the OnDelete strategy cannot be waited on (as kubectl refuses).
--- - Job: condition Complete=True; Failed=True raises at once with its reason.
--- - Pod: condition Ready=True, or phase Succeeded; phase Failed raises at once.
--- - PersistentVolumeClaim: phase Bound.
--- - anything else: condition Ready=True (custom resources), or the `condition` or `predicate`
---   given.

local k8s = require("assay.k8s")
local Client = k8s._Client
local api = require("assay.apiclient")
api.own_source()
local raise = api.raise

local function cond(obj, ctype)
  for _, c in ipairs((obj.status or {}).conditions or {}) do
    if c.type == ctype then return c end
  end
  return nil
end

-- Each rule: obj -> done (bool), what it waits for / why done (string), failed (bool).

local function deployment(o)
  local spec, st = o.spec or {}, o.status or {}
  local gen, observed = o.metadata.generation or 0, st.observedGeneration or 0
  if gen > observed then return false, "waiting for the deployment spec update to be observed" end
  local p = cond(o, "Progressing")
  if p and p.reason == "ProgressDeadlineExceeded" then
    return false, ('deployment "%s" exceeded its progress deadline'):format(o.metadata.name), true
  end
  local want, updated = spec.replicas or 1, st.updatedReplicas or 0
  local replicas, available = st.replicas or 0, st.availableReplicas or 0
  if updated < want then
    return false, ("%d out of %d new replicas have been updated"):format(updated, want)
  end
  if replicas > updated then
    return false, ("%d old replicas are pending termination"):format(replicas - updated)
  end
  if available < updated then
    return false, ("%d of %d updated replicas are available"):format(available, updated)
  end
  return true, ("successfully rolled out (%d/%d replicas available)"):format(available, want)
end

-- StatefulSets and DaemonSets: kubectl waits only on RollingUpdate; nil when it can wait
local function rolling_only(strategy)
  if strategy.type ~= nil and strategy.type ~= "RollingUpdate" then
    return "rollout status is only available for the RollingUpdate strategy type"
  end
  return nil
end

local function statefulset(o)
  local spec, st = o.spec or {}, o.status or {}
  local strategy = spec.updateStrategy or {}
  local refused = rolling_only(strategy)
  if refused then return false, refused, true end
  local gen, observed = o.metadata.generation or 0, st.observedGeneration or 0
  if observed == 0 or gen > observed then return false, "waiting for the statefulset spec update to be observed" end
  local want, ready = spec.replicas or 1, st.readyReplicas or 0
  if ready < want then return false, ("%d of %d pods are ready"):format(ready, want) end
  local partition = strategy.rollingUpdate and strategy.rollingUpdate.partition
  if partition and partition > 0 then
    local updated = st.updatedReplicas or 0
    if updated < want - partition then
      return false, ("%d of %d updated pods are ready (partition %d)"):format(updated, want - partition, partition)
    end
    return true, ("partitioned roll out complete: %d new pods have been updated"):format(updated)
  end
  if st.updateRevision ~= st.currentRevision then
    return false, ("%d pods at revision %s, waiting for the rest"):format(st.updatedReplicas or 0, tostring(st.updateRevision))
  end
  return true, ("rolling update complete: %d pods at revision %s"):format(ready, tostring(st.currentRevision))
end

local function daemonset(o)
  local spec, st = o.spec or {}, o.status or {}
  local refused = rolling_only(spec.updateStrategy or {})
  if refused then return false, refused, true end
  local gen, observed = o.metadata.generation or 0, st.observedGeneration or 0
  if gen > observed then return false, "waiting for the daemon set spec update to be observed" end
  local desired = st.desiredNumberScheduled or 0
  if (st.updatedNumberScheduled or 0) < desired then
    return false, ("%d out of %d new pods have been updated"):format(st.updatedNumberScheduled or 0, desired)
  end
  if (st.numberAvailable or 0) < desired then
    return false, ("%d of %d updated pods are available"):format(st.numberAvailable or 0, desired)
  end
  return true, ("successfully rolled out (%d pods)"):format(desired)
end

local function job(o)
  local f = cond(o, "Failed")
  if f and f.status == "True" then
    return false, ("job failed: %s%s"):format(f.reason or "Failed", f.message and (": " .. f.message) or ""), true
  end
  local c = cond(o, "Complete")
  if c and c.status == "True" then return true, "complete" end
  local st = o.status or {}
  return false, ("%d active, %d succeeded, %d failed"):format(st.active or 0, st.succeeded or 0, st.failed or 0)
end

local function pod(o)
  local phase = (o.status or {}).phase
  if phase == "Failed" then
    return false, ("pod failed%s"):format((o.status.reason and (": " .. o.status.reason)) or ""), true
  end
  if phase == "Succeeded" then return true, "succeeded" end
  local r = cond(o, "Ready")
  if r and r.status == "True" then return true, "ready" end
  return false, ("phase %s%s"):format(tostring(phase or "Pending"),
    r and r.message and (", " .. r.message) or "")
end

local function pvc(o)
  local phase = (o.status or {}).phase
  if phase == "Bound" then return true, "bound" end
  return false, "phase " .. tostring(phase or "Pending")
end

local RULES = {
  ["apps/Deployment"] = deployment, ["apps/StatefulSet"] = statefulset, ["apps/DaemonSet"] = daemonset,
  ["batch/Job"] = job, ["/Pod"] = pod, ["/PersistentVolumeClaim"] = pvc,
}

-- "Ready", "Ready=True", "Ready=False", "Synced": a condition test
local function condition_rule(spec)
  local ctype, want = spec:match("^([^=]+)=(.+)$")
  if not ctype then ctype, want = spec, "True" end
  return function(o)
    local c = cond(o, ctype)
    if c and c.status == want then return true, ("condition %s=%s"):format(ctype, want) end
    if c then
      return false, ("condition %s is %s%s"):format(ctype, tostring(c.status),
        (c.reason or c.message) and (" (" .. table.concat({c.reason, c.message}, ": ") .. ")") or "")
    end
    return false, ("no %s condition yet"):format(ctype)
  end
end

local function label(r, ns, name)
  return ("%s %s%s"):format(r.singular, ns and (ns .. "/") or "", name)
end

local WAIT_OPTIONS = {"namespace", "timeout", "interval", "condition", "predicate"}

-- Polls the object until rule says done; raises on failure or at the timeout with the last
-- state. Returns the object.
function Client:_wait(fname, resource, name, opts, rule)
  local r = self:resource(resource, fname, 1)
  api.check_name("k8s", fname, 2, "name", name)
  local timeout, interval = api.wait_times("k8s", fname, 3, opts)
  local ns = self:_ns(r, opts)
  local ok, result = api.poll{timeout = timeout, interval = interval, try = function()
    local o = self:get(r, name, {namespace = ns})
    if o == nil then return false, "not found" end
    local done, why, failed = rule(o)
    if failed then
      error(("k8s.%s: %s: %s"):format(fname, label(r, ns, name), why), 0)
    end
    if done then return true, o end
    return false, why
  end}
  if ok then return result end
  error(("k8s.%s: %s not ready after %ss: %s"):format(fname, label(r, ns, name), tostring(timeout), tostring(result)), 0)
end

---@class k8s.WaitOptions
---@field namespace? string
---@field timeout? number seconds (default 60)
---@field interval? number seconds between reads (default 1)
---@field condition? string a condition that must hold: "Ready", "Available", "Synced=True", "Ready=False"
---@field predicate? fun(obj: table): boolean, string?, boolean? done?, what it waits for (shown at the timeout), and true when it never will be (the wait raises at once with that text)

--- Waits until an object is ready by its kind's rules (see the module doc), a `condition`, or a
--- `predicate`; returns the object. Raises at once when it has failed (a Deployment past its
--- progress deadline, a failed Job or Pod), and at the timeout with the last state seen:
--- `k8s.wait_ready: deployment default/web not ready after 60s: 2 of 3 updated replicas are available`.
---@param resource string
---@param name string
---@param opts? k8s.WaitOptions
---@return table
function Client:wait_ready(resource, name, opts)
  return self:_wait_rule("wait_ready", resource, name, opts)
end

-- wait_ready and wait_for: the rule opts or the kind choose
function Client:_wait_rule(fname, resource, name, opts)
  opts = api.check_options("k8s", fname, 3, opts, WAIT_OPTIONS)
  api.check_field("k8s", fname, 3, "condition", opts.condition, "string")
  api.check_field("k8s", fname, 3, "predicate", opts.predicate, "function")
  local rule
  if opts.predicate then
    local f = opts.predicate
    rule = function(o)
      local done, why, failed = f(o)
      return done and true or false, why or "the predicate is not satisfied", failed and not done
    end
  elseif opts.condition then
    rule = condition_rule(opts.condition)
  elseif fname == "wait_for" then
    raise("k8s.wait_for: bad argument #3 'opts' (a condition or a predicate is required)")
  else
    local r = self:resource(resource, fname, 1)
    rule = RULES[r.group .. "/" .. r.kind] or condition_rule("Ready")
  end
  return self:_wait(fname, resource, name, opts, rule)
end

--- Waits for a Deployment, StatefulSet or DaemonSet to finish rolling out (kubectl rollout
--- status); returns the object. The same as `wait_ready` on them.
---@param resource string
---@param name string
---@param opts? {namespace?: string, timeout?: number, interval?: number}
---@return table
function Client:rollout_status(resource, name, opts)
  opts = api.check_options("k8s", "rollout_status", 3, opts, {"namespace", "timeout", "interval"})
  local r = self:resource(resource, "rollout_status", 1)
  local rule = RULES[r.group .. "/" .. r.kind]
  if not rule or r.group ~= "apps" then
    raise(("k8s.rollout_status: bad argument #1 'resource' (a deployment, statefulset or daemonset expected, got %s)"):format(r.name))
  end
  return self:_wait("rollout_status", r, name, opts, rule)
end

--- Restarts a workload's pods as `kubectl rollout restart` does: sets the pod template's
--- `kubectl.kubernetes.io/restartedAt` annotation to now (a merge patch), so the controller
--- rolls them. Returns the patched object; wait with `rollout_status`.
---@param resource string
---@param name string
---@param opts? {namespace?: string}
---@return table
function Client:rollout_restart(resource, name, opts)
  opts = api.check_options("k8s", "rollout_restart", 3, opts, {"namespace"})
  local r = self:resource(resource, "rollout_restart", 1)
  if r.group ~= "apps" or r.kind == "ReplicaSet" then
    raise(("k8s.rollout_restart: bad argument #1 'resource' (a deployment, statefulset or daemonset expected, got %s)"):format(r.name))
  end
  local now = time.iso(time(), {precision = 0})
  return self:patch(r, name, {spec = {template = {metadata = {annotations = {
    ["kubectl.kubernetes.io/restartedAt"] = now}}}}}, {namespace = opts.namespace})
end

--- Waits until an object no longer exists (after a delete with finalizers, a Foreground
--- propagation); returns true. Raises at the timeout naming what still exists.
---@param resource string
---@param name string
---@param opts? {namespace?: string, timeout?: number, interval?: number}
---@return true
function Client:wait_deleted(resource, name, opts)
  opts = api.check_options("k8s", "wait_deleted", 3, opts, {"namespace", "timeout", "interval"})
  local r = self:resource(resource, "wait_deleted", 1)
  api.check_name("k8s", "wait_deleted", 2, "name", name)
  local timeout, interval = api.wait_times("k8s", "wait_deleted", 3, opts)
  local ns = self:_ns(r, opts)
  local ok, last = api.poll{timeout = timeout, interval = interval, try = function()
    local o = self:get(r, name, {namespace = ns})
    if o == nil then return true end
    local md = o.metadata or {}
    local why = md.deletionTimestamp and ("being deleted since " .. md.deletionTimestamp ..
      (md.finalizers and #md.finalizers > 0 and (", finalizers: " .. table.concat(md.finalizers, ", ")) or ""))
      or "not being deleted"
    return false, why
  end}
  if ok then return true end
  error(("k8s.wait_deleted: %s still exists after %ss: %s"):format(label(r, ns, name), tostring(timeout), tostring(last)), 0)
end

--- Waits until `predicate(obj)` holds (or `condition`); the same as `wait_ready` with one of them.
---@param resource string
---@param name string
---@param opts k8s.WaitOptions
---@return table
function Client:wait_for(resource, name, opts)
  return self:_wait_rule("wait_for", resource, name, opts)
end
