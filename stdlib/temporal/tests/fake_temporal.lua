-- A fake Temporal frontend (HTTP API) for the temporal package's tests, written with http.server.
--
-- It follows Temporal's HTTP API as documented at
--   https://docs.temporal.io/references/http-api
-- with the WorkflowService's HTTP paths from the OpenAPI description
--   https://github.com/temporalio/api/blob/master/openapi/openapiv3.yaml
--   GET    /api/v1/namespaces                         ?pageSize&nextPageToken -> {namespaces, nextPageToken}
--   GET    /api/v1/namespaces/{namespace}             -> {namespaceInfo, config, ...}
--   GET    /api/v1/namespaces/{ns}/workflows          ?pageSize&nextPageToken&query -> {executions, nextPageToken}
--   GET    /api/v1/namespaces/{ns}/workflows/{execution.workflow_id} ?execution.runId
--   POST   /api/v1/namespaces/{ns}/workflows/{workflowId}          StartWorkflowExecutionRequest -> {runId, started}
--   POST   /api/v1/namespaces/{ns}/workflows/{workflow_execution.workflow_id}/signal/{signalName}
--   POST   /api/v1/namespaces/{ns}/workflows/{workflow_execution.workflow_id}/terminate
--   GET    /api/v1/namespaces/{ns}/schedules          ?maximumPageSize&nextPageToken&query
--   GET/POST/DELETE /api/v1/namespaces/{ns}/schedules/{scheduleId}   (DELETE ?identity)
-- Field names are protobuf JSON (lowerCamelCase), durations "<n>s", payloads in the HTTP API's
-- shorthand (a Payloads is a JSON array of JSON values). Errors are google.rpc.Status
-- {code, message, details} with the gRPC-to-HTTP status mapping (5 -> 404, 6 -> 409,
-- 3 -> 400, 16 -> 401, 7 -> 403).
--
-- It CHECKS every request: method, path, query parameters, bearer key, content type, body fields
-- and their types (unknown fields are refused, as protojson refuses them); violations are
-- recorded in `fake.violations`, which the tests assert empty after each case.

local fake = {}

local function status(http_status, code, msg)
  return { status = http_status, json = { code = code, message = msg, details = json.array({}) } }
end

local START_FIELDS = { namespace = "string", workflowId = "string", workflowType = "table", taskQueue = "table",
  input = "table", workflowExecutionTimeout = "duration", workflowRunTimeout = "duration",
  workflowTaskTimeout = "duration", identity = "string", requestId = "string", workflowIdReusePolicy = "string",
  workflowIdConflictPolicy = "string", retryPolicy = "table", cronSchedule = "string", memo = "table",
  searchAttributes = "table", header = "table" }
local SIGNAL_FIELDS = { namespace = "string", workflowExecution = "table", signalName = "string", input = "table",
  identity = "string", requestId = "string", control = "string", header = "table" }
local TERMINATE_FIELDS = { namespace = "string", workflowExecution = "table", reason = "string", details = "table",
  identity = "string", firstExecutionRunId = "string" }
local SCHEDULE_FIELDS = { namespace = "string", scheduleId = "string", schedule = "table", initialPatch = "table",
  identity = "string", requestId = "string", memo = "table", searchAttributes = "table" }

