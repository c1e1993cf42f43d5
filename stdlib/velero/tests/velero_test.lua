-- assay.velero against assay.k8s.fake with Velero's CRDs registered as the real ones are shaped
-- (velero.io/v1, namespaced; backups, restores and schedules without a status subresource,
-- backupstoragelocations with one).
local velero = require("assay.velero")
local k8s = require("assay.k8s")
local fake = k8s.fake.start{token = "t", namespaces = {"default", "velero", "backups"}}
local function crd(kind, plural, status, short)
  fake:add{apiVersion = "apiextensions.k8s.io/v1", kind = "CustomResourceDefinition",
    metadata = {name = plural .. ".velero.io"},
    spec = {group = "velero.io", scope = "Namespaced", names = {kind = kind, listKind = kind .. "List",
      plural = plural, singular = kind:lower(), shortNames = short},
      versions = {{name = "v1", served = true, storage = true, subresources = status and {status = {}} or nil,
        schema = {openAPIV3Schema = {type = "object", ["x-kubernetes-preserve-unknown-fields"] = true}}}}}}
end
crd("Backup", "backups")
crd("Restore", "restores")
crd("Schedule", "schedules")
crd("BackupStorageLocation", "backupstoragelocations", true, {"bsl"})
crd("DeleteBackupRequest", "deletebackuprequests")
local v = velero.client{server = fake.url, token = "t"}
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

