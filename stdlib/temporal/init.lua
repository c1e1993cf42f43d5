--- assay.temporal: a client for Temporal's HTTP API (the frontend's HTTP port, 7243 by default).
---
--- API reference followed: https://docs.temporal.io/references/http-api (paths from the
--- WorkflowService's HTTP annotations, OpenAPI at
--- https://github.com/temporalio/api/blob/master/openapi/openapiv3.yaml). Payloads use the HTTP
--- API's shorthand: a Payloads value is a JSON array of plain JSON values (json/plain).
---
--- local temporal = require("assay.temporal")
--- local c = temporal.client{url = "http://temporal:7243", namespace = "orders"}
--- local run = c:workflow_start{id = "order-42", type = "ProcessOrder", task_queue = "orders", input = {{id = 42}}}
--- c:workflow_signal("order-42", "approve", {input = {"ops"}})

---@class temporal
local M = {}

---@class temporal.Client
---@field url string the server's base URL (without credentials)
---@field namespace string the namespace used when a call names none
local Client = {}
Client.__index = Client
Client.__tostring = function(self) return "temporal.client(" .. rawget(self, "url") .. ")" end

local DEFAULT_URL = "http://localhost:7243"
local CLIENT_OPTIONS = { "url", "namespace", "api_key", "timeout", "ca_cert", "insecure", "headers" }
local MAX_PAGES = 1000

local api = require("assay.apiclient")
api.own_source()
local raise = api.raise

local function decode(resp) return api.decode_body(resp.body) end

-- Temporal's own error text: google.rpc.Status {code, message, details}, else the body's text.
local function error_text(resp)
  return api.error_text(resp.body, function(d) return d.message end)
end

local function seg(s) return url.encode(tostring(s)) end

local function check_name(fname, argn, argname, v)
  api.check_name("temporal", fname, argn, argname, v)
end

local function check_field(fname, argn, name, v, want)
  api.check_field("temporal", fname, argn, name, v, want)
end

-- A protobuf Duration from seconds ("90s") or a string already in that form.
local function duration(fname, argn, name, v)
  if v == nil then return nil end
  if type(v) == "number" and v >= 0 and v == v and v ~= math.huge then
    if v == math.floor(v) then return ("%ds"):format(math.floor(v)) end
    return ("%.3fs"):format(v)
  end
  if type(v) == "string" and v:match("^%d+%.?%d*s$") then return v end
  raise(("temporal.%s: bad argument #%d 'opts' (field '%s': seconds or a duration such as \"90s\" expected, got %s)"):format(
    fname, argn, name, tostring(v)))
end

-- Payloads in shorthand: a list of JSON values.
local function payloads(fname, argn, v)
  if v == nil then return nil end
  if type(v) ~= "table" then
    raise(("temporal.%s: bad argument #%d 'opts' (field 'input': a list of arguments expected, got %s)"):format(
      fname, argn, type(v)))
  end
  return v
end

-- Requests ------------------------------------------------------------------------------------

---@private
function Client:_call(fname, method, path, opts)
  opts = opts or {}
  local ropts = { query = opts.query }
  if opts.body ~= nil then ropts.body = opts.body end
  local ok, resp = pcall(self._http.request, self._http, method, self._prefix .. path, ropts)
  if not ok then api.network_error("temporal", fname, resp) end
  if resp.status >= 200 and resp.status < 300 then
    local body = decode(resp)
    if type(body) == "string" then
      error(("temporal.%s: %s %s: %d answer is not JSON: %s"):format(fname, method, path, resp.status,
        error_text(resp)), 0)
    end
    return body or {}
  end
  if resp.status == 404 and opts.absent_ok then return nil, decode(resp) end
  error(("temporal.%s: %s %s: %d %s"):format(fname, method, path, resp.status, error_text(resp)), 0)
end

