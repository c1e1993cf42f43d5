--- assay.loki: a client for the Grafana Loki HTTP API.
---
--- API reference followed: https://grafana.com/docs/loki/latest/reference/loki-http-api/
---
--- local loki = require("assay.loki")
--- local c = loki.client{url = "http://loki:3100", tenant = "team-a"}
--- c:push({app = "web"}, {"started", "listening on :8080"})
--- local r = c:query_range(loki.selector{app = "web"}, {since = "1h", limit = 100})

---@class loki
local M = {}

---@class loki.Client
---@field url string the server's base URL (without credentials)
---@field tenant string|nil the tenant sent as X-Scope-OrgID
local Client = {}
Client.__index = Client

local DEFAULT_URL = "http://localhost:3100"

local CLIENT_OPTIONS = { "url", "tenant", "timeout", "ca_cert", "insecure", "headers", "auth" }

-- Helpers -------------------------------------------------------------------------------------

-- The packages' shared internals: bad arguments at the caller's line, option checks, network
-- errors, URL masking, environment defaults, bounded polling.
local api = require("assay.apiclient")
api.own_source()
local raise = api.raise

local function check_options(fname, opts, allowed, argn, argname)
  return api.check_options("loki", fname, argn, opts, allowed, argname)
end

local nonempty_env = api.env

local mask_url = api.mask_url

local strip_location = api.strip_position

local function trim(s)
  return (s:gsub("^%s+", ""):gsub("%s+$", ""))
end

-- The service's own error text: Loki answers plain text; a gateway may answer JSON.
local function error_text(resp)
  local body = resp.body or ""
  local ctype = resp.headers and resp.headers["content-type"] or ""
  if ctype:find("json", 1, true) or body:match("^%s*{") then
    local ok, decoded = pcall(json.parse, body)
    if ok and type(decoded) == "table" then
      local msg = decoded.error or decoded.message
      if type(msg) == "string" then return msg end
    end
  end
  body = trim(body)
  if #body > 512 then body = body:sub(1, 512) .. "..." end
  return body
end

-- Bad-argument messages about one part of an argument, in the builtins' wording:
-- bad(fname, field(2, "opts", "start"), "...") raises
-- "loki.<fname>: bad argument #2 'opts' (field 'start': ...)".
local function field(argn, argname, name)
  return ("#%d '%s' (field '%s'"):format(argn, argname, name)
end
local function bad(fname, at, detail)
  raise(("loki.%s: bad argument %s: %s)"):format(fname, at, detail))
end

-- Nanoseconds since the epoch as a string of digits, from seconds (a number, kept to the
-- microsecond), a string of digits (already nanoseconds) or an RFC 3339 string.
local function to_ns(fname, at, v)
  if type(v) == "number" then
    if v ~= v or v < 0 or v == math.huge then
      bad(fname, at, ("a time in seconds since the epoch expected, got %s"):format(tostring(v)))
    end
    local s = math.floor(v)
    local us = math.floor((v - s) * 1e6 + 0.5)
    if us >= 1000000 then s, us = s + 1, us - 1000000 end
    if s == 0 then return tostring(us * 1000) end
    return ("%d%06d000"):format(s, us)
  elseif type(v) == "string" then
    if v:match("^%d+$") then return v end
    local ok, t = pcall(time.parse, v)
    if not ok then
      bad(fname, at, ("seconds, nanoseconds as a string of digits or RFC 3339 expected, got %q"):format(v))
    end
    local frac = v:match("%d%d:%d%d:%d%d[.,](%d+)")
    local ns = frac and tonumber((frac .. "000000000"):sub(1, 9)) or 0
    local s = math.floor(t - ns / 1e9 + 0.5)
    if s < 0 then
      bad(fname, at, ("before 1970: %q"):format(v))
    end
    if s == 0 then return tostring(ns) end
    return ("%d%09d"):format(s, ns)
  end
  bad(fname, at, ("number or string expected, got %s"):format(type(v)))
end

-- A duration for `since` (Loki reads it as a Prometheus duration such as "1h" or "90s").
local function to_duration(fname, at, v)
  if type(v) == "number" then
    if v ~= v or v < 0 or v == math.huge then
      bad(fname, at, ("seconds expected, got %s"):format(tostring(v)))
    end
    if v == math.floor(v) then return ("%ds"):format(math.floor(v)) end
    return ("%dms"):format(math.floor(v * 1000 + 0.5))
  elseif type(v) == "string" and v:match("^%d") then
    return v
  end
  bad(fname, at, ("seconds or a duration such as \"1h\" expected, got %s"):format(
    type(v) == "string" and ("%q"):format(v) or type(v)))
