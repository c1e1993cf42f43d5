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
--- `"prometheus.<method>: <HTTP method> <path>: <status> <errorType>: <error>"` (no position);
--- bad arguments raise at the caller's line.
local M = {}

---@class prometheus.ClientOptions
---@field url? string base URL of the server (default: $PROMETHEUS_URL, then http://localhost:9090); user:password@ in it becomes basic authorization
---@field timeout? number|false seconds per request (the http client's default: 60)
---@field ca_cert? string PEM file path or PEM text, added to the system roots
---@field insecure? boolean skip TLS verification
---@field headers? table<string, string> sent with every request (e.g. authorization)

---@class prometheus.Client
---@field url string the base URL, without credentials
---@field private _http table
---@field private _auth? table
---@field private _timeout? number|false
local Client = {}
Client.__index = Client

local OPTIONS = {url = true, timeout = true, ca_cert = true, insecure = true, headers = true}

-- The packages' shared internals: bad arguments at the caller's line (none under --sandbox),
-- option checks, network errors, URL masking, environment defaults, bounded polling.
local api = require("assay.apiclient")
api.own_source()
local fail = api.raise

-- Errors of a call (HTTP status, network, a wait that timed out) carry no position.
local function call_error(msg)
  error(msg, 0)
end

local function check_opts(fn, argn, opts, allowed)
  return api.check_options("prometheus", fn, argn, opts, allowed, "opts", "table or nil")
end

-- `what` names the argument in messages: "#2 'opts.time'".
local function bad(fn, what, expected, v)
  fail(("prometheus.%s: bad argument %s (%s expected, got %s)"):format(fn, what, expected,
    type(v) == "string" and ("'" .. v .. "'") or type(v)))
end

local function seconds_text(v)
  if math.type(v) == "integer" then return tostring(v) end
  return ("%.3f"):format(v)
end

--- Times as Prometheus reads them: epoch seconds (a number, millisecond precision) or a string
--- time.parse reads (RFC 3339, a date, an HTTP date); sent as epoch seconds.
local function time_param(fn, what, v)
  if v == nil then return nil end
  if type(v) == "number" and v == v and v > -math.huge and v < math.huge then return seconds_text(v) end
  if type(v) == "string" then
    local ok, t = pcall(time.parse, v)
    if ok then return seconds_text(t) end
  end
  bad(fn, what, "epoch seconds or an RFC 3339 string", v)
end

--- Durations: seconds (a number) or a Prometheus duration string ("30s", "5m", "1h30m").
local function duration_param(fn, what, v)
  if v == nil then return nil end
  if type(v) == "number" and v > 0 and v < math.huge then return seconds_text(v) end
  if type(v) == "string" and v:match("^%d[%d.smhdwy]*$") then return v end
  bad(fn, what, 'positive seconds or a duration like "30s"', v)
end

local function string_arg(fn, what, v)
  if type(v) ~= "string" or v == "" then
    fail(("prometheus.%s: bad argument %s (non-empty string expected, got %s)"):format(fn, what,
      v == "" and "an empty string" or type(v)))
  end
  return v
end

-- A series selector or a list of them -> the list sent as match[].
local function matchers(fn, what, v, required)
  if v == nil then
    if required then bad(fn, what, "a series selector or a list of them", v) end
    return nil
  end
  if type(v) == "string" then return {v} end
  if type(v) == "table" and #v > 0 then
    for i, m in ipairs(v) do
      if type(m) ~= "string" then
        fail(("prometheus.%s: bad argument %s (item %d: string expected, got %s)"):format(fn, what, i, type(m)))
      end
    end
    return v
  end
  bad(fn, what, "a series selector or a list of them", v)
end

local network_error = api.strip_position

-- A URL fit for a message: the password (or a lone token) in its userinfo shown as ***.
local function shown_url(u)
  return api.mask_url(u, true)
end

local function excerpt(text)
  text = (text or ""):gsub("%s+$", "")
  if #text > 500 then text = text:sub(1, 500) .. "..." end
  return text
end

-- Sends one request; returns the response. `req`: {query, form, timeout}.
---@private
function Client:_send(fn, method, path, req)
  local opts = {query = req.query, form = req.form, timeout = req.timeout, auth = self._auth}
  local ok, resp = pcall(self._http.request, self._http, method, path, opts)
  if not ok then
    api.network_error("prometheus", fn, resp)
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
---@private
function Client:_api(fn, method, path, req)
  local resp = self:_send(fn, method, path, req or {})
  -- client_golang's fallback: a server (or proxy) that refuses POST gets the GET.
  if resp.status == 405 and method == "POST" and req and req.form then
    method = "GET"
    resp = self:_send(fn, "GET", path, {query = req.form, timeout = req.timeout})
  end
  if resp.status < 200 or resp.status > 299 then
    call_error(("prometheus.%s: %s %s: %d %s"):format(fn, method, path, resp.status, reason(resp)))
  end
  local ok, doc = pcall(json.parse, resp.body)
  if not ok or type(doc) ~= "table" then
    call_error(("prometheus.%s: %s %s: %d the answer is not JSON: %s"):format(fn, method, path, resp.status,
      excerpt(resp.body)))
  end
  if doc.status ~= "success" then
    call_error(("prometheus.%s: %s %s: %d %s"):format(fn, method, path, resp.status, reason(resp)))
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
  string_arg("query", "#1 'promql'", promql)
  opts = check_opts("query", 2, opts, {time = true, timeout = true})
  return numbers(self:_api("query", "POST", "/api/v1/query", {
    form = {
      query = promql,
      time = time_param("query", "#2 'opts.time'", opts.time),
      timeout = duration_param("query", "#2 'opts.timeout'", opts.timeout),
    },
    timeout = call_timeout(opts.timeout),
  }))
end

---@class prometheus.QueryRangeOptions
---@field start number|string epoch seconds or RFC 3339
---@field stop number|string epoch seconds or RFC 3339 (the API's `end`)
---@field step number|string resolution: seconds or a duration ("15s")
---@field timeout? number|string evaluation timeout: seconds or a duration ("30s")

--- Range query (`POST /api/v1/query_range`).
---@param promql string
---@param opts prometheus.QueryRangeOptions
---@return prometheus.QueryResult
function Client:query_range(promql, opts)
  string_arg("query_range", "#1 'promql'", promql)
  if opts == nil then bad("query_range", "#2 'opts'", "a table {start, stop, step}", opts) end
  opts = check_opts("query_range", 2, opts, {start = true, stop = true, step = true, timeout = true})
  for _, name in ipairs({"start", "stop", "step"}) do
    if opts[name] == nil then
      bad("query_range", "#2 'opts." .. name .. "'", name == "step" and "seconds or a duration"
        or "epoch seconds or an RFC 3339 string", nil)
    end
  end
  return numbers(self:_api("query_range", "POST", "/api/v1/query_range", {
    form = {
      query = promql,
      start = time_param("query_range", "#2 'opts.start'", opts.start),
      ["end"] = time_param("query_range", "#2 'opts.stop'", opts.stop),
      step = duration_param("query_range", "#2 'opts.step'", opts.step),
      timeout = duration_param("query_range", "#2 'opts.timeout'", opts.timeout),
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
  string_arg("query_scalar", "#1 'promql'", promql)
  opts = check_opts("query_scalar", 2, opts, {time = true, timeout = true})
  local data = numbers(self:_api("query_scalar", "POST", "/api/v1/query", {
    form = {
      query = promql,
      time = time_param("query_scalar", "#2 'opts.time'", opts.time),
      timeout = duration_param("query_scalar", "#2 'opts.timeout'", opts.timeout),
    },
    timeout = call_timeout(opts.timeout),
  }))
  if data.resultType == "scalar" then return data.result[2] end
  if data.resultType == "vector" then
    if #data.result == 0 then return nil end
    if #data.result == 1 then return data.result[1].value[2] end
    call_error(("prometheus.query_scalar: %s gave %d series, expected at most one"):format(promql, #data.result))
  end
  call_error(("prometheus.query_scalar: %s gave a %s, expected a scalar or a vector"):format(promql,
    tostring(data.resultType)))
end

---@class prometheus.RangeOptions
---@field start? number|string
---@field stop? number|string the API's `end`
---@field match? string|string[] series selectors (`match[]`)

-- `argn`: the position of opts; series' match is argument #1.
local function range_form(fn, argn, opts, match)
  local m
  if match ~= nil then
    m = matchers(fn, "#1 'match'", match, true)
  else
    m = matchers(fn, ("#%d 'opts.match'"):format(argn), opts.match)
  end
  return {
    ["match[]"] = m,
    start = time_param(fn, ("#%d 'opts.start'"):format(argn), opts.start),
    ["end"] = time_param(fn, ("#%d 'opts.stop'"):format(argn), opts.stop),
  }
end

--- Series matching selectors (`POST /api/v1/series`): a list of label sets.
---@param match string|string[] one or more series selectors (`up`, `{job="api"}`)
---@param opts? {start?: number|string, stop?: number|string}
---@return table<string, string>[]
function Client:series(match, opts)
  opts = check_opts("series", 2, opts, {start = true, stop = true})
  if match == nil then bad("series", "#1 'match'", "a series selector or a list of them", match) end
  local form = range_form("series", 2, opts, match)
  return self:_api("series", "POST", "/api/v1/series", {form = form})
end

--- Label names (`POST /api/v1/labels`).
---@param opts? prometheus.RangeOptions
---@return string[]
function Client:labels(opts)
  opts = check_opts("labels", 1, opts, {start = true, stop = true, match = true})
  return self:_api("labels", "POST", "/api/v1/labels", {form = range_form("labels", 1, opts)})
end

--- Values of one label (`GET /api/v1/label/<name>/values`).
---@param label string
---@param opts? prometheus.RangeOptions
---@return string[]
function Client:label_values(label, opts)
  string_arg("label_values", "#1 'label'", label)
  opts = check_opts("label_values", 2, opts, {start = true, stop = true, match = true})
  return self:_api("label_values", "GET", "/api/v1/label/" .. url.encode(label) .. "/values",
    {query = range_form("label_values", 2, opts)})
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
  opts = check_opts("rules", 1, opts, {type = true})
  return self:_api("rules", "GET", "/api/v1/rules", {query = {type = opts.type}}).groups
end

--- Scrape targets (`GET /api/v1/targets`): `{activeTargets, droppedTargets}`.
---@param opts? {state?: "active"|"dropped"|"any"}
---@return {activeTargets: table[], droppedTargets: table[]}
function Client:targets(opts)
  opts = check_opts("targets", 1, opts, {state = true})
  return self:_api("targets", "GET", "/api/v1/targets", {query = {state = opts.state}})
end

--- Metric metadata as scraped from targets (`GET /api/v1/targets/metadata`).
---@param opts? {match_target?: string, metric?: string, limit?: integer}
---@return table[] list of {target, metric, type, help, unit}
function Client:targets_metadata(opts)
  opts = check_opts("targets_metadata", 1, opts, {match_target = true, metric = true, limit = true})
  return self:_api("targets_metadata", "GET", "/api/v1/targets/metadata", {
    query = {match_target = opts.match_target, metric = opts.metric, limit = opts.limit},
  })
end

--- Metric metadata (`GET /api/v1/metadata`): metric name -> list of {type, help, unit}.
---@param opts? {metric?: string, limit?: integer, limit_per_metric?: integer}
---@return table<string, table[]>
function Client:metadata(opts)
  opts = check_opts("metadata", 1, opts, {metric = true, limit = true, limit_per_metric = true})
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
    fail(("prometheus.status: bad argument #1 'kind' (config, flags, buildinfo, runtimeinfo, tsdb or walreplay expected, got %s)")
      :format(type(kind) == "string" and ("'" .. kind .. "'") or type(kind)))
  end
  return self:_api("status", "GET", "/api/v1/status/" .. kind)
end

-- /-/healthy and /-/ready: true on 200, false on another status; network failures raise.
---@private
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

--- Polls `/-/ready` until it answers 200 (connection failures count as not ready yet); each
--- poll is bounded by the time left. Returns Prometheus' answer ("Prometheus Server is Ready.");
--- raises after `timeout` with the last state seen.
---@param opts? {timeout?: number, interval?: number} seconds (defaults 60 and 1)
---@return string
function Client:wait_ready(opts)
  opts = check_opts("wait_ready", 1, opts, {timeout = true, interval = true})
  local timeout, interval = api.wait_times("prometheus", "wait_ready", 1, opts)
  local ok, answer = api.poll{timeout = timeout, interval = interval, per_request = self._timeout,
    floor = 0.05, try = function(limit)
      local ok, resp = pcall(self._http.request, self._http, "GET", "/-/ready",
        {timeout = limit, auth = self._auth})
      if ok and resp.status == 200 then return true, (excerpt(resp.body)) end
      return false, ok and ("%d %s"):format(resp.status, excerpt(resp.body)) or network_error(resp)
    end}
  if ok then return answer end
  local last = answer
  call_error(("prometheus.wait_ready: %s not ready after %gs: %s"):format(self.url, timeout, last))
end

--- Reloads the configuration and rule files (`POST /-/reload`; needs Prometheus started with
--- `--web.enable-lifecycle`). Returns true; raises with Prometheus' reason (403 "Lifecycle API
--- is not enabled.", 500 with the config error).
---@return boolean
function Client:reload()
  local resp = self:_send("reload", "POST", "/-/reload", {})
  if resp.status ~= 200 then
    call_error(("prometheus.reload: POST /-/reload: %d %s"):format(resp.status, excerpt(resp.body)))
  end
  return true
end

local OPTION_LIST = {"url", "timeout", "ca_cert", "insecure", "headers"}

--- A client for one Prometheus server; every call is a method on it.
---@param opts? prometheus.ClientOptions
---@return prometheus.Client
function M.client(opts)
  if opts ~= nil and type(opts) ~= "table" then
    fail(("prometheus.client: bad argument #1 'opts' (table or nil expected, got %s)"):format(type(opts)))
  end
  opts = opts or {}
  api.unknown_options("prometheus", "client", "#1 'opts'", opts, OPTION_LIST)
  local raw = opts.url
  if raw == nil then raw = api.env("PROMETHEUS_URL") or "http://localhost:9090" end
  local parts, cred
  if type(raw) == "string" and raw:match("^[hH][tT][tT][pP][sS]?://") then
    parts, cred = api.split_url(raw)
  end
  if not parts then
    fail(("prometheus.client: bad argument #1 'opts' (url: an http:// or https:// URL expected, got %s)"):format(
      type(raw) == "string" and ("'" .. shown_url(raw) .. "'") or type(raw)))
  end
  -- the URL's credentials (decoded) become basic authorization on every request
  local auth = cred and {cred.user, cred.password}
  local base = url.build(parts):gsub("/+$", "")
  local self = setmetatable({url = base, _auth = auth, _timeout = opts.timeout}, Client)
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