-- Follows nextPageToken (bounded), collecting `field` of every page, up to `limit` items.
---@private
function Client:_pages(fname, path, field, query, limit)
  local out, token = {}, nil
  for _ = 1, MAX_PAGES do
    local q = {}
    for k, v in pairs(query) do q[k] = v end
    q.nextPageToken = token
    local page = self:_call(fname, "GET", path, { query = q })
    for _, item in ipairs(page[field] or {}) do
      out[#out + 1] = item
      if limit and #out >= limit then return out end
    end
    token = page.nextPageToken
    if token == nil or token == "" then return out end
  end
  return out
end

---@private
function Client:_ns(fname, argn, opts)
  local ns = opts.namespace or self.namespace
  if type(ns) ~= "string" or ns == "" then
    raise(("temporal.%s: bad argument #%d 'opts' (field 'namespace': non-empty string expected, got %s)"):format(
      fname, argn, type(ns)))
  end
  return "/api/v1/namespaces/" .. seg(ns)
end

-- Constructor ---------------------------------------------------------------------------------

---@class temporal.ClientOptions
---@field url? string base URL of the HTTP API (default: $TEMPORAL_HTTP_URL, then http://localhost:7243); a path is kept as a prefix
---@field namespace? string the default namespace (default: $TEMPORAL_NAMESPACE, then "default")
---@field api_key? string sent as `Authorization: Bearer` (default: $TEMPORAL_API_KEY)
---@field timeout? number|false seconds for each request
---@field ca_cert? string PEM file path or PEM text added to the system roots
---@field insecure? boolean skip TLS verification
---@field headers? table<string,string> extra headers sent with every request

--- Creates a client; one pooled HTTP client per Temporal client. Nothing is sent until a call.
---@param opts? temporal.ClientOptions
---@return temporal.Client
function M.client(opts)
  opts = api.check_options("temporal", "client", 1, opts, CLIENT_OPTIONS)
  for _, k in ipairs { "url", "namespace", "api_key" } do check_field("client", 1, k, opts[k], "string") end
  local raw = opts.url or api.env("TEMPORAL_HTTP_URL") or DEFAULT_URL
  local parts = api.split_url(raw)
  if not parts then
    raise(("temporal.client: bad url (an http(s) URL expected, got %q)"):format(api.mask_url(raw)))
  end
  local prefix = (parts.path or ""):gsub("/+$", "")
  parts.path, parts.query, parts.fragment = nil, nil, nil
  local base = url.build(parts):gsub("/+$", "")
  local headers = { accept = "application/json" }
  for k, v in pairs(opts.headers or {}) do headers[k] = v end
  local key = opts.api_key or api.env("TEMPORAL_API_KEY")
  if key then headers.authorization = "Bearer " .. key end
  local hopts = { base_url = base, headers = headers }
  if opts.timeout ~= nil then hopts.timeout = opts.timeout end
  if opts.ca_cert ~= nil then hopts.ca_cert = opts.ca_cert end
  if opts.insecure ~= nil then hopts.insecure = opts.insecure end
  local hok, hc = pcall(http.client, hopts)
  if not hok then raise("temporal.client: " .. api.strip_position(hc)) end
  return setmetatable({ url = base .. prefix, namespace = opts.namespace or api.env("TEMPORAL_NAMESPACE") or "default",
    _http = hc, _prefix = prefix }, Client)
end

-- Namespaces ----------------------------------------------------------------------------------

--- Namespaces (`GET /api/v1/namespaces`, every page): each `{namespaceInfo = {name, state, ...}, config, ...}`.
---@return table[]
function Client:namespaces()
  return self:_pages("namespaces", "/api/v1/namespaces", "namespaces", {})
end

--- One namespace (`GET /api/v1/namespaces/{namespace}`), or nil and Temporal's answer when absent.
---@param name? string default: the client's namespace
---@return table|nil
---@return table|nil err
function Client:namespace_describe(name)
  if name ~= nil then check_name("namespace_describe", 1, "name", name) end
  return self:_call("namespace_describe", "GET", "/api/v1/namespaces/" .. seg(name or self.namespace), { absent_ok = true })
end

-- Workflows -----------------------------------------------------------------------------------

--- Workflow executions (`GET /api/v1/namespaces/{ns}/workflows`, pages followed up to `limit`).
---@param opts? {query?: string, limit?: integer, namespace?: string} `query`: a visibility query such as "WorkflowType='ProcessOrder' AND ExecutionStatus='Running'"
---@return table[]
function Client:workflows(opts)
  opts = api.check_options("temporal", "workflows", 1, opts, { "query", "limit", "namespace" })
  check_field("workflows", 1, "query", opts.query, "string")
  if opts.limit ~= nil and (math.type(opts.limit) ~= "integer" or opts.limit <= 0) then
    raise("temporal.workflows: bad argument #1 'opts' (field 'limit': positive integer expected)")
  end
  return self:_pages("workflows", self:_ns("workflows", 1, opts) .. "/workflows", "executions",
    { query = opts.query }, opts.limit)
end

--- One workflow execution (`GET .../workflows/{id}`): `{executionConfig, workflowExecutionInfo =
--- {execution, type, status, ...}, pendingActivities, ...}`, or nil and Temporal's answer.
---@param id string the workflow id
---@param opts? {run_id?: string, namespace?: string}
---@return table|nil
---@return table|nil err
function Client:workflow_describe(id, opts)
  check_name("workflow_describe", 1, "id", id)
  opts = api.check_options("temporal", "workflow_describe", 2, opts, { "run_id", "namespace" })
  return self:_call("workflow_describe", "GET", self:_ns("workflow_describe", 2, opts) .. "/workflows/" .. seg(id),
    { query = { ["execution.runId"] = opts.run_id }, absent_ok = true })
end

---@class temporal.StartOptions
---@field id string the workflow id
---@field type string the workflow type
---@field task_queue string
---@field input? any[] the arguments, as JSON values
---@field namespace? string
---@field execution_timeout? number|string seconds or "3600s"
---@field run_timeout? number|string
---@field task_timeout? number|string
---@field request_id? string makes a retried start idempotent
---@field id_reuse_policy? string e.g. "WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE"
---@field memo? table<string, any>
---@field identity? string

--- Starts a workflow (`POST /api/v1/namespaces/{ns}/workflows/{id}`); returns `{runId, started}`.
--- An id already running raises with Temporal's 409 text.
---@param opts temporal.StartOptions
---@return table
function Client:workflow_start(opts)
  local allowed = { "id", "type", "task_queue", "input", "namespace", "execution_timeout", "run_timeout",
    "task_timeout", "request_id", "id_reuse_policy", "memo", "identity" }
  if type(opts) ~= "table" then
    raise(("temporal.workflow_start: bad argument #1 'opts' (table expected, got %s)"):format(type(opts)))
  end
  opts = api.check_options("temporal", "workflow_start", 1, opts, allowed)
  for _, k in ipairs { "id", "type", "task_queue" } do
    if type(opts[k]) ~= "string" or opts[k] == "" then
      raise(("temporal.workflow_start: bad argument #1 'opts' (field '%s': non-empty string expected, got %s)"):format(
        k, type(opts[k])))
    end
  end
  local memo
  if opts.memo ~= nil then
    check_field("workflow_start", 1, "memo", opts.memo, "table")
    memo = { fields = opts.memo }
  end
  local body = {
    workflowId = opts.id,
    workflowType = { name = opts.type },
    taskQueue = { name = opts.task_queue },
    input = payloads("workflow_start", 1, opts.input),
    workflowExecutionTimeout = duration("workflow_start", 1, "execution_timeout", opts.execution_timeout),
    workflowRunTimeout = duration("workflow_start", 1, "run_timeout", opts.run_timeout),
    workflowTaskTimeout = duration("workflow_start", 1, "task_timeout", opts.task_timeout),
    requestId = opts.request_id,
    workflowIdReusePolicy = opts.id_reuse_policy,
    identity = opts.identity,
    memo = memo,
  }
  return (self:_call("workflow_start", "POST", self:_ns("workflow_start", 1, opts) .. "/workflows/" .. seg(opts.id),
    { body = body }))
end

--- Signals a workflow (`POST .../workflows/{id}/signal/{signal}`): true, or nil and Temporal's
--- answer when the workflow is not found.
---@param id string
---@param signal string the signal name
---@param opts? {input?: any[], run_id?: string, namespace?: string, request_id?: string, identity?: string}
---@return true|nil
---@return table|nil err
function Client:workflow_signal(id, signal, opts)
  check_name("workflow_signal", 1, "id", id)
  check_name("workflow_signal", 2, "signal", signal)
  opts = api.check_options("temporal", "workflow_signal", 3, opts, { "input", "run_id", "namespace", "request_id", "identity" })
  local body = { workflowExecution = { workflowId = id, runId = opts.run_id }, signalName = signal,
    input = payloads("workflow_signal", 3, opts.input), requestId = opts.request_id, identity = opts.identity }
  local r, err = self:_call("workflow_signal", "POST",
    self:_ns("workflow_signal", 3, opts) .. "/workflows/" .. seg(id) .. "/signal/" .. seg(signal),
    { body = body, absent_ok = true })
  if r == nil then return nil, err end
  return true
end

--- Terminates a workflow (`POST .../workflows/{id}/terminate`): true, or nil and Temporal's
--- answer when not found.
---@param id string
---@param opts? {reason?: string, run_id?: string, namespace?: string, identity?: string}
---@return true|nil
---@return table|nil err
function Client:workflow_terminate(id, opts)
  check_name("workflow_terminate", 1, "id", id)
  opts = api.check_options("temporal", "workflow_terminate", 2, opts, { "reason", "run_id", "namespace", "identity" })
  check_field("workflow_terminate", 2, "reason", opts.reason, "string")
  local body = { workflowExecution = { workflowId = id, runId = opts.run_id }, reason = opts.reason, identity = opts.identity }
  local r, err = self:_call("workflow_terminate", "POST",
    self:_ns("workflow_terminate", 2, opts) .. "/workflows/" .. seg(id) .. "/terminate", { body = body, absent_ok = true })
  if r == nil then return nil, err end
  return true
end

local CLOSED_FAILED = { WORKFLOW_EXECUTION_STATUS_FAILED = true, WORKFLOW_EXECUTION_STATUS_TERMINATED = true,
  WORKFLOW_EXECUTION_STATUS_CANCELED = true, WORKFLOW_EXECUTION_STATUS_TIMED_OUT = true }

--- Waits until a workflow is closed, polling `GET .../workflows/{id}`; returns the description
--- when it COMPLETED (or reached `status`, e.g. "WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW").
--- Another closed status (failed, terminated, canceled, timed out) raises at once naming it; a
--- timeout raises with the last status seen.
---@param id string
---@param opts? {run_id?: string, namespace?: string, status?: string, timeout?: number, interval?: number}
---@return table
function Client:workflow_wait(id, opts)
  check_name("workflow_wait", 1, "id", id)
  opts = api.check_options("temporal", "workflow_wait", 2, opts, { "run_id", "namespace", "status", "timeout", "interval" })
  check_field("workflow_wait", 2, "status", opts.status, "string")
  local timeout, interval = api.wait_times("temporal", "workflow_wait", 2, opts)
  local want = opts.status or "WORKFLOW_EXECUTION_STATUS_COMPLETED"
  local path = self:_ns("workflow_wait", 2, opts) .. "/workflows/" .. seg(id)
  local ok, res = api.poll {
    timeout = timeout, interval = interval,
    try = function()
      local d = self:_call("workflow_wait", "GET", path, { query = { ["execution.runId"] = opts.run_id }, absent_ok = true })
      if d == nil then return false, "not found" end
      local st = (d.workflowExecutionInfo or {}).status or "unknown"
      if st == want then return true, d end
      if CLOSED_FAILED[st] then error(("temporal.workflow_wait: %s: %s"):format(id, st), 0) end
      return false, st
    end,
  }
  if ok then return res end
  error(("temporal.workflow_wait: %s: timed out after %gs; last state: %s"):format(id, timeout, tostring(res)), 0)
end

-- Schedules -----------------------------------------------------------------------------------

--- Schedules (`GET /api/v1/namespaces/{ns}/schedules`, every page): each `{scheduleId, info, memo}`.
---@param opts? {query?: string, namespace?: string}
---@return table[]
function Client:schedules(opts)
  opts = api.check_options("temporal", "schedules", 1, opts, { "query", "namespace" })
  check_field("schedules", 1, "query", opts.query, "string")
  return self:_pages("schedules", self:_ns("schedules", 1, opts) .. "/schedules", "schedules", { query = opts.query })
end

--- One schedule (`GET .../schedules/{id}`): `{schedule, info, memo, conflictToken}`, or nil and
--- Temporal's answer.
---@param id string
---@param opts? {namespace?: string}
---@return table|nil
---@return table|nil err
function Client:schedule_describe(id, opts)
  check_name("schedule_describe", 1, "id", id)
  opts = api.check_options("temporal", "schedule_describe", 2, opts, { "namespace" })
  return self:_call("schedule_describe", "GET", self:_ns("schedule_describe", 2, opts) .. "/schedules/" .. seg(id),
    { absent_ok = true })
end

--- Creates a schedule (`POST .../schedules/{id}`); returns `{conflictToken}`.
---@param id string
---@param schedule table a Schedule: `{spec = {interval = {{interval = "3600s"}}, cronString = {...}}, action = {startWorkflow = {workflowId, workflowType = {name}, taskQueue = {name}, input = {...}}}, policies, state}`
---@param opts? {namespace?: string, request_id?: string, identity?: string, memo?: table}
---@return table
function Client:schedule_create(id, schedule, opts)
  check_name("schedule_create", 1, "id", id)
  if type(schedule) ~= "table" or type(schedule.spec) ~= "table" or type(schedule.action) ~= "table" then
    raise(("temporal.schedule_create: bad argument #2 'schedule' (a Schedule with spec and action expected, got %s)"):format(
      type(schedule)))
  end
  opts = api.check_options("temporal", "schedule_create", 3, opts, { "namespace", "request_id", "identity", "memo" })
  local body = { scheduleId = id, schedule = schedule, requestId = opts.request_id, identity = opts.identity,
    memo = opts.memo and { fields = opts.memo } }
  return (self:_call("schedule_create", "POST", self:_ns("schedule_create", 3, opts) .. "/schedules/" .. seg(id),
    { body = body }))
end

--- Deletes a schedule (`DELETE .../schedules/{id}`): true, or nil and Temporal's answer when absent.
---@param id string
---@param opts? {namespace?: string, identity?: string}
---@return true|nil
---@return table|nil err
function Client:schedule_delete(id, opts)
  check_name("schedule_delete", 1, "id", id)
  opts = api.check_options("temporal", "schedule_delete", 2, opts, { "namespace", "identity" })
  local r, err = self:_call("schedule_delete", "DELETE", self:_ns("schedule_delete", 2, opts) .. "/schedules/" .. seg(id),
    { query = { identity = opts.identity }, absent_ok = true })
  if r == nil then return nil, err end
  return true
end

return M