end

-- `step` and `interval`: Loki reads float seconds or a duration.
local function to_step(fname, at, v)
  if type(v) == "number" then
    if v ~= v or v <= 0 or v == math.huge then
      bad(fname, at, ("positive seconds expected, got %s"):format(tostring(v)))
    end
    if v == math.floor(v) then return ("%d"):format(math.floor(v)) end
    return ("%.6g"):format(v)
  end
  return to_duration(fname, at, v)
end

local function to_limit(fname, at, v)
  if math.type(v) == "float" and v == math.floor(v) then v = math.floor(v) end
  if math.type(v) ~= "integer" or v <= 0 then
    bad(fname, at, ("positive integer expected, got %s"):format(tostring(v)))
  end
  return tostring(v)
end

local function to_direction(fname, at, v)
  if v ~= "forward" and v ~= "backward" then
    bad(fname, at, ("\"forward\" or \"backward\" expected, got %s"):format(tostring(v)))
  end
  return v
end

local function check_string(fname, argn, argname, v)
  if type(v) ~= "string" or v == "" then
    raise(("loki.%s: bad argument #%d '%s' (non-empty string expected, got %s)"):format(
      fname, argn, argname, type(v) == "string" and "an empty string" or type(v)))
  end
end

-- Sample values of vectors and matrices become numbers ("NaN" and "+Inf" included).
local function sample_number(s)
  if type(s) ~= "string" then return s end
  local n = tonumber(s)
  if n then return n end
  if s == "NaN" then return 0 / 0 end
  if s == "+Inf" or s == "Inf" then return math.huge end
  if s == "-Inf" then return -math.huge end
  return s
end

local function convert_samples(data)
  if type(data) ~= "table" or type(data.result) ~= "table" then return data end
  if data.resultType == "vector" then
    for _, sample in ipairs(data.result) do
      if type(sample.value) == "table" then sample.value[2] = sample_number(sample.value[2]) end
    end
  elseif data.resultType == "matrix" then
    for _, series in ipairs(data.result) do
      for _, point in ipairs(series.values or {}) do point[2] = sample_number(point[2]) end
    end
  end
  return data
end

-- Requests ------------------------------------------------------------------------------------

---@private
function Client:_request(fname, method, path, opts)
  local ropts = { query = opts and opts.query, auth = self._auth }
  if opts and opts.body ~= nil then ropts.body = opts.body end
  if opts and opts.timeout ~= nil then ropts.timeout = opts.timeout end
  local ok, resp = pcall(self._http.request, self._http, method, self._prefix .. path, ropts)
  if not ok then
    api.network_error("loki", fname, resp)
  end
  return resp
end

---@private
function Client:_fail(fname, method, path, resp)
  error(("loki.%s: %s %s: %d %s"):format(fname, method, path, resp.status, error_text(resp)), 0)
end

-- A GET whose answer is Loki's {status, data} envelope; returns data.
---@private
function Client:_get_data(fname, path, query)
  local resp = self:_request(fname, "GET", path, { query = query })
  if resp.status ~= 200 then self:_fail(fname, "GET", path, resp) end
  local ok, body = pcall(resp.json, resp)
  if not ok or type(body) ~= "table" then
    error(("loki.%s: GET %s: %d answer is not JSON: %s"):format(
      fname, path, resp.status, error_text(resp)), 0)
  end
  if body.status ~= nil and body.status ~= "success" then
    error(("loki.%s: GET %s: %d %s"):format(fname, path, resp.status,
      tostring(body.error or body.status)), 0)
  end
  return body.data
end

-- Constructor ---------------------------------------------------------------------------------

