--- assay.k8s.stream: the client's streamed calls, `watch` and `follow_logs`, and `logs`.
--- Loaded by assay.k8s on first use of one of them.
---
--- A watch is an iterator over events `{type = "ADDED"|"MODIFIED"|"DELETED"|"BOOKMARK", object}`
--- that behaves as client-go's reflector: it starts from a list (the current objects come as
--- ADDED), then watches from the list's resourceVersion; when the server ends the stream (its
--- timeoutSeconds) or the connection drops, it watches again from the last resourceVersion it
--- saw; when that version is too old (410 Gone, the server compacted its history), it lists
--- again and reports the difference from what it had seen (ADDED, MODIFIED, DELETED), so the
--- loop's picture stays right. Breaking out of the loop closes the stream.

local k8s = require("assay.k8s")
local Client = k8s._Client
local api = require("assay.apiclient")
api.own_source()
local raise = api.raise

-- Consecutive failures to (re)open a watch before it gives up and raises.
local MAX_FAILURES = 5
-- The longest one watch request lasts before it is renewed (client-go: 5-10 minutes).
local REQUEST_SECONDS = 300

-- An iterator object: callable (the for loop's function), closable (`<close>`, or the for
-- loop's closing value when it is also returned fourth), `:close()`.
local Stream = {}
Stream.__index = Stream
Stream.__call = function(self) return self:_next() end
Stream.__close = function(self) self:close() end
Stream.__name = "k8s.Stream"

--- Ends the stream and closes its connection; the iterator then returns nil.
function Stream:close()
  self.done = true
  if self.resp then
    pcall(self.resp.close, self.resp)
    self.resp = nil
  end
end

local function new_stream(fields)
  local s = setmetatable(fields, Stream)
  return s, nil, nil, s
end

local function key_of(o)
  local md = o.metadata or {}
  return (md.namespace or "") .. "/" .. tostring(md.name)
end

local function remaining(deadline)
  if not deadline then return nil end
  return deadline - time.monotonic()
end

-- Watch ---------------------------------------------------------------------------------------

local WATCH_OPTIONS = {"namespace", "all_namespaces", "label_selector", "field_selector", "resource_version",
  "send_initial", "bookmarks", "timeout"}

---@class k8s.WatchOptions
---@field namespace? string
---@field all_namespaces? boolean
---@field label_selector? string|table
---@field field_selector? string|table
---@field resource_version? string start after this version (no initial list; its objects are not reported)
---@field send_initial? boolean report the objects that exist as ADDED first (default true; without resource_version)
---@field bookmarks? boolean also report BOOKMARK events (default false: they only move the resume point)
---@field timeout? number seconds the watch lasts in all; then the loop ends (default: until the loop breaks)

--- Watches a resource: `for ev in c:watch("pods", {namespace = "ci"}) do ... end`. Each event is
--- `{type, object}`. The stream resumes by itself (see the module's doc); it raises after five
--- failed attempts in a row to reopen it, or on an ERROR event other than 410.
---@param resource string
---@param opts? k8s.WatchOptions
---@return fun(): table|nil
function Client:watch(resource, opts)
  opts = api.check_options("k8s", "watch", 2, opts, WATCH_OPTIONS)
  local r = self:resource(resource, "watch", 1)
  api.check_field("k8s", "watch", 2, "resource_version", opts.resource_version, "string")
  api.check_field("k8s", "watch", 2, "timeout", opts.timeout, "number")
  local ns = (not opts.all_namespaces) and self:_ns(r, opts) or nil
  local q = self:_list_query("watch", 2, opts)
  local deadline = opts.timeout and time.monotonic() + opts.timeout or nil
  local s = {client = self, r = r, path = k8s.path(r, ns), query = q, deadline = deadline,
    rv = opts.resource_version, known = {}, queue = {}, head = 1, bookmarks = opts.bookmarks == true,
    failures = 0, list_opts = {namespace = ns, all_namespaces = ns == nil, label_selector = q.labelSelector,
      field_selector = q.fieldSelector}}
  if s.rv == nil then
    s.initial = opts.send_initial ~= false
  end
  return new_stream(s)
end

-- Lists, and queues what changed since what was seen (everything, the first time).
function Stream:_relist(report)
  local list = self.client:list(self.r, self.list_opts)
  local seen = {}
  for _, o in ipairs(list.items) do
    local k = key_of(o)
    seen[k] = true
    local before = self.known[k]
    if report then
      if before == nil then self:_push{type = "ADDED", object = o}
      elseif before.metadata.resourceVersion ~= o.metadata.resourceVersion then
        self:_push{type = "MODIFIED", object = o}
      end
    end
    self.known[k] = o
  end
  for k, o in pairs(self.known) do
    if not seen[k] then
      self.known[k] = nil
      if report then self:_push{type = "DELETED", object = o} end
    end
  end
  self.rv = list.metadata.resourceVersion
end

function Stream:_push(ev)
  self.queue[#self.queue + 1] = ev
end

function Stream:_pop()
  local ev = self.queue[self.head]
  if ev == nil then return nil end
  self.queue[self.head] = nil
  self.head = self.head + 1
  if self.queue[self.head] == nil then self.queue, self.head = {}, 1 end
  return ev
end

-- Opens the watch request from self.rv; false when it must be retried.
function Stream:_open()
  local q = {}
  for k, v in pairs(self.query) do q[k] = v end
  q.watch, q.allowWatchBookmarks, q.resourceVersion = "true", "true", self.rv
  local seconds = REQUEST_SECONDS
  local left = remaining(self.deadline)
  if left and left < seconds then seconds = math.max(1, math.ceil(left)) end
  q.timeoutSeconds = seconds
  local ok, resp, _, code = pcall(self.client._call, self.client, "watch", "GET", self.path,
    {query = q, stream = true, gone_ok = true, timeout = seconds + 30})
  if not ok then
    local msg = tostring(resp)
    self.failures = self.failures + 1
    -- an answer (403, 404, ...) is not a dropped connection: raise it now; a network failure
    -- is retried with a growing pause, five times in a row at most
    if msg:find("^k8s%.watch: GET /") or self.failures >= MAX_FAILURES then
      self:close()
      error(msg, 0)
    end
    sleep(math.min(0.2 * 2 ^ (self.failures - 1), 5))
    return false
  end
  if code == 410 then
    self:_relist(true)
    return false
  end
  self.resp = resp
  return true
end

function Stream:_next()
  while true do
    local ev = self:_pop()
    if ev then return ev end
    if self.done then return nil end
    local left = remaining(self.deadline)
    if left and left <= 0 then
      self:close()
      return nil
    end
    if self.rv == nil then
      self:_relist(false)
      if self.initial then
        for _, o in pairs(self.known) do self:_push{type = "ADDED", object = o} end
        table.sort(self.queue, function(a, b) return key_of(a.object) < key_of(b.object) end)
      end
    elseif not self.resp then
      self:_open()
    else
      local ok, line = pcall(self.resp.read_line, self.resp)
      if not ok or line == nil then
        -- the server ended the watch (its timeout) or the connection dropped: resume
        pcall(self.resp.close, self.resp)
        self.resp = nil
      elseif line ~= "" then
        self.failures = 0
        local okj, e = pcall(json.parse, line)
        if not okj or type(e) ~= "table" or type(e.object) ~= "table" then
          self:close()
          error(("k8s.watch: GET %s: a line that is not a watch event: %s"):format(self.path, line:sub(1, 200)), 0)
        end
        local md = e.object.metadata or {}
        if e.type == "ERROR" then
          pcall(self.resp.close, self.resp)
          self.resp = nil
          if e.object.code == 410 then
            self:_relist(true)
          else
            self:close()
            error(("k8s.watch: GET %s: %s %s"):format(self.path, tostring(e.object.code), k8s._error_text(line)), 0)
          end
        else
          if md.resourceVersion then self.rv = md.resourceVersion end
          if e.type == "BOOKMARK" then
            if self.bookmarks then return e end
          else
            local k = key_of(e.object)
            if e.type == "DELETED" then self.known[k] = nil else self.known[k] = e.object end
            return e
          end
        end
      end
    end
  end
end

-- Logs ----------------------------------------------------------------------------------------

local LOG_OPTIONS = {"namespace", "container", "tail", "since", "since_time", "previous", "timestamps", "limit_bytes"}

local function log_query(fname, opts)
  local function int(field)
    local v = opts[field]
    if v ~= nil and (math.type(v) ~= "integer" or v < 0) then
      raise(("k8s.%s: bad argument #2 'opts' (field '%s': non-negative integer expected, got %s)")
        :format(fname, field, tostring(v)))
    end
    return v
  end
  api.check_field("k8s", fname, 2, "container", opts.container, "string")
  api.check_field("k8s", fname, 2, "since_time", opts.since_time, "string")
  return {container = opts.container, tailLines = int("tail"), sinceSeconds = int("since"),
    sinceTime = opts.since_time, previous = opts.previous and "true" or nil,
    timestamps = opts.timestamps and "true" or nil, limitBytes = int("limit_bytes")}
end

---@class k8s.LogOptions
---@field namespace? string
---@field container? string which container (needed when the pod has several)
---@field tail? integer only the last lines
---@field since? integer only the last seconds
---@field since_time? string only after this RFC 3339 time
---@field previous? boolean the previous (crashed) container's log
---@field timestamps? boolean prefix each line with its RFC 3339 time
---@field limit_bytes? integer at most this many bytes

--- A pod's log as text (`GET .../pods/<name>/log`), or nil and the Status when the pod does
--- not exist.
---@param pod string
---@param opts? k8s.LogOptions
---@return string|nil
---@return table|nil status
function Client:logs(pod, opts)
  opts = api.check_options("k8s", "logs", 2, opts, LOG_OPTIONS)
  api.check_name("k8s", "logs", 1, "pod", pod)
  local r = self:resource("pods", "logs")
  local p = k8s.path(r, self:_ns(r, opts), pod, "log")
  local resp, st = self:_call("logs", "GET", p, {query = log_query("logs", opts), stream = true,
    absent_ok = true, accept = "*/*"})
  if not resp then return nil, st end
  local chunks = {}
  local ok, err = pcall(function()
    for _ = 1, math.huge do
      local piece = resp:read()
      if piece == nil then break end
      chunks[#chunks + 1] = piece
    end
  end)
  resp:close()
  if not ok then api.network_error("k8s", "logs", err) end
  return table.concat(chunks)
end

---@class k8s.FollowOptions: k8s.LogOptions
---@field timeout? number seconds to follow in all; then the loop ends (default: until the container ends or the loop breaks)

--- Follows a pod's log as it is written: `for line in c:follow_logs("job-x-abc") do ... end`.
--- The loop ends when the container ends (the server closes the stream), at `timeout`, or when
--- it breaks (which closes the stream). Raises when the pod does not exist.
---@param pod string
---@param opts? k8s.FollowOptions
---@return fun(): string|nil
function Client:follow_logs(pod, opts)
  local allowed = {"timeout"}
  for _, o in ipairs(LOG_OPTIONS) do allowed[#allowed + 1] = o end
  opts = api.check_options("k8s", "follow_logs", 2, opts, allowed)
  api.check_name("k8s", "follow_logs", 1, "pod", pod)
  api.check_field("k8s", "follow_logs", 2, "timeout", opts.timeout, "number")
  local r = self:resource("pods", "follow_logs")
  local p = k8s.path(r, self:_ns(r, opts), pod, "log")
  local q = log_query("follow_logs", opts)
  q.follow = "true"
  local deadline = opts.timeout and time.monotonic() + opts.timeout or nil
  local resp = self:_call("follow_logs", "GET", p, {query = q, stream = true, accept = "*/*",
    timeout = opts.timeout or false})
  local s = {resp = resp, deadline = deadline}
  s._next = function(self)
    if self.done then return nil end
    local left = remaining(self.deadline)
    if left and left <= 0 then self:close() return nil end
    local ok, line = pcall(self.resp.read_line, self.resp)
    if not ok then
      local timed_out = self.deadline and remaining(self.deadline) <= 0.05
      self:close()
      if timed_out then return nil end
      api.network_error("k8s", "follow_logs", line)
    end
    if line == nil then self:close() end
    return line
  end
  return new_stream(s)
end
