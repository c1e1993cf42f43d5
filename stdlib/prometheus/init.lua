--- Prometheus HTTP API client (`/api/v1`, `/-/healthy`, `/-/ready`, `/-/reload`).
---
--- ```lua
--- local prometheus = require("assay.prometheus")
--- local c = prometheus.client{url = "http://prometheus:9090"}
--- print(c:query_scalar('sum(up{job="api"})'))
--- ```
---
--- Results are Prometheus' `data` with the `{status, data}` envelope removed; sample values are
--- numbers (`"NaN"`, `"+Inf"`, `"-Inf"` become `0/0`, `math.huge`, `-math.huge`). Failures raise
--- `"prometheus.<method>: <HTTP method> <path>: <status> <errorType>: <error>"`.
local M = {}

---@class prometheus.ClientOptions
---@field url? string base URL of the server (default: $PROMETHEUS_URL, then http://127.0.0.1:9090)
---@field timeout? number|false seconds per request (the http client's default: 60)
---@field ca_cert? string PEM file path or PEM text, added to the system roots
---@field insecure? boolean skip TLS verification
---@field headers? table<string, string> sent with every request (e.g. authorization)

---@class prometheus.Client
---@field url string
---@field private _http table
local Client = {}
Client.__index = Client

local OPTIONS = {url = true, timeout = true, ca_cert = true, insecure = true, headers = true}

-- The package's own source, to raise errors at the caller's line.
-- (debug.getinfo raises under --sandbox: then errors carry no position.)
local getinfo = select(2, pcall(function() return debug.getinfo end))
if type(getinfo) ~= "function" then getinfo = nil end
local SOURCE = getinfo and getinfo(1, "S").source

local function fail(msg)
  local level = 0
  if SOURCE then
    for l = 2, 40 do
      local info = getinfo(l, "S")
      if not info then break end
      if info.source ~= SOURCE then
        level = info.what == "C" and 0 or l
        break
      end
    end
  end
  error(msg, level)
end

local function check_opts(fn, opts, allowed)
  if opts == nil then return {} end
  if type(opts) ~= "table" then
    fail(("prometheus.%s: bad argument 'opts' (table or nil expected, got %s)"):format(fn, type(opts)))
  end
  for k in pairs(opts) do
    if not allowed[k] then
      local names = {}
      for name in pairs(allowed) do names[#names + 1] = name end
      table.sort(names)
      fail(("prometheus.%s: unknown option '%s' (expected %s)"):format(fn, tostring(k),
        table.concat(names, ", ")))
    end
  end
  return opts
end

--- Times as Prometheus reads them: epoch seconds (millisecond precision) or an RFC 3339 string.
local function time_param(fn, name, v)
  if v == nil then return nil end
  if type(v) == "number" then
    if math.type(v) == "integer" then return tostring(v) end
    return ("%.3f"):format(v)
  end
  if type(v) == "string" then return v end
  fail(("prometheus.%s: bad argument '%s' (number or string expected, got %s)"):format(fn, name, type(v)))
end

--- Durations: seconds (a number) or a Prometheus duration string ("30s", "5m").
local function duration_param(fn, name, v)
  if v == nil then return nil end
  if type(v) == "number" then
    if v <= 0 then fail(("prometheus.%s: bad argument '%s' (must be positive)"):format(fn, name)) end
    return math.type(v) == "integer" and tostring(v) or ("%.3f"):format(v)
  end
  if type(v) == "string" then return v end
  fail(("prometheus.%s: bad argument '%s' (number or string expected, got %s)"):format(fn, name, type(v)))
end

local function string_arg(fn, name, v)
  if type(v) ~= "string" or v == "" then
    fail(("prometheus.%s: bad argument '%s' (non-empty string expected, got %s)"):format(fn, name,
      v == "" and "an empty string" or type(v)))
  end
  return v
end

-- A series selector or a list of them -> the list sent as match[].
local function matchers(fn, name, v, required)
  if v == nil then
    if required then
      fail(("prometheus.%s: bad argument '%s' (a series selector or a list of them expected)"):format(fn, name))
    end
    return nil
  end
  if type(v) == "string" then return {v} end
  if type(v) == "table" and #v > 0 then
    for i, m in ipairs(v) do
      if type(m) ~= "string" then
        fail(("prometheus.%s: bad argument '%s' (item %d: string expected, got %s)"):format(fn, name, i, type(m)))
      end
    end
    return v
  end
  fail(("prometheus.%s: bad argument '%s' (a series selector or a list of them expected)"):format(fn, name))
end

-- The http client's message without its position and "http.Client:get: " prefix.
local function network_error(e)
  local msg = tostring(e)
  msg = msg:gsub("^[^\n]-%.lua:%d+: ", "", 1)
  msg = msg:gsub("^http%.Client:%a+: ", "", 1)
  return msg
end

-- A URL fit for a message: a password in it shown as ***.
local function shown_url(u)
  return (u:gsub("^(%a[%w+.-]*://[^/@:]*):[^/@]*@", "%1:***@"))
end

local function excerpt(text)
  text = (text or ""):gsub("%s+$", "")
  if #text > 500 then text = text:sub(1, 500) .. "..." end
  return text
end

-- Sends one request; returns the response. `req`: {query, form, timeout}.
function Client:_send(fn, method, path, req)
  local opts = {query = req.query, form = req.form, timeout = req.timeout}
  local ok, resp = pcall(self._http.request, self._http, method, path, opts)
  if not ok then
    fail(("prometheus.%s: %s %s: %s"):format(fn, method, path, network_error(resp)))
  end
  return resp
end

-- The reason of a failed response: Prometheus' errorType and error, else the body's text.
local function reason(resp)
  local ok, doc = pcall(json.parse, resp.body or "")
  if ok and type(doc) == "table" and doc.error then
    if doc.errorType then return ("%s: %s"):format(doc.errorType, doc.error) end
    return tostring(doc.error)
  end
  return excerpt(resp.body)
end

-- One API call: the decoded `data` of a success, or a raise naming method, path and reason.
function Client:_api(fn, method, path, req)
  local resp = self:_send(fn, method, path, req or {})
  -- client_golang's fallback: a server (or proxy) that refuses POST gets the GET.
  if resp.status == 405 and method == "POST" and req and req.form then
    method = "GET"
    resp = self:_send(fn, "GET", path, {query = req.form, timeout = req.timeout})
  end
  if resp.status < 200 or resp.status > 299 then
    fail(("prometheus.%s: %s %s: %d %s"):format(fn, method, path, resp.status, reason(resp)))
  end
  local ok, doc = pcall(json.parse, resp.body)
  if not ok or type(doc) ~= "table" then
    fail(("prometheus.%s: %s %s: %d the answer is not JSON: %s"):format(fn, method, path, resp.status,
      excerpt(resp.body)))
  end
  if doc.status ~= "success" then
    fail(("prometheus.%s: %s %s: %d %s"):format(fn, method, path, resp.status, reason(resp)))
  end
  local data = doc.data
  if doc.warnings and type(data) == "table" then data.warnings = doc.warnings end
  return data
end

local SPECIAL = {["NaN"] = 0 / 0, ["+Inf"] = math.huge, ["-Inf"] = -math.huge, ["Inf"] = math.huge}

local function number(s)
  if type(s) ~= "string" then return s end
  local special = SPECIAL[s]
  if special then return special end
  return tonumber(s) or s
end

-- [ts, "1.5"] -> [ts, 1.5] in place.
local function sample(pair)
  if type(pair) == "table" then pair[2] = number(pair[2]) end
end

local function histogram(pair)
  if type(pair) == "table" and type(pair[2]) == "table" then
    local h = pair[2]
    h.count = number(h.count)
    h.sum = number(h.sum)
  end
end

-- Sample values of a query result as numbers.
local function numbers(data)
  if type(data) ~= "table" then return data end
  local kind, result = data.resultType, data.result
  if kind == "scalar" then
    sample(result)
  elseif kind == "vector" then
    for _, series in ipairs(result) do
      sample(series.value)
      histogram(series.histogram)
    end
  elseif kind == "matrix" then
    for _, series in ipairs(result) do
      for _, pair in ipairs(series.values or {}) do sample(pair) end
      for _, pair in ipairs(series.histograms or {}) do histogram(pair) end
    end
  end
  return data
end

-- The http call's own timeout: the query's timeout and a little more, so Prometheus' own
-- "query timed out" is what the user sees.
local function call_timeout(t)
  if type(t) == "number" then return t + 5 end
  return nil
end

---@class prometheus.QueryOptions
---@field time? number|string evaluation time: epoch seconds or RFC 3339 (default: the server's now)
---@field timeout? number|string evaluation timeout: seconds or a duration ("30s")

---@class prometheus.QueryResult
---@field resultType "vector"|"matrix"|"scalar"|"string"
---@field result table vector/matrix: list of {metric, value|values}; scalar/string: {ts, value}
---@field warnings? string[]

--- Instant query (`POST /api/v1/query`, the PromQL form-encoded; GET when POST is refused).
---@param promql string
---@param opts? prometheus.QueryOptions
---@return prometheus.QueryResult
function Client:query(promql, opts)
  string_arg("query", "promql", promql)
  opts = check_opts("query", opts, {time = true, timeout = true})
  return numbers(self:_api("query", "POST", "/api/v1/query", {
    form = {
      query = promql,
      time = time_param("query", "time", opts.time),
      timeout = duration_param("query", "timeout", opts.timeout),
    },
    timeout = call_timeout(opts.timeout),
  }))
end

--- Range query (`POST /api/v1/query_range`).
---@param promql string
---@param start number|string epoch seconds or RFC 3339
---@param stop number|string epoch seconds or RFC 3339 (the API's `end`)
---@param step number|string resolution: seconds or a duration ("15s")
---@param opts? {timeout?: number|string}
---@return prometheus.QueryResult
function Client:query_range(promql, start, stop, step, opts)
  string_arg("query_range", "promql", promql)
  if start == nil then fail("prometheus.query_range: bad argument 'start' (number or string expected, got nil)") end
  if stop == nil then fail("prometheus.query_range: bad argument 'stop' (number or string expected, got nil)") end
  if step == nil then fail("prometheus.query_range: bad argument 'step' (number or string expected, got nil)") end
  opts = check_opts("query_range", opts, {timeout = true})
  return numbers(self:_api("query_range", "POST", "/api/v1/query_range", {
    form = {
      query = promql,
      start = time_param("query_range", "start", start),
      ["end"] = time_param("query_range", "stop", stop),
      step = duration_param("query_range", "step", step),
      timeout = duration_param("query_range", "timeout", opts.timeout),
    },
    timeout = call_timeout(opts.timeout),
  }))
end

--- The value of a query that gives one number: a scalar, or a vector of exactly one series.
--- nil when the vector is empty; raises when it has several series (sum them in PromQL).
---@param promql string
---@param opts? prometheus.QueryOptions
---@return number|nil
function Client:query_scalar(promql, opts)
  string_arg("query_scalar", "promql", promql)
  opts = check_opts("query_scalar", opts, {time = true, timeout = true})
  local data = numbers(self:_api("query_scalar", "POST", "/api/v1/query", {
    form = {
      query = promql,
      time = time_param("query_scalar", "time", opts.time),
      timeout = duration_param("query_scalar", "timeout", opts.timeout),
    },
    timeout = call_timeout(opts.timeout),
  }))
  if data.resultType == "scalar" then return data.result[2] end
  if data.resultType == "vector" then
    if #data.result == 0 then return nil end
    if #data.result == 1 then return data.result[1].value[2] end
    fail(("prometheus.query_scalar: %s gave %d series, expected at most one"):format(promql, #data.result))
  end
  fail(("prometheus.query_scalar: %s gave a %s, expected a scalar or a vector"):format(promql,
    tostring(data.resultType)))
end

---@class prometheus.RangeOptions
---@field start? number|string
---@field stop? number|string the API's `end`
---@field match? string|string[] series selectors (`match[]`)

local function range_form(fn, opts, match_required)
  return {
    ["match[]"] = matchers(fn, "match", opts.match, match_required),
    start = time_param(fn, "start", opts.start),
    ["end"] = time_param(fn, "stop", opts.stop),
  }
end

--- Series matching selectors (`POST /api/v1/series`): a list of label sets.
---@param match string|string[] one or more series selectors (`up`, `{job="api"}`)
---@param opts? {start?: number|string, stop?: number|string}
---@return table<string, string>[]
function Client:series(match, opts)
  opts = check_opts("series", opts, {start = true, stop = true})
  local form = range_form("series", {match = match, start = opts.start, stop = opts.stop}, true)
  return self:_api("series", "POST", "/api/v1/series", {form = form})
end

--- Label names (`POST /api/v1/labels`).
---@param opts? prometheus.RangeOptions
---@return string[]
function Client:labels(opts)
  opts = check_opts("labels", opts, {start = true, stop = true, match = true})
  return self:_api("labels", "POST", "/api/v1/labels", {form = range_form("labels", opts)})
end

--- Values of one label (`GET /api/v1/label/<name>/values`).
---@param label string
---@param opts? prometheus.RangeOptions
---@return string[]
function Client:label_values(label, opts)
  string_arg("label_values", "label", label)
  opts = check_opts("label_values", opts, {start = true, stop = true, match = true})
  return self:_api("label_values", "GET", "/api/v1/label/" .. url.encode(label) .. "/values",
    {query = range_form("label_values", opts)})
end

--- Active alerts (`GET /api/v1/alerts`): the list of `{labels, annotations, state, activeAt, value}`.
---@return table[]
function Client:alerts()
  return self:_api("alerts", "GET", "/api/v1/alerts").alerts
end

--- Rule groups (`GET /api/v1/rules`): the list of `{name, file, rules, interval, ...}`.
---@param opts? {type?: "alert"|"record"}
---@return table[]
function Client:rules(opts)
  opts = check_opts("rules", opts, {type = true})
  return self:_api("rules", "GET", "/api/v1/rules", {query = {type = opts.type}}).groups
end

--- Scrape targets (`GET /api/v1/targets`): `{activeTargets, droppedTargets}`.
---@param opts? {state?: "active"|"dropped"|"any"}
---@return {activeTargets: table[], droppedTargets: table[]}
function Client:targets(opts)
  opts = check_opts("targets", opts, {state = true})
  return self:_api("targets", "GET", "/api/v1/targets", {query = {state = opts.state}})
end

--- Metric metadata as scraped from targets (`GET /api/v1/targets/metadata`).
---@param opts? {match_target?: string, metric?: string, limit?: integer}
---@return table[] list of {target, metric, type, help, unit}
function Client:targets_metadata(opts)
  opts = check_opts("targets_metadata", opts, {match_target = true, metric = true, limit = true})
  return self:_api("targets_metadata", "GET", "/api/v1/targets/metadata", {
    query = {match_target = opts.match_target, metric = opts.metric, limit = opts.limit},
  })
end

--- Metric metadata (`GET /api/v1/metadata`): metric name -> list of {type, help, unit}.
---@param opts? {metric?: string, limit?: integer, limit_per_metric?: integer}
---@return table<string, table[]>
function Client:metadata(opts)
  opts = check_opts("metadata", opts, {metric = true, limit = true, limit_per_metric = true})
  return self:_api("metadata", "GET", "/api/v1/metadata", {
    query = {metric = opts.metric, limit = opts.limit, limit_per_metric = opts.limit_per_metric},
  })
end

local STATUS = {config = true, flags = true, buildinfo = true, runtimeinfo = true, tsdb = true,
  walreplay = true}

--- Server status (`GET /api/v1/status/<kind>`): `config` -> `{yaml}`, `flags` -> name -> value,
--- `buildinfo` -> `{version, revision, ...}`, `runtimeinfo`, `tsdb` -> `{headStats, ...}`,
--- `walreplay`.
---@param kind "config"|"flags"|"buildinfo"|"runtimeinfo"|"tsdb"|"walreplay"
---@return table
function Client:status(kind)
  if not STATUS[kind] then
    fail(("prometheus.status: bad argument 'kind' (config, flags, buildinfo, runtimeinfo, tsdb or walreplay expected, got %s)")
      :format(type(kind) == "string" and ("'" .. kind .. "'") or type(kind)))
  end
  return self:_api("status", "GET", "/api/v1/status/" .. kind)
end

-- /-/healthy and /-/ready: true on 200, false on another status; network failures raise.
function Client:_probe(fn, path)
  local resp = self:_send(fn, "GET", path, {})
  return resp.status == 200
end

--- Liveness (`GET /-/healthy`): true when Prometheus answers 200. Network failures raise.
---@return boolean
function Client:healthy()
  return self:_probe("healthy", "/-/healthy")
end

--- Readiness (`GET /-/ready`): true when Prometheus answers 200 (false while it starts: 503).
--- Network failures raise.
---@return boolean
function Client:ready()
  return self:_probe("ready", "/-/ready")
end

--- Polls `/-/ready` until it answers 200 (connection failures count as not ready yet).
--- Returns true; raises after `timeout` with the last state seen.
---@param opts? {timeout?: number, interval?: number} seconds (defaults 60 and 1)
---@return boolean
function Client:wait_ready(opts)
  opts = check_opts("wait_ready", opts, {timeout = true, interval = true})
  local timeout, interval = opts.timeout or 60, opts.interval or 1
  local deadline = time.monotonic() + timeout
  local last
  while true do
    local ok, resp = pcall(self._http.get, self._http, "/-/ready", {timeout = math.max(interval, 5)})
    if ok and resp.status == 200 then return true end
    last = ok and ("%d %s"):format(resp.status, excerpt(resp.body)) or network_error(resp)
    if time.monotonic() + interval > deadline then break end
    sleep(interval)
  end
  fail(("prometheus.wait_ready: %s not ready after %gs: %s"):format(shown_url(self.url), timeout, last))
end

--- Reloads the configuration and rule files (`POST /-/reload`; needs Prometheus started with
--- `--web.enable-lifecycle`). Returns true; raises with Prometheus' reason (403 "Lifecycle API
--- is not enabled.", 500 with the config error).
---@return boolean
function Client:reload()
  local resp = self:_send("reload", "POST", "/-/reload", {})
  if resp.status ~= 200 then
    fail(("prometheus.reload: POST /-/reload: %d %s"):format(resp.status, excerpt(resp.body)))
  end
  return true
end

--- A client for one Prometheus server; every call is a method on it.
---@param opts? prometheus.ClientOptions
---@return prometheus.Client
function M.client(opts)
  if opts ~= nil and type(opts) ~= "table" then
    fail(("prometheus.client: bad argument 'opts' (table or nil expected, got %s)"):format(type(opts)))
  end
  opts = opts or {}
  for k in pairs(opts) do
    if not OPTIONS[k] then
      fail(("prometheus.client: unknown option '%s' (expected url, timeout, ca_cert, insecure, headers)")
        :format(tostring(k)))
    end
  end
  local base = opts.url or env.get("PROMETHEUS_URL") or "http://127.0.0.1:9090"
  if type(base) ~= "string" or not base:match("^https?://") then
    fail(("prometheus.client: bad option 'url' (an http:// or https:// URL expected, got %s)"):format(
      type(base) == "string" and ("'" .. base .. "'") or type(base)))
  end
  base = base:gsub("/+$", "")
  local self = setmetatable({url = base}, Client)
  self._http = http.client{
    base_url = base,
    timeout = opts.timeout,
    ca_cert = opts.ca_cert,
    insecure = opts.insecure,
    headers = opts.headers,
  }
  return self
end

return M
