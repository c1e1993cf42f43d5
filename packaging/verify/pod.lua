-- The container of a Kubernetes example (examples/k8s/*.yaml), made runnable in an unpacked
-- image by run-in-image.py, as the kubelet would run it:
--
--   assay pod.lua MANIFEST VOLUMES OUT_JSON
--
-- Finds the file's one workload (Job, CronJob or Deployment) and its first container; writes
-- each ConfigMap volume's keys into VOLUMES/<volume>/ (the ConfigMap must be in the same
-- file); writes OUT_JSON: {command, args, env, workingDir, runAsUser, runAsGroup,
-- readOnlyRootFilesystem, mounts} (env: literal `value`s only; mounts: a ConfigMap as
-- {type = "bind", source = VOLUMES/<volume>, target}, an emptyDir as {type = "tmpfs", target}).
-- Checks on the way what every example promises: a non-root user, a read-only root, no
-- privilege escalation, resource limits, and for a server that the pod's grace period covers
-- the preStop pause and the drain. Any other shape is an error naming what it found.
local manifest, volumes_dir, out = arg[1], arg[2], arg[3]
assert(manifest and volumes_dir and out, "usage: assay pod.lua MANIFEST VOLUMES OUT_JSON")

local docs = yaml.parse_all(fs.read(manifest))
local config_maps, workload = {}, nil
for _, doc in ipairs(docs) do
  if doc.kind == "ConfigMap" then
    config_maps[doc.metadata.name] = doc
  elseif doc.kind == "Job" or doc.kind == "CronJob" or doc.kind == "Deployment" then
    assert(not workload, manifest .. ": more than one workload")
    workload = doc
  end
end
assert(workload, manifest .. ": no Job, CronJob or Deployment")

local pod
if workload.kind == "CronJob" then
  pod = workload.spec.jobTemplate.spec.template.spec
else
  pod = workload.spec.template.spec
end
local container = pod.containers[1]
local where = ("%s: %s %s"):format(manifest, workload.kind, workload.metadata.name)
local function require_that(ok, what)
  if not ok then error(where .. ": " .. what, 0) end
end

local pod_security = pod.securityContext or {}
local security = container.securityContext or {}
require_that(pod_security.runAsNonRoot == true, "the pod must set runAsNonRoot")
require_that(security.readOnlyRootFilesystem == true, "the container must have a read-only root filesystem")
require_that(security.allowPrivilegeEscalation == false, "the container must not allow privilege escalation")
require_that(container.resources and container.resources.limits and container.resources.limits.memory,
  "the container must have a memory limit")

local env = {}
for _, var in ipairs(container.env or {}) do
  require_that(var.value ~= nil, "env " .. var.name .. " is not a literal value")
  env[var.name] = var.value
end

-- A server's graceful stop must fit in the pod's grace period.
local pre_stop = container.lifecycle and container.lifecycle.preStop
if workload.kind == "Deployment" then
  -- The pause: the kubelet's own sleep action, or `assay -e 'sleep(N)'` run in the image.
  local pause = 0
  if pre_stop and pre_stop.sleep then
    pause = pre_stop.sleep.seconds
  elseif pre_stop and pre_stop.exec then
    pause = tonumber(table.concat(pre_stop.exec.command, " "):match("sleep%((%d+)%)")) or 0
  end
  local drain = tonumber(env.DRAIN_SECONDS or "20")
  local budget = pod.terminationGracePeriodSeconds or 30
  require_that(pause + drain < budget, ("preStop %d s + drain %d s must stay under terminationGracePeriodSeconds %d")
    :format(pause, drain, budget))
  require_that(container.readinessProbe and container.livenessProbe, "a server needs readiness and liveness probes")
end

local volumes = {}
for _, volume in ipairs(pod.volumes or {}) do volumes[volume.name] = volume end
local mounts = {}
for _, mount in ipairs(container.volumeMounts or {}) do
  local volume = volumes[mount.name]
  require_that(volume, "mount " .. mount.name .. " has no volume")
  if volume.configMap then
    local map = config_maps[volume.configMap.name]
    require_that(map, "ConfigMap " .. volume.configMap.name .. " is not in the file")
    require_that(mount.readOnly == true, "ConfigMap mount " .. mount.name .. " should be readOnly")
    local dir = volumes_dir .. "/" .. mount.name
    fs.mkdir(dir, {parents = true})
    for key, text in pairs(map.data) do
      require_that(key:match("^[%w._-]+$") and key ~= "." and key ~= "..", "ConfigMap key " .. key)
      fs.write(dir .. "/" .. key, text)
    end
    mounts[#mounts + 1] = {type = "bind", source = dir, target = mount.mountPath}
  elseif volume.emptyDir then
    mounts[#mounts + 1] = {type = "tmpfs", target = mount.mountPath}
  else
    require_that(false, "volume " .. mount.name .. " is neither a ConfigMap nor an emptyDir")
  end
end

fs.write(out, json.encode({
  command = container.command,
  args = container.args,
  env = env,
  workingDir = container.workingDir,
  runAsUser = security.runAsUser or pod_security.runAsUser,
  runAsGroup = security.runAsGroup or pod_security.runAsGroup,
  readOnlyRootFilesystem = security.readOnlyRootFilesystem,
  mounts = json.array(mounts),
}))