---@class loki.ClientOptions
---@field url? string base URL of Loki (default: $LOKI_URL, then $LOKI_ADDR, then http://localhost:3100); user:password@ in it becomes basic auth
---@field tenant? string tenant ID sent as X-Scope-OrgID (default: $LOKI_ORG_ID)
---@field timeout? number|false seconds for each request (http.client's default otherwise)
---@field ca_cert? string PEM file path or PEM text added to the system roots
---@field insecure? boolean skip TLS verification
---@field headers? table<string,string> extra headers sent with every request
---@field auth? table `{user, password}` / `{user = .., password = ..}` (basic) or `{bearer = token}` (default: $LOKI_USERNAME/$LOKI_PASSWORD, else $LOKI_BEARER_TOKEN)

--- Creates a client; one pooled HTTP client per Loki client.
---@param opts? loki.ClientOptions
---@return loki.Client
function M.client(opts)
  if opts ~= nil and type(opts) ~= "table" then
    raise(("loki.client: bad argument #1 'opts' (table expected, got %s)"):format(type(opts)))
  end
  opts = opts or {}
  api.unknown_options("loki", "client", "#1 'opts'", opts, CLIENT_OPTIONS)
  if opts.url ~= nil and type(opts.url) ~= "string" then
    raise(("loki.client: bad argument #1 'opts' (field 'url': string expected, got %s)"):format(type(opts.url)))
  end
  local raw = opts.url or nonempty_env("LOKI_URL") or nonempty_env("LOKI_ADDR") or DEFAULT_URL
  local parts, cred = api.split_url(raw)
  if not parts then
    raise(("loki.client: bad url (an http(s) URL expected, got %q)"):format(mask_url(raw)))
  end
  local auth = opts.auth
  if auth == nil then auth = cred end
  if auth == nil then
    local user = nonempty_env("LOKI_USERNAME")
    if user then
      auth = { user = user, password = nonempty_env("LOKI_PASSWORD") or "" }
    elseif nonempty_env("LOKI_BEARER_TOKEN") then
      auth = { bearer = nonempty_env("LOKI_BEARER_TOKEN") }
    end
  end
  if auth ~= nil and type(auth) ~= "table" then
    bad("client", field(1, "opts", "auth"), ("{user, password} or {bearer = token} expected, got %s"):format(
      type(auth)))
  end
  local prefix = (parts.path or ""):gsub("/+$", "")
  parts.path, parts.query, parts.fragment = nil, nil, nil
  local base = url.build(parts):gsub("/+$", "")

  local tenant = opts.tenant or nonempty_env("LOKI_ORG_ID")
  if tenant ~= nil and (type(tenant) ~= "string" or tenant == "") then
    bad("client", field(1, "opts", "tenant"), ("non-empty string expected, got %s"):format(
      tenant == "" and "an empty string" or type(tenant)))
  end
  local headers = { accept = "application/json" }
  for k, v in pairs(opts.headers or {}) do headers[k] = v end
  if tenant then headers["X-Scope-OrgID"] = tenant end

  local hopts = { base_url = base, headers = headers }
  if opts.timeout ~= nil then hopts.timeout = opts.timeout end
  if opts.ca_cert ~= nil then hopts.ca_cert = opts.ca_cert end
  if opts.insecure ~= nil then hopts.insecure = opts.insecure end
  local hok, hc = pcall(http.client, hopts)
  if not hok then raise("loki.client: " .. strip_location(hc)) end

  return setmetatable({
    url = base .. prefix,
    tenant = tenant,
    _http = hc,
    _prefix = prefix,
    _auth = auth,
    _timeout = opts.timeout,
  }, Client)
end

-- Push ----------------------------------------------------------------------------------------

local LABEL_NAME = "^[%a_][%w_]*$"

---@alias loki.Line string|{[1]: number|string, [2]: string, [3]?: table<string,string>}|{ts: number|string, line: string, metadata?: table<string,string>}

--- Pushes log lines as one stream. Lines without a timestamp get the current time (in
--- nanoseconds; successive lines one nanosecond apart, so their order is kept).
---@param labels table<string,string> the stream's labels, e.g. `{app = "web", env = "prod"}`
---@param lines string|loki.Line[] one line, or a list of lines: strings, `{ts, line}` or `{ts, line, metadata}`; `ts` in seconds (a number), nanoseconds (a string of digits) or RFC 3339
---@return true
function Client:push(labels, lines)
  if type(labels) ~= "table" or next(labels) == nil then
    raise(("loki.push: bad argument #1 'labels' (non-empty table expected, got %s)"):format(
      type(labels) == "table" and "an empty table" or type(labels)))
  end
  local stream = {}
  for k, v in pairs(labels) do
    if type(k) ~= "string" or not k:match(LABEL_NAME) then
      raise(("loki.push: bad argument #1 'labels' (invalid label name %s)"):format(tostring(k)))
    end
    if type(v) == "number" or type(v) == "boolean" then v = tostring(v) end
    if type(v) ~= "string" then
      raise(("loki.push: bad argument #1 'labels' (label '%s': string expected, got %s)"):format(k, type(v)))
    end
    stream[k] = v
  end
  if type(lines) == "string" then lines = { lines } end
  if type(lines) ~= "table" or #lines == 0 then
    raise(("loki.push: bad argument #2 'lines' (string or non-empty list expected, got %s)"):format(
      type(lines) == "table" and "an empty table" or type(lines)))
  end
  local now = time()
  local base_s = math.floor(now)
  local base_us = math.floor((now - base_s) * 1e6)
  local values = {}
  for i, item in ipairs(lines) do
    local ts, line, meta
    if type(item) == "string" then
      line = item
    elseif type(item) == "table" then
      ts, line, meta = item.ts or item[1], item.line or item[2], item.metadata or item[3]
    end
    if type(line) ~= "string" then
      raise(("loki.push: bad argument #2 'lines' (item %d: a string, {ts, line} or {ts = .., line = ..} expected)"):format(i))
    end
    if ts == nil then
      -- now, to the microsecond, plus i-1 ns: distinct and in order
      local sub = base_us * 1000 + (i - 1)
      ts = ("%d%09d"):format(base_s + sub // 1000000000, sub % 1000000000)
    else
      ts = to_ns("push", ("#2 'lines' (item %d: timestamp"):format(i), ts)
    end
    local entry = { ts, line }
    if meta ~= nil then
      if type(meta) ~= "table" then
        raise(("loki.push: bad argument #2 'lines' (item %d: metadata must be a table)"):format(i))
      end
      local m = {}
      for k, v in pairs(meta) do m[tostring(k)] = tostring(v) end
      entry[3] = json.object(m)
    end
    values[i] = json.array(entry)
  end
  local body = { streams = json.array({ { stream = json.object(stream), values = json.array(values) } }) }
  local path = "/loki/api/v1/push"
  local resp = self:_request("push", "POST", path, { body = body })
  if resp.status ~= 204 and resp.status ~= 200 then self:_fail("push", "POST", path, resp) end
  return true
end

-- Queries -------------------------------------------------------------------------------------

---@class loki.QueryResult
---@field resultType "streams"|"vector"|"matrix"|"scalar"
---@field result table[] streams: `{stream = labels, values = {{ns, line}, ...}}`; vector: `{metric, value = {ts, number}}`; matrix: `{metric, values = {{ts, number}, ...}}`
---@field stats table|nil the query statistics Loki reports

---@class loki.QueryOptions
---@field time? number|string evaluation time: seconds (a number), nanoseconds as a string of digits, or RFC 3339 (default: now)
---@field limit? integer maximum number of entries (Loki's default 100)
---@field direction? "forward"|"backward" sort order of log lines (Loki's default backward)

--- Instant query (`GET /loki/api/v1/query`), for metric queries at one point in time.
---@param logql string the LogQL query
---@param opts? loki.QueryOptions
---@return loki.QueryResult
function Client:query(logql, opts)
  check_string("query", 1, "logql", logql)
  opts = check_options("query", opts, { "time", "limit", "direction" }, 2, "opts")
  local q = { query = logql }
  if opts.time ~= nil then q.time = to_ns("query", field(2, "opts", "time"), opts.time) end
  if opts.limit ~= nil then q.limit = to_limit("query", field(2, "opts", "limit"), opts.limit) end
  if opts.direction ~= nil then q.direction = to_direction("query", field(2, "opts", "direction"), opts.direction) end
  return convert_samples(self:_get_data("query", "/loki/api/v1/query", q))
end

---@class loki.RangeOptions
---@field start? number|string start of the range: seconds (a number), nanoseconds as a string of digits (unlike prometheus, where a digit string is seconds), or RFC 3339 (Loki's default: an hour before stop)
---@field stop? number|string end of the range, same forms, sent as Loki's `end` (Loki's default: now)
---@field since? number|string a duration before stop instead of start: seconds or "1h", "15m"
---@field step? number|string resolution of metric queries: seconds or a duration
---@field interval? number|string return log entries at (at least) this interval: seconds or a duration
---@field limit? integer maximum number of entries
---@field direction? "forward"|"backward"

--- Range query (`GET /loki/api/v1/query_range`): log lines, or a matrix for metric queries.
---@param logql string the LogQL query
---@param opts? loki.RangeOptions
---@return loki.QueryResult
function Client:query_range(logql, opts)
  check_string("query_range", 1, "logql", logql)
  opts = check_options("query_range", opts,
    { "start", "stop", "since", "step", "interval", "limit", "direction" }, 2, "opts")
  local q = { query = logql }
  if opts.start ~= nil then q.start = to_ns("query_range", field(2, "opts", "start"), opts.start) end
  if opts.stop ~= nil then q["end"] = to_ns("query_range", field(2, "opts", "stop"), opts.stop) end
  if opts.since ~= nil then q.since = to_duration("query_range", field(2, "opts", "since"), opts.since) end
  if opts.step ~= nil then q.step = to_step("query_range", field(2, "opts", "step"), opts.step) end
  if opts.interval ~= nil then q.interval = to_step("query_range", field(2, "opts", "interval"), opts.interval) end
  if opts.limit ~= nil then q.limit = to_limit("query_range", field(2, "opts", "limit"), opts.limit) end
  if opts.direction ~= nil then q.direction = to_direction("query_range", field(2, "opts", "direction"), opts.direction) end
  return convert_samples(self:_get_data("query_range", "/loki/api/v1/query_range", q))
end

---@class loki.LabelOptions
---@field start? number|string start of the range (forms as in loki.RangeOptions)
---@field stop? number|string end of the range, sent as Loki's `end`
---@field since? number|string a duration before stop instead of start
---@field query? string a stream selector restricting the streams looked at

local function range_query(fname, opts, with_query, argn)
  local allowed = { "start", "stop", "since" }
  if with_query then allowed[#allowed + 1] = "query" end
  opts = check_options(fname, opts, allowed, argn, "opts")
  local q = {}
  if opts.start ~= nil then q.start = to_ns(fname, field(argn, "opts", "start"), opts.start) end
  if opts.stop ~= nil then q["end"] = to_ns(fname, field(argn, "opts", "stop"), opts.stop) end
  if opts.since ~= nil then q.since = to_duration(fname, field(argn, "opts", "since"), opts.since) end
  if opts.query ~= nil then
    if type(opts.query) ~= "string" then
      bad(fname, field(argn, "opts", "query"), ("string expected, got %s"):format(type(opts.query)))
    end
    q.query = opts.query
  end
  return q
end

--- Label names seen in the range (`GET /loki/api/v1/labels`).
---@param opts? loki.LabelOptions
---@return string[]
function Client:labels(opts)
  local q = range_query("labels", opts, true, 1)
  return self:_get_data("labels", "/loki/api/v1/labels", q) or json.array({})
end

--- Values of one label seen in the range (`GET /loki/api/v1/label/<name>/values`).
---@param name string the label name
---@param opts? loki.LabelOptions
---@return string[]
function Client:label_values(name, opts)
  check_string("label_values", 1, "name", name)
  local q = range_query("label_values", opts, true, 2)
  local path = "/loki/api/v1/label/" .. url.encode(name) .. "/values"
  return self:_get_data("label_values", path, q) or json.array({})
end

--- Label sets of the streams matching any of the selectors (`GET /loki/api/v1/series`).
---@param match string|string[] one stream selector or a list of them (sent as `match[]`)
---@param opts? {start?: number|string, stop?: number|string, since?: number|string} the range (forms as in loki.RangeOptions)
---@return table<string,string>[]
function Client:series(match, opts)
  if type(match) == "string" then match = { match } end
  if type(match) ~= "table" or #match == 0 then
    raise(("loki.series: bad argument #1 'match' (selector or non-empty list of selectors expected, got %s)"):format(
      type(match)))
  end
  for i, m in ipairs(match) do
    if type(m) ~= "string" or m == "" then
      raise(("loki.series: bad argument #1 'match' (item %d: non-empty string expected)"):format(i))
    end
  end
  local q = range_query("series", opts, false, 2)
  q["match[]"] = match
  return self:_get_data("series", "/loki/api/v1/series", q) or json.array({})
end

-- One GET /ready; `timeout` (seconds) bounds this request alone (nil: the client's).
---@private
function Client:_ready(timeout)
  local resp = self:_request("ready", "GET", "/ready", timeout and { timeout = timeout } or nil)
  if resp.status == 200 then return true, trim(resp.body or ""), resp.status end
  if resp.status == 503 then return false, trim(resp.body or ""), resp.status end
  self:_fail("ready", "GET", "/ready", resp)
end

--- Whether Loki is ready to accept traffic (`GET /ready`): true, or false and Loki's reason.
---@return boolean ready
---@return string text Loki's answer ("ready", or why not)
function Client:ready()
  local ready, text = self:_ready(nil)
  return ready, text
end


--- Waits until Loki is ready (`GET /ready` answers 200), polling with `sleep` so other
--- coroutines run. Connection failures and timeouts count as "not ready" until the timeout;
--- each poll is bounded by the time left (and by the client's `timeout`).
---@param opts? {timeout?: number, interval?: number} seconds: timeout (default 60), interval between polls (default 1)
---@return string answer Loki's final answer (its /ready text, "ready")
function Client:wait_ready(opts)
  opts = check_options("wait_ready", opts, { "timeout", "interval" }, 1, "opts")
  local timeout, interval = opts.timeout or 60, opts.interval or 1
  if type(timeout) ~= "number" or timeout ~= timeout or timeout < 0 or timeout == math.huge then
    raise(("loki.wait_ready: bad argument #1 'opts' (field 'timeout': non-negative number of seconds expected, got %s)"):format(
      type(timeout) == "number" and tostring(timeout) or type(timeout)))
  end
  if type(interval) ~= "number" or interval ~= interval or interval <= 0 or interval == math.huge then
    raise(("loki.wait_ready: bad argument #1 'opts' (field 'interval': positive number of seconds expected, got %s)"):format(
      type(interval) == "number" and tostring(interval) or type(interval)))
  end
  -- the client's own limit per request: http.client's 60 s unless given (false: none)
  local per_request = self._timeout
  if per_request == nil then per_request = 60 end
  local ok, answer = api.poll{timeout = timeout, interval = interval, per_request = per_request,
    try = function(limit)
      local ok, ready, text = pcall(self._ready, self, limit)
      if ok and ready then return true, text end
      if ok then return false, ("%s"):format(text ~= "" and text or "503") end
      return false, (tostring(ready):gsub("^loki%.ready: ", ""))
    end}
  if ok then return answer end
  local last = answer
  error(("loki.wait_ready: %s not ready after %gs: %s"):format(self.url, timeout, last), 0)
end

-- Selector builder ----------------------------------------------------------------------------

local OPERATORS = { ["="] = true, ["!="] = true, ["=~"] = true, ["!~"] = true }

-- A LogQL string literal (Go's double-quoted syntax).
local function quote(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    if c == '"' then return '\\"' end
    if c == "\\" then return "\\\\" end
    if c == "\n" then return "\\n" end
    if c == "\r" then return "\\r" end
    if c == "\t" then return "\\t" end
    return ("\\x%02x"):format(c:byte())
  end) .. '"'
end

--- Builds a LogQL stream selector: `loki.selector{app = "web", env = "prod"}` is
--- `{app="web", env="prod"}`. Labels are sorted by name; values are quoted (`"` and `\` escaped).
--- A value `{op, value}` uses another matcher: `{env = {"!=", "dev"}, pod = {"=~", "web-.*"}}`.
---@param labels table<string, string|number|boolean|{[1]: "="|"!="|"=~"|"!~", [2]: string}>
---@return string
function M.selector(labels)
  if type(labels) ~= "table" or next(labels) == nil then
    raise(("loki.selector: bad argument #1 'labels' (non-empty table expected, got %s)"):format(
      type(labels) == "table" and "an empty table" or type(labels)))
  end
  local names = {}
  for k in pairs(labels) do
    if type(k) ~= "string" or not k:match(LABEL_NAME) then
      raise(("loki.selector: bad argument #1 'labels' (invalid label name %s)"):format(tostring(k)))
    end
    names[#names + 1] = k
  end
  table.sort(names)
  local parts = {}
  for i, name in ipairs(names) do
    local v, op = labels[name], "="
    if type(v) == "table" then
      op, v = v[1], v[2]
      if not OPERATORS[op] then
        raise(("loki.selector: bad argument #1 'labels' (label '%s': operator =, !=, =~ or !~ expected, got %s)"):format(
          name, tostring(op)))
      end
    end
    if type(v) == "number" or type(v) == "boolean" then v = tostring(v) end
    if type(v) ~= "string" then
      raise(("loki.selector: bad argument #1 'labels' (label '%s': string expected, got %s)"):format(name, type(v)))
    end
    parts[i] = name .. op .. quote(v)
  end
  return "{" .. table.concat(parts, ", ") .. "}"
end

return M
