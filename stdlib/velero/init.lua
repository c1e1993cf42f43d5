--- assay.velero: Velero's resources (velero.io/v1) through assay.k8s: backups and restores
--- created as `velero backup create` / `velero restore create` build them, waited for until
--- Completed; schedules (create, pause, unpause); backup storage locations.
---
--- local velero = require("assay.velero")
--- local v = velero.client()                        -- namespace: $VELERO_NAMESPACE, else "velero"
--- v:backup("before-upgrade", {include_namespaces = {"prod"}, ttl = "72h"})
--- v:wait_completed("backup", "before-upgrade", {timeout = 1800})
--- v:restore("undo", {backup_name = "before-upgrade"})

local k8s = require("assay.k8s")
local api = require("assay.apiclient")
local crd = require("assay.apiclient.crd")
api.own_source()
local raise = api.raise

local PKG = "velero"
local API_VERSION = "velero.io/v1"
local BACKUPS = "backups.velero.io"
local RESTORES = "restores.velero.io"
local SCHEDULES = "schedules.velero.io"
local LOCATIONS = "backupstoragelocations.velero.io"
local DELETE_REQUESTS = "deletebackuprequests.velero.io"

---@class velero
local M = {}

---@class velero.Client
---@field k8s k8s.Client the Kubernetes client underneath
---@field namespace string Velero's namespace (default $VELERO_NAMESPACE, else "velero")
local Client = {}
Client.__index = Client
Client.__tostring = function(self) return "velero.client(" .. tostring(self.k8s.server) .. ")" end

--- A client. `opts.k8s` reuses an assay.k8s client; otherwise the k8s.client options
--- (`server`, `token`, `kubeconfig`, `context`, `timeout`, ...) make a new one. `namespace`:
--- the namespace Velero runs in, where its objects live (default: `$VELERO_NAMESPACE`, as the
--- velero CLI, else `velero`).
---@param opts? {k8s?: k8s.Client, namespace?: string, server?: string, token?: string, kubeconfig?: string, context?: string, timeout?: number}
---@return velero.Client
function M.client(opts)
  return setmetatable(crd.client(PKG, k8s, opts, {namespace = api.env("VELERO_NAMESPACE") or "velero"}), Client)
end

local function call(fname, f, ...) return crd.call(PKG, fname, f, ...) end

local function lister(fname, resource) return crd.lister(PKG, fname, resource, true) end

local function getter(fname, resource) return crd.getter(PKG, fname, resource, true) end

--- Backups (`velero backup get`): the items.
---@param opts? {namespace?: string, label_selector?: string|table}
---@return table[]
Client.backups = lister("backups", BACKUPS)
--- Restores (`velero restore get`).
---@param opts? {namespace?: string, label_selector?: string|table}
---@return table[]
Client.restores = lister("restores", RESTORES)
--- Schedules (`velero schedule get`).
---@param opts? {namespace?: string, label_selector?: string|table}
---@return table[]
Client.schedules = lister("schedules", SCHEDULES)
--- Backup storage locations (`velero backup-location get`).
---@param opts? {namespace?: string, label_selector?: string|table}
---@return table[]
Client.backup_locations = lister("backup_locations", LOCATIONS)

--- A Backup, or nil and the API's Status when it does not exist.
---@param name string
---@param opts? {namespace?: string}
---@return table|nil
---@return table|nil status
Client.backup_get = getter("backup_get", BACKUPS)
--- A Restore, or nil and the Status.
---@param name string
---@param opts? {namespace?: string}
---@return table|nil
---@return table|nil status
Client.restore_get = getter("restore_get", RESTORES)
--- A Schedule, or nil and the Status.
---@param name string
---@param opts? {namespace?: string}
---@return table|nil
---@return table|nil status
Client.schedule_get = getter("schedule_get", SCHEDULES)
--- A BackupStorageLocation, or nil and the Status.
---@param name string
---@param opts? {namespace?: string}
---@return table|nil
---@return table|nil status
Client.backup_location_get = getter("backup_location_get", LOCATIONS)

-- Building specs ---------------------------------------------------------------------------------

