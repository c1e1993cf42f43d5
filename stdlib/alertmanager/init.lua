--- Alertmanager API v2 client: alerts (list, post, groups), silences (create, list, get,
--- expire), status, receivers, health.
---
--- ```lua
--- local alertmanager = require("assay.alertmanager")
--- local am = alertmanager.client{url = "http://alertmanager:9093"}
--- local id = am:silence_create{matchers = {alertname = "DiskFull", instance = "db-1"},
---   duration = "2h", comment = "resizing the volume"}
--- ```
---
--- Results are the API's JSON as Alertmanager spells it. Failures raise
--- `"alertmanager.<method>: <HTTP method> <path>: <status> <Alertmanager's message>"` (no position);
--- bad arguments raise at the caller's line.
local M = {}

---@class alertmanager.ClientOptions
---@field url? string base URL (default: $ALERTMANAGER_URL, then http://localhost:9093); user:password@ in it becomes basic authorization
---@field timeout? number|false seconds per request (the http client's default: 60)
---@field ca_cert? string PEM file path or PEM text, added to the system roots
---@field insecure? boolean skip TLS verification
---@field headers? table<string, string> sent with every request

---@class alertmanager.Client
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

-- `name` names the argument: "#1 'id'", "#1 'spec.comment'".
local function bad(fn, name, what, v)
  fail(("alertmanager.%s: bad argument %s (%s expected, got %s)"):format(fn, name, what,
    type(v) == "string" and ("'" .. v .. "'") or type(v)))
end

local function check_opts(fn, argn, opts, allowed, argname)
  argname = argname or "opts"
  if opts == nil then return {} end
  if type(opts) ~= "table" then bad(fn, ("#%d '%s'"):format(argn, argname), "table or nil", opts) end
  api.unknown_options("alertmanager", fn, ("#%d '%s'"):format(argn, argname), opts, allowed)
  return opts
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

-- Alertmanager's own message: a JSON string ("silence not found"), {code, message}, or text.
local function reason(resp)
  local ok, doc = pcall(json.parse, resp.body or "")
  if ok then
    if type(doc) == "string" then return doc end
    if type(doc) == "table" and doc.message then return tostring(doc.message) end
  end
  return excerpt(resp.body)
end

---@private
function Client:_send(fn, method, path, opts)
  opts = opts or {}
  opts.auth = self._auth
  local ok, resp = pcall(self._http.request, self._http, method, path, opts)
  if not ok then
    api.network_error("alertmanager", fn, resp)
  end
  return resp
end

-- One call: the decoded JSON of a 2xx (nil for an empty body); with `absent`, a 404 returns
-- nil and the decoded body; anything else raises.
---@private
function Client:_api(fn, method, path, opts, absent)
  local resp = self:_send(fn, method, path, opts)
  if resp.status == 404 and absent then
    local ok, doc = pcall(json.parse, resp.body or "")
    return nil, ok and doc or resp.body
  end
  if resp.status < 200 or resp.status > 299 then
    call_error(("alertmanager.%s: %s %s: %d %s"):format(fn, method, path, resp.status, reason(resp)))
  end
  if resp.body == nil or resp.body:match("^%s*$") then return nil end
  local ok, doc = pcall(json.parse, resp.body)
  if not ok then
    call_error(("alertmanager.%s: %s %s: %d the answer is not JSON: %s"):format(fn, method, path,
      resp.status, excerpt(resp.body)))
  end
  return doc
end

--- Time as Alertmanager reads it: epoch seconds, or a string time.parse reads (RFC 3339) ->
--- RFC 3339 with milliseconds.
local function epoch(fn, name, v)
  if type(v) == "number" and v == v and v > -math.huge and v < math.huge then return v end
  if type(v) == "string" then
    local ok, t = pcall(time.parse, v)
    if ok then return t end
  end
  bad(fn, name, "epoch seconds or an RFC 3339 string", v)
end

local function iso(fn, name, v)
  if v == nil then return nil end
  return time.iso(epoch(fn, name, v), {precision = 3})
end

local UNITS = {ms = 0.001, s = 1, m = 60, h = 3600, d = 86400, w = 604800}

-- Seconds, or a duration string as amtool takes it ("2h", "1h30m", "90s", "1d").
local function seconds(fn, name, v)
  if type(v) == "number" then
    if v > 0 then return v end
  elseif type(v) == "string" and v ~= "" then
    local total, rest = 0, v
    while rest ~= "" do
      local n, unit, after = rest:match("^(%d+%.?%d*)(%a+)(.*)$")
      if not n or not UNITS[unit] then total = nil break end
      total = total + tonumber(n) * UNITS[unit]
      rest = after
    end
    if total and total > 0 then return total end
  end
  bad(fn, name, "positive seconds or a duration like \"2h\" or \"1h30m\"", v)
end

-- `"value"` as Alertmanager's matcher syntax quotes it.
local function quote(s)
  return '"' .. s:gsub('[\\"]', "\\%0"):gsub("\n", "\\n") .. '"'
end

-- 'name=~"re"' -> {name, value, isRegex, isEqual}; the value may be quoted or bare.
local function parse_matcher(fn, name, text)
  local at = text:find("[=!]")
  if at then
    local two = text:sub(at, at + 1)
    local op = (two == "!=" or two == "=~" or two == "!~") and two or text:sub(at, at)
    local label = text:sub(1, at - 1):match("^%s*(.-)%s*$")
    local value = text:sub(at + #op):match("^%s*(.-)%s*$")
    if op ~= "!" and label:match("^[%a_][%w_]*$") then
      if value:match('^".*"$') then
        value = value:sub(2, -2):gsub("\\(.)", {n = "\n", ["\\"] = "\\", ['"'] = '"'})
      end
      return {name = label, value = value, isRegex = op == "=~" or op == "!~",
        isEqual = op == "=" or op == "=~"}
    end
  end
  bad(fn, name, 'matchers like \'alertname="X"\' or \'severity=~"crit.*"\'', text)
end

-- Matchers as given (a map name -> value, a list of 'name=value' strings or of
-- {name, value, isRegex, isEqual}) -> the API's list of matcher objects.
local function matcher_list(fn, name, v)
  if type(v) == "string" then return {parse_matcher(fn, name, v)} end
  if type(v) ~= "table" or next(v) == nil then
    bad(fn, name, "a table of matchers", v)
  end
  local out = {}
  if #v > 0 then
    for _, m in ipairs(v) do
      if type(m) == "string" then
        out[#out + 1] = parse_matcher(fn, name, m)
      elseif type(m) == "table" and type(m.name) == "string" and type(m.value) == "string" then
        out[#out + 1] = {name = m.name, value = m.value, isRegex = m.isRegex == true,
          isEqual = m.isEqual ~= false}
      else
        bad(fn, name, "matcher strings or {name, value, isRegex, isEqual} tables", m)
      end
    end
  else
    local names = {}
    for k in pairs(v) do names[#names + 1] = k end
    table.sort(names, function(a, b) return tostring(a) < tostring(b) end)
    for _, k in ipairs(names) do
      if type(k) ~= "string" or type(v[k]) ~= "string" then
        bad(fn, name, "label names mapped to string values", v[k])
      end
      out[#out + 1] = {name = k, value = v[k], isRegex = false, isEqual = true}
    end
  end
  return out
end

-- Matchers -> the `filter` query values ('name="value"', ...).
local function filter_param(fn, name, v)
  if v == nil then return nil end
  local out = {}
  for _, m in ipairs(matcher_list(fn, name, v)) do
    local op = m.isRegex and (m.isEqual and "=~" or "!~") or (m.isEqual and "=" or "!=")
    out[#out + 1] = m.name .. op .. quote(m.value)
  end
  return out
end

local function bool_param(fn, name, v)
  if v == nil then return nil end
  if type(v) ~= "boolean" then bad(fn, name, "boolean", v) end
  return tostring(v)
end

local ALERT_FILTERS = {active = true, silenced = true, inhibited = true, unprocessed = true,
  filter = true, receiver = true}

local function alert_query(fn, opts)
  opts = check_opts(fn, 1, opts, ALERT_FILTERS)
  if opts.receiver ~= nil and type(opts.receiver) ~= "string" then
    bad(fn, "#1 'opts.receiver'", "a regex string", opts.receiver)
  end
  return {
    active = bool_param(fn, "#1 'opts.active'", opts.active),
    silenced = bool_param(fn, "#1 'opts.silenced'", opts.silenced),
    inhibited = bool_param(fn, "#1 'opts.inhibited'", opts.inhibited),
    unprocessed = bool_param(fn, "#1 'opts.unprocessed'", opts.unprocessed),
    filter = filter_param(fn, "#1 'opts.filter'", opts.filter),
    receiver = opts.receiver,
  }
end

---@class alertmanager.AlertFilters
---@field active? boolean include active alerts (default true)
---@field silenced? boolean include silenced alerts (default true)
---@field inhibited? boolean include inhibited alerts (default true)
---@field unprocessed? boolean include unprocessed alerts (default true)
---@field filter? string|string[]|table<string, string> matchers: 'alertname="X"', {'severity=~"crit.*"'} or {alertname = "X"}
---@field receiver? string a regex the receiver's name must match

---@class alertmanager.Alert
---@field labels table<string, string>
---@field annotations table<string, string>
---@field startsAt string
---@field endsAt string
---@field updatedAt string
---@field fingerprint string
---@field receivers {name: string}[]
---@field status {state: "active"|"suppressed"|"unprocessed", silencedBy: string[], inhibitedBy: string[]}
---@field generatorURL? string

--- Alerts (`GET /api/v2/alerts`), filtered as amtool filters them.
---@param opts? alertmanager.AlertFilters
---@return alertmanager.Alert[]
function Client:alerts(opts)
  return self:_api("alerts", "GET", "/api/v2/alerts", {query = alert_query("alerts", opts)})
end

--- Alert groups as the routing tree groups them (`GET /api/v2/alerts/groups`): a list of
--- `{labels, receiver, alerts}`.
---@param opts? alertmanager.AlertFilters
---@return {labels: table<string, string>, receiver: {name: string}, alerts: alertmanager.Alert[]}[]
function Client:alert_groups(opts)
  return self:_api("alert_groups", "GET", "/api/v2/alerts/groups",
    {query = alert_query("alert_groups", opts)})
end

---@class alertmanager.PostableAlert
---@field labels table<string, string> at least one
---@field annotations? table<string, string>
---@field startsAt? number|string epoch seconds or RFC 3339 (default: when received)
---@field endsAt? number|string epoch seconds or RFC 3339 (an alert whose endsAt is past is resolved)
---@field generatorURL? string

--- Posts alerts (`POST /api/v2/alerts`), as Prometheus sends them. Takes one alert or a list.
--- Returns true.
---@param alerts alertmanager.PostableAlert|alertmanager.PostableAlert[]
---@return boolean
function Client:alerts_post(alerts)
  if type(alerts) ~= "table" then bad("alerts_post", "#1 'alerts'", "an alert or a list of alerts", alerts) end
  if alerts.labels ~= nil then alerts = {alerts} end
  if #alerts == 0 then bad("alerts_post", "#1 'alerts'", "an alert or a list of alerts", alerts) end
  local body = {}
  for i, a in ipairs(alerts) do
    if type(a) ~= "table" or type(a.labels) ~= "table" then
      bad("alerts_post", ("#1 'alerts[%d]'"):format(i), "a table with labels", a)
    end
    for k in pairs(a) do
      if k ~= "labels" and k ~= "annotations" and k ~= "startsAt" and k ~= "endsAt"
        and k ~= "generatorURL" then
        fail(("alertmanager.alerts_post: bad argument #1 'alerts[%d]' (unknown field '%s'; expected labels, "
          .. "annotations, startsAt, endsAt, generatorURL)"):format(i, tostring(k)))
      end
    end
    body[i] = {
      labels = json.object(a.labels),
      annotations = a.annotations and json.object(a.annotations) or nil,
      startsAt = iso("alerts_post", ("#1 'alerts[%d].startsAt'"):format(i), a.startsAt),
      endsAt = iso("alerts_post", ("#1 'alerts[%d].endsAt'"):format(i), a.endsAt),
      generatorURL = a.generatorURL,
    }
  end
  self:_api("alerts_post", "POST", "/api/v2/alerts", {body = json.array(body)})
  return true
end

---@class alertmanager.Silence
---@field id string
---@field matchers {name: string, value: string, isRegex: boolean, isEqual: boolean}[]
---@field startsAt string
---@field endsAt string
---@field updatedAt string
---@field createdBy string
---@field comment string
---@field status {state: "active"|"pending"|"expired"}

--- Silences (`GET /api/v2/silences`), optionally only those whose matchers match `filter`.
---@param opts? {filter?: string|string[]|table<string, string>}
---@return alertmanager.Silence[]
function Client:silences(opts)
  opts = check_opts("silences", 1, opts, {filter = true})
  return self:_api("silences", "GET", "/api/v2/silences",
    {query = {filter = filter_param("silences", "#1 'opts.filter'", opts.filter)}})
end

local function silence_id(fn, id)
  if type(id) ~= "string" or id == "" then bad(fn, "#1 'id'", "a silence id", id) end
  return id
end

--- One silence (`GET /api/v2/silence/<id>`); nil (and Alertmanager's answer) when unknown.
---@param id string
---@return alertmanager.Silence|nil
---@return any
function Client:silence_get(id)
  silence_id("silence_get", id)
  return self:_api("silence_get", "GET", "/api/v2/silence/" .. url.encode(id), nil, true)
end

---@class alertmanager.SilenceSpec
---@field matchers string|string[]|table<string, string>|table[] {alertname = "X"}, {'severity=~"crit.*"'} or the API's {name, value, isRegex, isEqual} list
---@field comment string
---@field createdBy? string default "assay"
---@field startsAt? number|string epoch seconds or RFC 3339 (default: now)
---@field endsAt? number|string (or duration)
---@field duration? number|string seconds or "2h", "1h30m" from startsAt (default 1h when no endsAt)
---@field id? string an existing silence's id: updates it

local SILENCE_FIELDS = {matchers = true, comment = true, createdBy = true, startsAt = true,
  endsAt = true, duration = true, id = true}

--- Creates (or, with `id`, updates) a silence (`POST /api/v2/silences`). Returns its id.
---@param spec alertmanager.SilenceSpec
---@return string silenceID
function Client:silence_create(spec)
  if spec == nil then bad("silence_create", "#1 'spec'", "a table {matchers, comment, ...}", spec) end
  spec = check_opts("silence_create", 1, spec, SILENCE_FIELDS, "spec")
  if spec.matchers == nil then bad("silence_create", "#1 'spec.matchers'", "a table of matchers", nil) end
  if type(spec.comment) ~= "string" or spec.comment == "" then
    bad("silence_create", "#1 'spec.comment'", "a non-empty string", spec.comment)
  end
  if spec.endsAt ~= nil and spec.duration ~= nil then
    fail("alertmanager.silence_create: bad argument #1 'spec' (endsAt or duration expected, not both)")
  end
  local starts = spec.startsAt == nil and time() or epoch("silence_create", "#1 'spec.startsAt'", spec.startsAt)
  local ends = spec.endsAt
  if ends == nil then
    -- Whole milliseconds, so endsAt - startsAt is the duration exactly.
    starts = math.floor(starts * 1000 + 0.5) / 1000
    ends = starts + seconds("silence_create", "#1 'spec.duration'", spec.duration or 3600)
  end
  local doc = self:_api("silence_create", "POST", "/api/v2/silences", {body = {
    id = spec.id,
    matchers = json.array(matcher_list("silence_create", "#1 'spec.matchers'", spec.matchers)),
    startsAt = iso("silence_create", "#1 'spec.startsAt'", starts),
    endsAt = iso("silence_create", "#1 'spec.endsAt'", ends),
    createdBy = spec.createdBy or "assay",
    comment = spec.comment,
  }})
  return doc.silenceID
end

--- Expires a silence now (`DELETE /api/v2/silence/<id>`). Returns true; an unknown id returns
--- nil and Alertmanager's answer (0.25+ answers 500 "silence not found", older ones 404).
---@param id string
---@return true|nil
---@return any
function Client:silence_expire(id)
  silence_id("silence_expire", id)
  local path = "/api/v2/silence/" .. url.encode(id)
  local resp = self:_send("silence_expire", "DELETE", path)
  if resp.status == 404 or (resp.status == 500 and reason(resp) == "silence not found") then
    local ok, doc = pcall(json.parse, resp.body or "")
    return nil, ok and doc or resp.body
  end
  if resp.status < 200 or resp.status > 299 then
    call_error(("alertmanager.silence_expire: DELETE %s: %d %s"):format(path, resp.status, reason(resp)))
  end
  return true
end

--- Status (`GET /api/v2/status`): `{cluster, config = {original}, uptime, versionInfo}`.
---@return table
function Client:status()
  return self:_api("status", "GET", "/api/v2/status")
end

--- Receivers (`GET /api/v2/receivers`): a list of `{name}`.
---@return {name: string}[]
function Client:receivers()
  return self:_api("receivers", "GET", "/api/v2/receivers")
end

--- Liveness (`GET /-/healthy`): true on 200, false on another status; network failures raise.
---@return boolean
function Client:healthy()
  return self:_send("healthy", "GET", "/-/healthy").status == 200
end

--- Readiness (`GET /-/ready`): true on 200, false on another status; network failures raise.
---@return boolean
function Client:ready()
  return self:_send("ready", "GET", "/-/ready").status == 200
end

--- Polls `/-/ready` until it answers 200 (connection failures count as not ready yet); each
--- poll is bounded by the time left. Returns Alertmanager's answer ("OK"); raises after
--- `timeout` with the last state seen.
---@param opts? {timeout?: number, interval?: number} seconds (defaults 60 and 1)
---@return string
function Client:wait_ready(opts)
  opts = check_opts("wait_ready", 1, opts, {timeout = true, interval = true})
  local timeout, interval = api.wait_times("alertmanager", "wait_ready", 1, opts)
  local ok, answer = api.poll{timeout = timeout, interval = interval, per_request = self._timeout,
    floor = 0.05, try = function(limit)
      local ok, resp = pcall(self._http.request, self._http, "GET", "/-/ready",
        {timeout = limit, auth = self._auth})
      if ok and resp.status == 200 then return true, (excerpt(resp.body)) end
      return false, ok and ("%d %s"):format(resp.status, excerpt(resp.body)) or network_error(resp)
    end}
  if ok then return answer end
  local last = answer
  call_error(("alertmanager.wait_ready: %s not ready after %gs: %s"):format(self.url, timeout, last))
end

--- Reloads the configuration (`POST /-/reload`). Returns true; raises with the reason.
---@return boolean
function Client:reload()
  local resp = self:_send("reload", "POST", "/-/reload")
  if resp.status ~= 200 then
    call_error(("alertmanager.reload: POST /-/reload: %d %s"):format(resp.status, excerpt(resp.body)))
  end
  return true
end

local OPTION_LIST = {"url", "timeout", "ca_cert", "insecure", "headers"}

--- A client for one Alertmanager; every call is a method on it.
---@param opts? alertmanager.ClientOptions
---@return alertmanager.Client
function M.client(opts)
  if opts ~= nil and type(opts) ~= "table" then bad("client", "#1 'opts'", "table or nil", opts) end
  opts = opts or {}
  api.unknown_options("alertmanager", "client", "#1 'opts'", opts, OPTION_LIST)
  local raw = opts.url
  if raw == nil then raw = api.env("ALERTMANAGER_URL") or "http://localhost:9093" end
  local parts, cred
  if type(raw) == "string" and raw:match("^[hH][tT][tT][pP][sS]?://") then
    parts, cred = api.split_url(raw)
  end
  if not parts then
    fail(("alertmanager.client: bad argument #1 'opts' (url: an http:// or https:// URL expected, got %s)"):format(
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