--- opts: api_key (require `Authorization: Bearer <key>`), readonly_key (may read, not write: 403),
---       page_size (items per page the fake answers; default 2), complete_after (a running
---       workflow completes after this many describes; default: never).
function fake.start(opts)
  opts = opts or {}
  local self = { violations = {}, requests = {} }
  local page_size = opts.page_size or 2
  local runs = 0

  local function violation(req, text)
    self.violations[#self.violations + 1] = ("%s %s: %s"):format(req.method, req.path, text)
  end
  local function invalid(req, msg)
    violation(req, msg)
    return status(400, 3, msg)
  end

  local function guard(req, writes)
    self.requests[#self.requests + 1] = req
    if opts.api_key then
      local h = req.headers.authorization
      local ro = opts.readonly_key and h == "Bearer " .. opts.readonly_key
      if h ~= "Bearer " .. opts.api_key and not ro then return status(401, 16, "Request unauthorized.") end
      if ro and writes then return status(403, 7, "Request unauthorized.") end
    end
    return nil
  end

  local function params(req, allowed)
    for k, v in pairs(req.query) do
      if not allowed[k] then return nil, invalid(req, ("unexpected query parameter '%s'"):format(k)) end
      if type(v) == "table" then return nil, invalid(req, ("query parameter '%s' given more than once"):format(k)) end
    end
    return req.query
  end

  local function body_of(req, fields)
    if not (req.headers["content-type"] or ""):find("application/json", 1, true) then
      return nil, invalid(req, "content type is not application/json")
    end
    local ok, b = pcall(json.parse, req.body or "")
    if not ok or type(b) ~= "table" then return nil, invalid(req, "invalid JSON body") end
    for k, v in pairs(b) do
      local want = fields[k]
      if not want then return nil, invalid(req, ("proto: unknown field %q"):format(k)) end
      if want == "duration" then
        if type(v) ~= "string" or not v:match("^%d+%.?%d*s$") then
          return nil, invalid(req, ("proto: field %s: invalid google.protobuf.Duration value %s"):format(k, tostring(v)))
        end
      elseif type(v) ~= want then
        return nil, invalid(req, ("proto: field %s: %s expected, got %s"):format(k, want, type(v)))
      end
    end
    return b
  end

  -- Shorthand Payloads: a JSON array. The canonical {payloads = [...]} form would also be read by
  -- Temporal; this client sends shorthand, so the fake insists on it.
  local function check_payloads(req, v, what)
    if v == nil then return true end
    if v.payloads ~= nil or (next(v) ~= nil and #v == 0) then
      violation(req, what .. ": payloads expected in shorthand (a JSON array)")
      return false
    end
    return true
  end

  local function ns_of(req)
    local ns = self.namespaces[req.params.ns]
    if not ns then return nil, status(404, 5, ("Namespace %s is not found."):format(req.params.ns)) end
    return ns
  end

  local function page(req, list, size_param)
    local start = 1
    local tok = req.query.nextPageToken
    if tok and tok ~= "" then
      local ok, s = pcall(base64.decode, tok)
      start = ok and tonumber(s:match("^page:(%d+)$") or "") or nil
      if not start then return nil, invalid(req, "invalid nextPageToken") end
    end
    local size = page_size
    if req.query[size_param] then
      local n = tonumber(req.query[size_param])
      if not n or n ~= math.floor(n) then return nil, invalid(req, "invalid " .. size_param) end
      if n > 0 then size = math.min(size, n) end
    end
    local out = {}
    for i = start, math.min(#list, start + size - 1) do out[#out + 1] = list[i] end
    local nxt = nil
    if start + size <= #list then nxt = base64.encode("page:" .. (start + size)) end
    return json.array(out), nxt
  end

  -- Visibility queries: Field='value' joined by AND, on WorkflowType, WorkflowId, ExecutionStatus.
  local FIELDS = { WorkflowType = function(w) return w.type.name end, WorkflowId = function(w) return w.execution.workflowId end,
    ExecutionStatus = function(w) return (w.status:gsub("^WORKFLOW_EXECUTION_STATUS_", ""):lower():gsub("^%l", string.upper)) end }
  local function filter(q)
    if not q or q == "" then return function() return true end end
    local conds = {}
    for part in (q .. " AND "):gmatch("(.-)%s+AND%s+") do
      local f, v = part:match("^%s*(%w+)%s*=%s*'([^']*)'%s*$")
      if not f or not FIELDS[f] then return nil, ("invalid query: unable to parse %q"):format(part) end
      conds[#conds + 1] = { f, v }
    end
    return function(w)
      for _, c in ipairs(conds) do if FIELDS[c[1]](w) ~= c[2] then return false end end
      return true
    end
  end

  local routes = { GET = {}, POST = {}, DELETE = {} }

  routes.GET["/api/v1/namespaces"] = function(req)
    local denied = guard(req, false)
    if denied then return denied end
    local q, perr = params(req, { pageSize = true, nextPageToken = true, ["namespaceFilter.includeDeleted"] = true })
    if not q then return perr end
    local list = {}
    local names = {}
    for n in pairs(self.namespaces) do names[#names + 1] = n end
    table.sort(names)
    for _, n in ipairs(names) do list[#list + 1] = self.namespaces[n] end
    local items, nxt = page(req, list, "pageSize")
    if not items then return nxt end
    return { status = 200, json = { namespaces = items, nextPageToken = nxt } }
  end

  routes.GET["/api/v1/namespaces/:ns"] = function(req)
    local denied = guard(req, false)
    if denied then return denied end
    local q, perr = params(req, { id = true })
    if not q then return perr end
    local ns, err = ns_of(req)
    if not ns then return err end
    return { status = 200, json = ns }
  end

  routes.GET["/api/v1/namespaces/:ns/workflows"] = function(req)
    local denied = guard(req, false)
    if denied then return denied end
    local q, perr = params(req, { pageSize = true, nextPageToken = true, query = true })
    if not q then return perr end
    local _, err = ns_of(req)
    if err then return err end
    local keep, ferr = filter(q.query)
    if not keep then return status(400, 3, ferr) end
    local list = {}
    for _, w in ipairs(self.workflows[req.params.ns] or {}) do
      if keep(w.info) then list[#list + 1] = w.info end
    end
    local items, nxt = page(req, list, "pageSize")
    if not items then return nxt end
    return { status = 200, json = { executions = items, nextPageToken = nxt } }
  end

  local function find(nsname, id, run_id)
    local found
    for _, w in ipairs(self.workflows[nsname] or {}) do
      if w.info.execution.workflowId == id and (not run_id or w.info.execution.runId == run_id) then found = w end
    end
    return found
  end

  routes.GET["/api/v1/namespaces/:ns/workflows/:id"] = function(req)
    local denied = guard(req, false)
    if denied then return denied end
    local q, perr = params(req, { ["execution.workflowId"] = true, ["execution.runId"] = true })
    if not q then return perr end
    local _, err = ns_of(req)
    if err then return err end
    local w = find(req.params.ns, req.params.id, q["execution.runId"])
    if not w then return status(404, 5, "workflow not found for ID: " .. req.params.id) end
    if opts.complete_after and w.info.status == "WORKFLOW_EXECUTION_STATUS_RUNNING" then
      w.reads = (w.reads or 0) + 1
      if w.reads >= opts.complete_after then
        w.info.status = "WORKFLOW_EXECUTION_STATUS_COMPLETED"
        w.info.closeTime = "2026-12-06T12:00:09Z"
      end
    end
    return { status = 200, json = { executionConfig = w.config, workflowExecutionInfo = w.info,
      pendingActivities = json.array({}) } }
  end

  routes.POST["/api/v1/namespaces/:ns/workflows/:id"] = function(req)
    local denied = guard(req, true)
    if denied then return denied end
    if next(req.query) then return invalid(req, "start takes no query parameters") end
    local b, berr = body_of(req, START_FIELDS)
    if not b then return berr end
    local _, err = ns_of(req)
    if err then return err end
    if b.workflowId and b.workflowId ~= req.params.id then return invalid(req, "workflowId differs from the path's") end
    if type(b.workflowType) ~= "table" or type(b.workflowType.name) ~= "string" then
      return invalid(req, "WorkflowType is not set on request.")
    end
    if type(b.taskQueue) ~= "table" or type(b.taskQueue.name) ~= "string" then
      return invalid(req, "TaskQueue is not set on request.")
    end
    if not check_payloads(req, b.input, "input") then return status(400, 3, "bad payloads") end
    if b.memo and type(b.memo.fields) ~= "table" then return invalid(req, "memo must be {fields: {...}}") end
    local cur = find(req.params.ns, req.params.id)
    if cur and cur.info.status == "WORKFLOW_EXECUTION_STATUS_RUNNING" then
      return status(409, 6, ("Workflow execution is already running. WorkflowId: %s, RunId: %s."):format(
        req.params.id, cur.info.execution.runId))
    end
    runs = runs + 1
    local run_id = ("0190c0de-0000-7000-8000-%012d"):format(runs)
    local w = { input = b.input, signals = {},
      info = { execution = { workflowId = req.params.id, runId = run_id }, type = { name = b.workflowType.name },
        startTime = "2026-12-06T12:00:00Z", status = "WORKFLOW_EXECUTION_STATUS_RUNNING",
        taskQueue = b.taskQueue.name, historyLength = "2", memo = b.memo },
      config = { taskQueue = { name = b.taskQueue.name, kind = "TASK_QUEUE_KIND_NORMAL" },
        workflowExecutionTimeout = b.workflowExecutionTimeout or "0s", workflowRunTimeout = b.workflowRunTimeout or "0s",
        defaultWorkflowTaskTimeout = b.workflowTaskTimeout or "10s" } }
    self.workflows[req.params.ns] = self.workflows[req.params.ns] or {}
    table.insert(self.workflows[req.params.ns], w)
    self.last_start = b
    return { status = 200, json = { runId = run_id, started = true } }
  end

  routes.POST["/api/v1/namespaces/:ns/workflows/:id/signal/:signal"] = function(req)
    local denied = guard(req, true)
    if denied then return denied end
    if next(req.query) then return invalid(req, "signal takes no query parameters") end
    local b, berr = body_of(req, SIGNAL_FIELDS)
    if not b then return berr end
    local _, err = ns_of(req)
    if err then return err end
    if b.signalName and b.signalName ~= req.params.signal then return invalid(req, "signalName differs from the path's") end
    if b.workflowExecution and b.workflowExecution.workflowId and b.workflowExecution.workflowId ~= req.params.id then
      return invalid(req, "workflowExecution.workflowId differs from the path's")
    end
    if not check_payloads(req, b.input, "input") then return status(400, 3, "bad payloads") end
    local w = find(req.params.ns, req.params.id, b.workflowExecution and b.workflowExecution.runId)
    if not w or w.info.status ~= "WORKFLOW_EXECUTION_STATUS_RUNNING" then
      return status(404, 5, "workflow execution already completed")
    end
    table.insert(w.signals, { name = req.params.signal, input = b.input })
    return { status = 200, json = {} }
  end

  routes.POST["/api/v1/namespaces/:ns/workflows/:id/terminate"] = function(req)
    local denied = guard(req, true)
    if denied then return denied end
    if next(req.query) then return invalid(req, "terminate takes no query parameters") end
    local b, berr = body_of(req, TERMINATE_FIELDS)
    if not b then return berr end
    local _, err = ns_of(req)
    if err then return err end
    local w = find(req.params.ns, req.params.id, b.workflowExecution and b.workflowExecution.runId)
    if not w or w.info.status ~= "WORKFLOW_EXECUTION_STATUS_RUNNING" then
      return status(404, 5, "workflow execution already completed")
    end
    w.info.status = "WORKFLOW_EXECUTION_STATUS_TERMINATED"
    w.info.closeTime = "2026-12-06T12:00:05Z"
    w.reason = b.reason
    return { status = 200, json = {} }
  end

  routes.GET["/api/v1/namespaces/:ns/schedules"] = function(req)
    local denied = guard(req, false)
    if denied then return denied end
    local q, perr = params(req, { maximumPageSize = true, nextPageToken = true, query = true })
    if not q then return perr end
    local _, err = ns_of(req)
    if err then return err end
    local list = {}
    local ids = {}
    for id in pairs(self.schedules[req.params.ns] or {}) do ids[#ids + 1] = id end
    table.sort(ids)
    for _, id in ipairs(ids) do
      local s = self.schedules[req.params.ns][id]
      list[#list + 1] = { scheduleId = id, memo = s.memo, info = { spec = s.schedule.spec,
        workflowType = s.schedule.action.startWorkflow.workflowType, paused = false } }
    end
    local items, nxt = page(req, list, "maximumPageSize")
    if not items then return nxt end
    return { status = 200, json = { schedules = items, nextPageToken = nxt } }
  end

  routes.GET["/api/v1/namespaces/:ns/schedules/:id"] = function(req)
    local denied = guard(req, false)
    if denied then return denied end
    if next(req.query) then return invalid(req, "describe schedule takes no query parameters") end
    local _, err = ns_of(req)
    if err then return err end
    local s = (self.schedules[req.params.ns] or {})[req.params.id]
    if not s then return status(404, 5, "schedule not found") end
    return { status = 200, json = { schedule = s.schedule, info = { actionCount = "0", createTime = "2026-12-06T12:00:00Z" },
      memo = s.memo, conflictToken = "AQ==" } }
  end

  routes.POST["/api/v1/namespaces/:ns/schedules/:id"] = function(req)
    local denied = guard(req, true)
    if denied then return denied end
    if next(req.query) then return invalid(req, "create schedule takes no query parameters") end
    local b, berr = body_of(req, SCHEDULE_FIELDS)
    if not b then return berr end
    local _, err = ns_of(req)
    if err then return err end
    local sch = b.schedule
    if type(sch) ~= "table" or type(sch.spec) ~= "table" or type(sch.action) ~= "table"
        or type(sch.action.startWorkflow) ~= "table" then
      return invalid(req, "schedule must have spec and action.startWorkflow")
    end
    local sw = sch.action.startWorkflow
    if type(sw.workflowType) ~= "table" or type(sw.taskQueue) ~= "table" or type(sw.workflowId) ~= "string" then
      return invalid(req, "action.startWorkflow needs workflowId, workflowType and taskQueue")
    end
    if not check_payloads(req, sw.input, "action.startWorkflow.input") then return status(400, 3, "bad payloads") end
    for _, iv in ipairs(sch.spec.interval or {}) do
      if type(iv.interval) ~= "string" or not iv.interval:match("^%d+s$") then
        return invalid(req, "spec.interval[].interval must be a duration such as \"3600s\"")
      end
    end
    self.schedules[req.params.ns] = self.schedules[req.params.ns] or {}
    if self.schedules[req.params.ns][req.params.id] then
      return status(409, 6, "schedule with this ID is already registered")
    end
    self.schedules[req.params.ns][req.params.id] = { schedule = sch, memo = b.memo }
    return { status = 200, json = { conflictToken = "AQ==" } }
  end

  routes.DELETE["/api/v1/namespaces/:ns/schedules/:id"] = function(req)
    local denied = guard(req, true)
    if denied then return denied end
    local q, perr = params(req, { identity = true })
    if not q then return perr end
    local _, err = ns_of(req)
    if err then return err end
    local s = (self.schedules[req.params.ns] or {})[req.params.id]
    if not s then return status(404, 5, "schedule not found") end
    self.schedules[req.params.ns][req.params.id] = nil
    return { status = 200, json = {} }
  end

  local server = http.server(routes, {
    host = "127.0.0.1", port = 0,
    after = function(req, resp)
      if resp.status == 404 and resp.json == nil and not tostring(resp.body or ""):find('"code"', 1, true) then
        violation(req, "no such endpoint in Temporal's HTTP API")
        return { status = 404, body = "Not Found" }
      elseif resp.status == 405 then
        violation(req, "method not allowed on this endpoint")
      end
    end,
  })
  self.url = "http://127.0.0.1:" .. server.port

  local function namespace(name)
    return { namespaceInfo = { name = name, state = "NAMESPACE_STATE_REGISTERED", id = "ns-" .. name },
      config = { workflowExecutionRetentionTtl = "259200s" }, isGlobalNamespace = false }
  end
  function self:reset()
    self.violations, self.requests = {}, {}
    self.namespaces = { default = namespace("default"), orders = namespace("orders"), ["temporal-system"] = namespace("temporal-system") }
    self.workflows, self.schedules = {}, {}
  end
  self:reset()
  function self:stop() server:stop() end
  function self:last() return self.requests[#self.requests] end
  return self
end

return fake