test("backup: the Backup velero backup create builds, POSTed in velero's namespace", function()
  assert.eq(v.namespace, "velero")
  local b = v:backup("nightly", {include_namespaces = {"prod", "shop"}, exclude_namespaces = {"kube-system"},
    ttl = 72 * 3600, storage_location = "aws", snapshot_volumes = false, selector = "app=web,tier=db",
    labels = {team = "ops"}, include_cluster_resources = true})
  local r = last("POST")
  assert.eq(r.path, "/apis/velero.io/v1/namespaces/velero/backups")
  assert.matches(r.content_type, "^application/json")
  local body = json.parse(r.body)
  assert.eq({body.apiVersion, body.kind, body.metadata.name, body.metadata.namespace}, {"velero.io/v1", "Backup", "nightly", "velero"})
  assert.eq(body.metadata.labels, {team = "ops"})
  assert.eq(body.spec.includedNamespaces, {"prod", "shop"})
  assert.eq(body.spec.excludedNamespaces, {"kube-system"})
  assert.eq(body.spec.ttl, "72h0m0s")
  assert.eq(body.spec.storageLocation, "aws")
  assert.eq(body.spec.snapshotVolumes, false)
  assert.eq(body.spec.includeClusterResources, true)
  assert.eq(body.spec.labelSelector, {matchLabels = {app = "web", tier = "db"}})
  assert.eq(b.metadata.uid ~= nil, true)
  -- the CLI's default: every namespace
  v:backup("all")
  assert.eq(json.parse(last("POST").body).spec.includedNamespaces, {"*"})
  fails(function() v:backup("all") end, 'velero.backup: POST /apis/velero.io/v1/namespaces/velero/backups: 409 backups.velero.io "all" already exists')
  assert.eq(#v:backups(), 2)
  assert.eq(v:backup_get("nightly").spec.ttl, "72h0m0s")
end)

test("backup and restore: bad arguments are named", function()
  fails(function() v:backup("x", {include_namespace = {"a"}}) end, "velero.backup: bad argument #2 'opts' (unknown option 'include_namespace'")
  fails(function() v:backup("x", {include_namespaces = "prod"}) end, "field 'include_namespaces': a list of strings expected")
  fails(function() v:backup("x", {ttl = "a week"}) end, "field 'ttl': a duration")
  fails(function() v:backup("x", {selector = "app in (a,b)"}) end, "field 'selector': only key=value pairs")
  fails(function() v:backup("", {}) end, "velero.backup: bad argument #1 'name' (non-empty string expected, got an empty string)")
  fails(function() v:restore("r", {}) end, "velero.restore: bad argument #2 'opts' (one of backup_name or schedule_name is required)")
  fails(function() v:restore("r") end, "velero.restore: bad argument #2 'opts' (table expected, got nil)")
  fails(function() v:restore("r", {backup_name = "b", existing_resource_policy = "replace"}) end, "field 'existing_resource_policy': none or update expected")
  fails(function() v:wait_completed("bsl", "x") end, "velero.wait_completed: bad argument #1 'kind' (backup or restore expected")
end)

test("wait_completed: true once Velero reports Completed", function()
  v:backup("b1", {include_namespaces = {"prod"}})
  local t = later(function()
    fake:set_status("backups", "velero", "b1", {phase = "InProgress", progress = {totalItems = 40, itemsBackedUp = 10}})
    sleep(0.1)
    fake:set_status("backups", "velero", "b1", {phase = "Completed", progress = {totalItems = 40, itemsBackedUp = 40},
      completionTimestamp = "2026-12-07T00:05:00Z"})
  end)
  local b = v:wait_completed("backup", "b1", FAST)
  t:await()
  assert.eq(b.status.phase, "Completed")
  assert.eq(v:wait_ready("backup", "b1", SHORT).status.progress.itemsBackedUp, 40)
end)

test("wait_completed: the timeout shows the phase and progress", function()
  v:backup("slow")
  fails(function() v:wait_completed("backup", "slow", SHORT) end, "velero.wait_completed: backup velero/slow not completed after 0.2s: phase New")
  fake:set_status("backups", "velero", "slow", {phase = "InProgress", progress = {totalItems = 400, itemsBackedUp = 120}})
  fails(function() v:wait_completed("backup", "slow", SHORT) end, "backup velero/slow not completed after 0.2s: phase InProgress (120 of 400 items backed up)")
  fails(function() v:wait_completed("backup", "missing", SHORT) end, "backup velero/missing not completed after 0.2s: not found")
end)

test("wait_completed: Failed, PartiallyFailed and FailedValidation raise at once with Velero's reasons", function()
  local function at_once(name, status, want)
    v:backup(name)
    later(function() fake:set_status("backups", "velero", name, status) end)
    local t0 = time.monotonic()
    fails(function() v:wait_completed("backup", name, {timeout = 20, interval = 0.02}) end, want)
    assert.lt(time.monotonic() - t0, 5)
  end
  at_once("invalid", {phase = "FailedValidation", validationErrors = {"an existing backup storage location wasn't specified at backup creation time and the default 'default' wasn't found. Please address this issue (see `velero backup-location -h` for options) and create a new backup.", "Invalid included/excluded namespace lists"}},
    "velero.wait_completed: backup velero/invalid: phase FailedValidation: validation errors: an existing backup storage location wasn't specified at backup creation time and the default 'default' wasn't found. Please address this issue (see `velero backup-location -h` for options) and create a new backup.; Invalid included/excluded namespace lists")
  at_once("broken", {phase = "Failed", failureReason = "error checking if backup already exists in object storage: rpc error: code = Unknown desc = AccessDenied", errors = 1},
    "backup velero/broken: phase Failed: error checking if backup already exists in object storage: rpc error: code = Unknown desc = AccessDenied; 1 error, 0 warnings")
  at_once("partial", {phase = "PartiallyFailed", errors = 3, warnings = 2},
    "backup velero/partial: phase PartiallyFailed: 3 errors, 2 warnings")
end)

test("restore: from a backup, named as the CLI names it; waited for", function()
  local r = v:restore(nil, {backup_name = "nightly", include_namespaces = {"prod"},
    namespace_mapping = {prod = "prod-copy"}, restore_pvs = true, existing_resource_policy = "update"})
  local req = last("POST")
  assert.eq(req.path, "/apis/velero.io/v1/namespaces/velero/restores")
  local body = json.parse(req.body)
  assert.matches(body.metadata.name, "^nightly-\\d{14}$")
  assert.eq(body.kind, "Restore")
  assert.eq(body.spec.backupName, "nightly")
  assert.eq(body.spec.includedNamespaces, {"prod"})
  assert.eq(body.spec.namespaceMapping, {prod = "prod-copy"})
  assert.eq(body.spec.restorePVs, true)
  assert.eq(body.spec.existingResourcePolicy, "update")
  local name = r.metadata.name
  local t = later(function()
    fake:set_status("restores", "velero", name, {phase = "Completed", progress = {totalItems = 5, itemsRestored = 5}})
  end)
  assert.eq(v:wait_completed("restore", name, FAST).status.phase, "Completed")
  t:await()
  v:restore("from-sched", {schedule_name = "daily"})
  assert.eq(json.parse(last("POST").body).spec.scheduleName, "daily")
  fake:set_status("restores", "velero", "from-sched", {phase = "InProgress", progress = {totalItems = 9, itemsRestored = 4}})
  fails(function() v:wait_completed("restore", "from-sched", SHORT) end, "restore velero/from-sched not completed after 0.2s: phase InProgress (4 of 9 items restored)")
  fake:set_status("restores", "velero", "from-sched", {phase = "PartiallyFailed", errors = 1, warnings = 0})
  fails(function() v:wait_completed("restore", "from-sched", SHORT) end, "velero.wait_completed: restore velero/from-sched: phase PartiallyFailed: 1 error, 0 warnings")
  assert.eq(#v:restores(), 2)
  assert.eq(v:restore_get("from-sched").spec.scheduleName, "daily")
end)

test("schedules: created with the backup template, paused and unpaused", function()
  v:schedule("daily", "0 3 * * *", {include_namespaces = {"prod"}, ttl = "168h", paused = true})
  local req = last("POST")
  assert.eq(req.path, "/apis/velero.io/v1/namespaces/velero/schedules")
  local body = json.parse(req.body)
  assert.eq(body.spec.schedule, "0 3 * * *")
  assert.eq(body.spec.paused, true)
  assert.eq(body.spec.template.includedNamespaces, {"prod"})
  assert.eq(body.spec.template.ttl, "168h")
  assert.eq(v:schedule_unpause("daily").spec.paused, false)
  req = last("PATCH")
  assert.eq(req.path, "/apis/velero.io/v1/namespaces/velero/schedules/daily")
  assert.eq(req.content_type, "application/merge-patch+json")
  assert.eq(json.parse(req.body), {spec = {paused = false}})
  assert.eq(v:schedule_pause("daily").spec.paused, true)
  assert.eq(v:schedule_get("daily").spec.paused, true)
  assert.eq(v:schedule_pause("nope"), nil)
  assert.eq(#v:schedules(), 1)
  fails(function() v:schedule("x", nil) end, "velero.schedule: bad argument #2 'cron' (non-empty string expected, got nil)")
end)

test("backup storage locations: ready when Available", function()
  fake:add{apiVersion = "velero.io/v1", kind = "BackupStorageLocation", metadata = {name = "default", namespace = "velero"},
    spec = {provider = "aws", default = true, objectStorage = {bucket = "backups"}}}
  fake:set_status("backupstoragelocations", "velero", "default", {phase = "Unavailable",
    message = "BackupStorageLocation \"default\" is unavailable: rpc error: NoSuchBucket"})
  fails(function() v:wait_ready("bsl", "default", SHORT) end,
    'velero.wait_ready: backupstoragelocation velero/default not ready after 0.2s: phase Unavailable: BackupStorageLocation "default" is unavailable: rpc error: NoSuchBucket')
  local t = later(function() fake:set_status("backupstoragelocations", "velero", "default", {phase = "Available"}) end)
  assert.eq(v:wait_ready("backupstoragelocation", "default", FAST).status.phase, "Available")
  t:await()
  assert.eq(v:backup_locations()[1].spec.objectStorage.bucket, "backups")
  assert.eq(v:backup_location_get("default").spec.default, true)
end)

test("backup_delete: a DeleteBackupRequest as velero backup delete makes it", function()
  local b = v:backup("old")
  local req = v:backup_delete("old")
  local post = last("POST")
  assert.eq(post.path, "/apis/velero.io/v1/namespaces/velero/deletebackuprequests")
  local body = json.parse(post.body)
  assert.eq(body.metadata.generateName, "old-")
  assert.eq(body.metadata.labels, {["velero.io/backup-name"] = "old", ["velero.io/backup-uid"] = b.metadata.uid})
  assert.eq(body.spec, {backupName = "old"})
  assert.matches(req.metadata.name, "^old-")
  assert.eq(v:backup_delete("never"), nil)
end)

test("absent objects are nil; other namespaces; the client's rule", function()
  local b, st = v:backup_get("nope")
  assert.eq(b, nil)
  assert.eq(st.code, 404)
  assert.eq(v:restore_get("nope"), nil)
  assert.eq(v:schedule_get("nope"), nil)
  assert.eq(v:backup_location_get("nope"), nil)
  v:backup("elsewhere", {namespace = "backups"})
  assert.eq(last("POST").path, "/apis/velero.io/v1/namespaces/backups/backups")
  local v2 = velero.client{k8s = k8s.client{server = fake.url, token = "t"}, namespace = "backups"}
  assert.eq(#v2:backups(), 1)
  fails(function() velero.client{k8s = v2.k8s, kubeconfig = "/nope"} end, "option 'kubeconfig' cannot be given with 'k8s'")
end)