-- "app=web,tier=db" or {app = "web"} -> {matchLabels = ...}; a LabelSelector table as is
local function label_selector(fname, argn, v)
  if v == nil then return nil end
  if type(v) == "table" and (v.matchLabels or v.matchExpressions) then return v end
  local labels = {}
  if type(v) == "string" then
    for part in v:gmatch("[^,]+") do
      local k, x = part:match("^%s*([^=!%s]+)%s*==?%s*([^=%s]*)%s*$")
      if not k then
        raise(("velero.%s: bad argument #%d 'opts' (field 'selector': only key=value pairs can be given as text, got %q; give {matchExpressions = ...})")
          :format(fname, argn, v))
      end
      labels[k] = x
    end
  elseif type(v) == "table" then
    for k, x in pairs(v) do labels[k] = x end
  else
    raise(("velero.%s: bad argument #%d 'opts' (field 'selector': string or table expected, got %s)"):format(fname, argn, type(v)))
  end
  return {matchLabels = labels}
end

local function meta(name, ns, opts)
  return {name = name, namespace = ns, labels = opts.labels, annotations = opts.annotations}
end

-- the BackupSpec options (velero backup create's flags), and their kinds
local BACKUP_FIELDS = {
  include_namespaces = "strings", exclude_namespaces = "strings", include_resources = "strings",
  exclude_resources = "strings", include_cluster_resources = "boolean", selector = "any",
  snapshot_volumes = "boolean", ttl = "duration", storage_location = "string",
  volume_snapshot_locations = "strings", default_volumes_to_fs_backup = "boolean",
  snapshot_move_data = "boolean", csi_snapshot_timeout = "duration", item_operation_timeout = "duration",
  ordered_resources = "table", hooks = "table",
}
local META_FIELDS = {labels = "table", annotations = "table", namespace = "string"}

local function names_of(...)
  local out = {}
  for _, t in ipairs{...} do for k in pairs(t) do out[#out + 1] = k end end
  table.sort(out)
  return out
end

local function kinds_of(...)
  local out = {}
  for _, t in ipairs{...} do for k, v in pairs(t) do if v ~= "any" then out[k] = v end end end
  return out
end

local function backup_spec(fname, argn, o)
  return {
    includedNamespaces = o.include_namespaces or {"*"}, excludedNamespaces = o.exclude_namespaces,
    includedResources = o.include_resources, excludedResources = o.exclude_resources,
    includeClusterResources = o.include_cluster_resources,
    labelSelector = label_selector(fname, argn, o.selector), snapshotVolumes = o.snapshot_volumes,
    ttl = o.ttl, storageLocation = o.storage_location, volumeSnapshotLocations = o.volume_snapshot_locations,
    defaultVolumesToFsBackup = o.default_volumes_to_fs_backup, snapshotMoveData = o.snapshot_move_data,
    csiSnapshotTimeout = o.csi_snapshot_timeout, itemOperationTimeout = o.item_operation_timeout,
    orderedResources = o.ordered_resources, hooks = o.hooks,
  }
end

local function checked(fname, argn, opts, ...)
  opts = api.check_options(PKG, fname, argn, opts, names_of(...))
  return crd.check_fields(PKG, fname, argn, opts, kinds_of(...))
end

---@class velero.BackupOptions
---@field include_namespaces? string[] default {"*"}, as the CLI
---@field exclude_namespaces? string[]
---@field include_resources? string[]
---@field exclude_resources? string[]
---@field include_cluster_resources? boolean
---@field selector? string|table "app=web" or {app = "web"} (matchLabels), or a LabelSelector
---@field snapshot_volumes? boolean
---@field ttl? string|number "720h0m0s" or seconds (Velero's default: 30 days)
---@field storage_location? string a BackupStorageLocation (default: the default one)
---@field volume_snapshot_locations? string[]
---@field default_volumes_to_fs_backup? boolean
---@field snapshot_move_data? boolean
---@field csi_snapshot_timeout? string|number
---@field item_operation_timeout? string|number
---@field ordered_resources? table<string, string>
---@field hooks? table spec.hooks as Velero spells it
---@field labels? table<string, string>
---@field annotations? table<string, string>
---@field namespace? string Velero's namespace (default the client's)

--- Creates a Backup (`POST`, as `velero backup create`); returns the stored object. 409 when
--- one of that name exists. Wait with `wait_completed("backup", name)`.
---@param name string
---@param opts? velero.BackupOptions
---@return table
function Client:backup(name, opts)
  api.check_name(PKG, "backup", 1, "name", name)
  opts = checked("backup", 2, opts, BACKUP_FIELDS, META_FIELDS)
  local ns = opts.namespace or self.namespace
  local obj = {apiVersion = API_VERSION, kind = "Backup", metadata = meta(name, ns, opts),
    spec = backup_spec("backup", 2, opts)}
  local kc = self.k8s
  return call("backup", kc.create, kc, obj, {namespace = ns})
end

local RESTORE_FIELDS = {
  backup_name = "string", schedule_name = "string", include_namespaces = "strings",
  exclude_namespaces = "strings", include_resources = "strings", exclude_resources = "strings",
  include_cluster_resources = "boolean", namespace_mapping = "table", selector = "any",
  restore_pvs = "boolean", preserve_node_ports = "boolean", existing_resource_policy = "string",
  item_operation_timeout = "duration", restore_status = "table",
}

---@class velero.RestoreOptions
---@field backup_name? string the backup to restore (this or schedule_name)
---@field schedule_name? string restore the latest backup of this schedule
---@field include_namespaces? string[]
---@field exclude_namespaces? string[]
---@field include_resources? string[]
---@field exclude_resources? string[]
---@field include_cluster_resources? boolean
---@field namespace_mapping? table<string, string> source namespace -> target namespace
---@field selector? string|table
---@field restore_pvs? boolean
---@field preserve_node_ports? boolean
---@field existing_resource_policy? "none"|"update"
---@field item_operation_timeout? string|number
---@field restore_status? table spec.restoreStatus
---@field labels? table<string, string>
---@field annotations? table<string, string>
---@field namespace? string

--- Creates a Restore (`POST`, as `velero restore create`) from `backup_name` or
--- `schedule_name`; returns the stored object. Without a name (nil), it is named as the CLI
--- names it: `<backup>-<YYYYMMDDhhmmss>`. Wait with `wait_completed("restore", name)`.
---@param name string|nil
---@param opts velero.RestoreOptions
---@return table
function Client:restore(name, opts)
  if name ~= nil then api.check_name(PKG, "restore", 1, "name", name) end
  if type(opts) ~= "table" then
    raise(("velero.restore: bad argument #2 'opts' (table expected, got %s)"):format(type(opts)))
  end
  opts = checked("restore", 2, opts, RESTORE_FIELDS, META_FIELDS)
  local from = opts.backup_name or opts.schedule_name
  if not from or (opts.backup_name and opts.schedule_name) then
    raise("velero.restore: bad argument #2 'opts' (one of backup_name or schedule_name is required)")
  end
  if opts.existing_resource_policy and opts.existing_resource_policy ~= "none" and opts.existing_resource_policy ~= "update" then
    raise(("velero.restore: bad argument #2 'opts' (field 'existing_resource_policy': none or update expected, got %q)")
      :format(opts.existing_resource_policy))
  end
  name = name or (from .. "-" .. time.format(time(), "%Y%m%d%H%M%S", {tz = "UTC"}))
  local ns = opts.namespace or self.namespace
  local obj = {apiVersion = API_VERSION, kind = "Restore", metadata = meta(name, ns, opts), spec = {
    backupName = opts.backup_name, scheduleName = opts.schedule_name,
    includedNamespaces = opts.include_namespaces, excludedNamespaces = opts.exclude_namespaces,
    includedResources = opts.include_resources, excludedResources = opts.exclude_resources,
    includeClusterResources = opts.include_cluster_resources, namespaceMapping = opts.namespace_mapping,
    labelSelector = label_selector("restore", 2, opts.selector), restorePVs = opts.restore_pvs,
    preserveNodePorts = opts.preserve_node_ports, existingResourcePolicy = opts.existing_resource_policy,
    itemOperationTimeout = opts.item_operation_timeout, restoreStatus = opts.restore_status,
  }}
  local kc = self.k8s
  return call("restore", kc.create, kc, obj, {namespace = ns})
end

--- Deletes a backup as `velero backup delete` does: a DeleteBackupRequest (named
--- `<backup>-<random>`, labelled `velero.io/backup-name` and `velero.io/backup-uid`) that
--- Velero's controller carries out, removing the backup's data in object storage with it
--- (deleting the Backup object alone would not: it would come back at the next sync).
--- Returns the DeleteBackupRequest, or nil and the Status when the backup does not exist.
---@param name string
---@param opts? {namespace?: string}
---@return table|nil
---@return table|nil status
function Client:backup_delete(name, opts)
  api.check_name(PKG, "backup_delete", 1, "name", name)
  opts = api.check_options(PKG, "backup_delete", 2, opts, {"namespace"})
  local ns = opts.namespace or self.namespace
  local kc = self.k8s
  local b, st = call("backup_delete", kc.get, kc, BACKUPS, name, {namespace = ns})
  if not b then return nil, st end
  local label = #name <= 63 and name or name:sub(1, 63)
  return call("backup_delete", kc.create, kc, {apiVersion = API_VERSION, kind = "DeleteBackupRequest",
    metadata = {generateName = name .. "-", namespace = ns,
      labels = {["velero.io/backup-name"] = label, ["velero.io/backup-uid"] = b.metadata.uid}},
    spec = {backupName = name}}, {namespace = ns})
end

-- Schedules -------------------------------------------------------------------------------------

--- Creates a Schedule (`POST`, as `velero schedule create --schedule ...`): `cron` (a cron
--- expression, or "@every 6h") and the backup options of `backup` as its template; `paused`
--- creates it paused; `use_owner_references` sets useOwnerReferencesInBackup.
---@param name string
---@param cron string
---@param opts? velero.BackupOptions|{paused?: boolean, use_owner_references?: boolean}
---@return table
function Client:schedule(name, cron, opts)
  api.check_name(PKG, "schedule", 1, "name", name)
  api.check_name(PKG, "schedule", 2, "cron", cron)
  opts = checked("schedule", 3, opts, BACKUP_FIELDS, META_FIELDS, {paused = "boolean", use_owner_references = "boolean"})
  local ns = opts.namespace or self.namespace
  local obj = {apiVersion = API_VERSION, kind = "Schedule", metadata = meta(name, ns, opts), spec = {
    schedule = cron, template = backup_spec("schedule", 3, opts), paused = opts.paused,
    useOwnerReferencesInBackup = opts.use_owner_references}}
  local kc = self.k8s
  return call("schedule", kc.create, kc, obj, {namespace = ns})
end

local function set_paused(self, fname, name, opts, paused)
  api.check_name(PKG, fname, 1, "name", name)
  opts = api.check_options(PKG, fname, 2, opts, {"namespace"})
  local kc = self.k8s
  local ok, out, st = pcall(kc.patch, kc, SCHEDULES, name, {spec = {paused = paused}},
    {namespace = opts.namespace or self.namespace})
  if ok then return out end
  if type(out) == "string" and out:find(": 404 ", 1, true) then return nil, st end
  crd.fail(PKG, fname, out)
end

--- Pauses a Schedule (`velero schedule pause`: spec.paused = true, a merge patch); returns it,
--- or nil when it does not exist.
---@param name string
---@param opts? {namespace?: string}
---@return table|nil
function Client:schedule_pause(name, opts) return set_paused(self, "schedule_pause", name, opts, true) end

--- Unpauses a Schedule (`velero schedule unpause`); returns it, or nil when it does not exist.
---@param name string
---@param opts? {namespace?: string}
---@return table|nil
function Client:schedule_unpause(name, opts) return set_paused(self, "schedule_unpause", name, opts, false) end

-- Waiting ---------------------------------------------------------------------------------------

local FAILED = {Failed = true, PartiallyFailed = true, FailedValidation = true}

local function count(n, what) return ("%d %s%s"):format(n, what, n == 1 and "" or "s") end

-- phase Completed; Failed, PartiallyFailed, FailedValidation raise with what Velero says
local function phase_rule(items_word)
  return function(o)
    local st = o.status or {}
    local phase = st.phase or "New"
    if phase == "Completed" then return true, "phase Completed" end
    if FAILED[phase] then
      local why = {}
      if st.failureReason and st.failureReason ~= "" then why[#why + 1] = st.failureReason end
      if type(st.validationErrors) == "table" and #st.validationErrors > 0 then
        why[#why + 1] = "validation errors: " .. table.concat(st.validationErrors, "; ")
      end
      if (st.errors or 0) > 0 or (st.warnings or 0) > 0 then
        why[#why + 1] = count(st.errors or 0, "error") .. ", " .. count(st.warnings or 0, "warning")
      end
      return false, ("phase %s%s"):format(phase, #why > 0 and (": " .. table.concat(why, "; ")) or ""), true
    end
    local p = st.progress
    if type(p) == "table" and p.totalItems then
      return false, ("phase %s (%d of %d items %s)"):format(phase, p[items_word] or 0, p.totalItems,
        items_word == "itemsBackedUp" and "backed up" or "restored")
    end
    return false, "phase " .. phase
  end
end

local function location_rule(o)
  local st = o.status or {}
  if st.phase == "Available" then return true, "phase Available" end
  return false, ("phase %s%s"):format(tostring(st.phase or "unknown"),
    st.message and st.message ~= "" and (": " .. st.message) or "")
end

local BACKUP = {resource = BACKUPS, label = "backup", rule = phase_rule("itemsBackedUp"), completes = true}
local RESTORE = {resource = RESTORES, label = "restore", rule = phase_rule("itemsRestored"), completes = true}
local LOCATION = {resource = LOCATIONS, label = "backupstoragelocation", rule = location_rule}
local KINDS = {
  backup = BACKUP, backups = BACKUP, restore = RESTORE, restores = RESTORE,
  backupstoragelocation = LOCATION, backupstoragelocations = LOCATION, bsl = LOCATION,
  backup_location = LOCATION, ["backup-location"] = LOCATION,
}

local function wait(self, fname, kind, name, opts, completes)
  local e = crd.kind(PKG, fname, 1, completes and {backup = BACKUP, backups = BACKUP, restore = RESTORE,
    restores = RESTORE} or KINDS, completes and "backup or restore" or "backup, restore or backupstoragelocation", kind)
  api.check_name(PKG, fname, 2, "name", name)
  opts = api.check_options(PKG, fname, 3, opts, {"namespace", "timeout", "interval"})
  local ns = opts.namespace or self.namespace
  return crd.wait{pkg = PKG, fname = fname, k8s = self.k8s, resource = e.resource, name = name,
    namespace = ns, opts = opts, rule = e.rule, what = crd.label(e.label, ns, name),
    state = e.completes and "completed" or "ready"}
end

--- Waits until a Backup or Restore has finished: `status.phase` Completed; returns it. The
--- phases Failed, PartiallyFailed and FailedValidation raise at once with Velero's
--- `failureReason`, `validationErrors` and error/warning counts; the timeout raises with the
--- last phase and progress: `velero.wait_completed: backup velero/b1 not completed after 60s:
--- phase InProgress (120 of 400 items backed up)`.
---@param kind "backup"|"restore"
---@param name string
---@param opts? {namespace?: string, timeout?: number, interval?: number}
---@return table
function Client:wait_completed(kind, name, opts) return wait(self, "wait_completed", kind, name, opts, true) end

--- `wait_completed` for backups and restores; a BackupStorageLocation is ready when its phase
--- is Available (the timeout shows its phase and message).
---@param kind "backup"|"restore"|"backupstoragelocation"
---@param name string
---@param opts? {namespace?: string, timeout?: number, interval?: number}
---@return table
function Client:wait_ready(kind, name, opts) return wait(self, "wait_ready", kind, name, opts, false) end

return M
