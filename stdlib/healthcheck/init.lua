--- Health checks: HTTP checks judged by status, headers, body substring or pattern, JSON path
--- values and latency (the expectations of check mode's `http` checks), custom checks from
--- functions, `all` to run several concurrently, and `wait` to poll until healthy.
---
--- ```lua
--- local healthcheck = require("assay.healthcheck")
--- local api = healthcheck.http{url = "http://api:8080/health",
---   expect = {status = 200, json = {["$.status"] = "up"}, latency_ms = 500}}
--- healthcheck.wait(api, {timeout = 120, interval = 2})
--- ```
---
--- A check that fails is data (`result.ok == false` with a `message`): a refused connection, a
--- timeout or a wrong status never raises. Bad arguments raise naming them, at the caller's line;
--- `wait`'s timeout raises without a position.
local M = {}

-- The packages' shared internals: bad arguments at the caller's line (none under --sandbox),
-- option checks, network messages, URL masking, bounded polling.
local api = require("assay.apiclient")
api.own_source()
local fail = api.raise

local function show(v)
  if type(v) == "string" then return ("'%s'"):format(v) end
  return type(v)
end

-- `name` names the argument: "#1 'opts.url'".
local function bad(fn, name, what, v)
  fail(("healthcheck.%s: bad argument %s (%s expected, got %s)"):format(fn, name, what, show(v)))
end

local function check_fields(fn, name, t, allowed)
  api.unknown_options("healthcheck", fn, name, t, allowed)
end

-- The http client's message without its position and "http.Client:get: " prefix.
local function network_error(e)
  return (api.strip_position(e):gsub("^http%.Client:%a+: ", "", 1))
end

-- A URL fit for a message: the password (or a lone token) in its userinfo shown as ***.
local function shown_url(u)
  return api.mask_url(u, true)
end

local function excerpt(text, n)
  n = n or 200
  text = tostring(text or "")
  if #text > n then text = text:sub(1, n) .. "..." end
  return text
end

-- JSON values as check mode writes them in messages.
local function repr(v)
  if v == nil then return "absent" end
  if v == json.null then return "null" end
  local ok, s = pcall(json.encode, v)
  return ok and s or tostring(v)
end

------------------------------------------------------------------------------------------
-- JSON paths: `$` then `.name`, `['any name']` and `[index]` (0-based, `[-1]` the last), as
-- check mode reads them: `$.items[0].status`, `$['app.kubernetes.io/name']`.

local function parse_path(fn, text)
  if type(text) ~= "string" or text:sub(1, 1) ~= "$" then
    fail(("healthcheck.%s: bad argument #1 'opts.expect.json' ('%s' is not a JSON path: it must start with '$' (like $.items[0].name))")
      :format(fn, tostring(text)))
  end
  local steps, rest = {}, text:sub(2)
  local function bad_path(why)
    fail(("healthcheck.%s: bad argument #1 'opts.expect.json' ('%s' is not a JSON path: %s (like $.items[0].name))"):format(fn, text, why))
  end
  while rest ~= "" do
    if rest:sub(1, 1) == "." then
      local name = rest:match("^%.([^.%[]*)")
      if name == "" then bad_path("a '.' without a name after it") end
      steps[#steps + 1] = name
      rest = rest:sub(#name + 2)
    elseif rest:sub(1, 2) == "['" then
      local stop = rest:find("']", 3, true)
      if not stop then bad_path("a \"['\" without its \"']\"") end
      steps[#steps + 1] = rest:sub(3, stop - 1)
      rest = rest:sub(stop + 2)
    elseif rest:sub(1, 1) == "[" then
      local stop = rest:find("]", 2, true)
      if not stop then bad_path("a '[' without its ']'") end
      local index = rest:sub(2, stop - 1):match("^%s*(%-?%d+)%s*$")
      if not index then bad_path("an index must be a whole number, or a name in ['...']") end
      steps[#steps + 1] = {index = tonumber(index)}
      rest = rest:sub(stop + 1)
    else
      bad_path("expected '.', '[' or the end")
    end
  end
  return steps
end

local function find_path(doc, steps)
  local v = doc
  for _, step in ipairs(steps) do
    if type(v) ~= "table" then return nil end
    if type(step) == "table" then
      local n = #v
      local i = step.index < 0 and n + step.index + 1 or step.index + 1
      if i < 1 or i > n then return nil end
      v = v[i]
    else
      v = v[step]
    end
    if v == nil then return nil end
  end
  return v
end

local function deep_equal(a, b)
  if a == b then return true end
  if type(a) ~= "table" or type(b) ~= "table" then return false end
  for k, v in pairs(a) do
    if not deep_equal(v, b[k]) then return false end
  end
  for k in pairs(b) do
    if a[k] == nil then return false end
  end
  return true
end

local OPS = {["=="] = true, ["!="] = true, ["<"] = true, ["<="] = true, [">"] = true,
  [">="] = true, exists = true, matches = true}

-- One JSON expectation: path, op, expected -> nil when met, else why not.
local function judge_json(path, op, want, got)
  if op == "exists" then
    if (got ~= nil) == want then return nil end
    return want and ("%s is absent"):format(path) or ("%s is %s, expected absent"):format(path, repr(got))
  end
  if op == "==" then
    if deep_equal(got, want) then return nil end
    return ("%s is %s, expected %s"):format(path, repr(got), repr(want))
  end
  if op == "!=" then
    if not deep_equal(got, want) then return nil end
    return ("%s is %s, expected anything else"):format(path, repr(got))
  end
  if op == "matches" then
    if type(got) == "string" and regex.match(got, want) then return nil end
    return ("%s is %s, expected a match of /%s/"):format(path, repr(got), want)
  end
  local ok = type(got) == type(want) and (type(got) == "number" or type(got) == "string")
  if ok then
    ok = (op == "<" and got < want) or (op == "<=" and got <= want) or (op == ">" and got > want)
      or (op == ">=" and got >= want)
  end
  if ok then return nil end
  return ("%s is %s, expected %s %s"):format(path, repr(got), op, repr(want))
end

------------------------------------------------------------------------------------------
-- Status expectations: 200, {200, 204}, "2xx", "200-299"; default 200-399.

local function parse_status(fn, v)
  if v == nil then return {{200, 399}}, "200-399" end
  local ranges = {}
  local items = type(v) == "table" and v or {v}
  for _, item in ipairs(items) do
    if math.type(item) == "integer" then
      ranges[#ranges + 1] = {item, item}
    elseif type(item) == "string" and item:match("^[1-5]xx$") then
      local h = tonumber(item:sub(1, 1)) * 100
      ranges[#ranges + 1] = {h, h + 99}
    elseif type(item) == "string" and item:match("^%d%d%d%-%d%d%d$") then
      local lo, hi = item:match("^(%d+)%-(%d+)$")
      ranges[#ranges + 1] = {tonumber(lo), tonumber(hi)}
    else
      bad(fn, "#1 'opts.expect.status'", 'a status (200), a list of them, "2xx" or "200-299"', item)
    end
  end
  if #ranges == 0 then bad(fn, "#1 'opts.expect.status'", 'a status (200), a list of them, "2xx" or "200-299"', v) end
  local shown = {}
  for _, item in ipairs(items) do shown[#shown + 1] = tostring(item) end
  return ranges, table.concat(shown, " or ")
end

------------------------------------------------------------------------------------------
-- Checks

---@class healthcheck.Result
---@field name string
---@field ok boolean
---@field message? string the first failure (nil when ok)
---@field failures string[] every expectation not met (empty when ok)
---@field status? integer the HTTP status, when an answer came
---@field latency_ms number milliseconds the check took
---@field body? string the response body (HTTP checks)
---@field json? any the decoded body, when JSON expectations were given and it parsed

---@class healthcheck.Check
---@field name string
local Check = {}
Check.__index = Check

--- Runs the check once. Never raises for a failed check: `ok` is false and `message` says why.
---@return healthcheck.Result
function Check:run()
  return self:_run_within(nil)
end

-- One run whose request (an HTTP check's) takes at most `cap` seconds (nil: its own timeout).
---@private
function Check:_run_within(cap)
  local t0 = time.monotonic()
  local ok, result = pcall(self._run, self, cap)
  local latency = (time.monotonic() - t0) * 1000
  if not ok then
    result = {ok = false, failures = {network_error(result)}}
  end
  result.name = self.name
  result.latency_ms = result.latency_ms or latency
  result.failures = result.failures or {}
  result.ok = #result.failures == 0 and result.ok ~= false
  if not result.ok and #result.failures == 0 then result.failures = {"failed"} end
  result.message = result.failures[1]
  return result
end

---@class healthcheck.Expect
---@field status? integer|string|(integer|string)[] 200, {200, 204}, "2xx" or "200-299" (default 200-399)
---@field headers? table<string, string> name (any case) -> exact value
---@field body_contains? string|string[] text the body must contain (each of them)
---@field body_matches? string a regex the body must match
---@field json? table<string, any> JSON path -> value (==), or {[op] = value} with op one of ==, !=, <, <=, >, >=, exists, matches
---@field latency_ms? number the most the request may take

---@class healthcheck.HttpOptions
---@field url string
---@field name? string default: the URL
---@field method? string default GET
---@field headers? table<string, string>
---@field body? string|table a table is sent as JSON
---@field auth? table {user, password} or {bearer = token}, as the http client takes it
---@field timeout? number seconds (default 10)
---@field ca_cert? string
---@field insecure? boolean
---@field expect? healthcheck.Expect

local HTTP_FIELDS = {url = true, name = true, method = true, headers = true, body = true,
  auth = true, timeout = true, ca_cert = true, insecure = true, expect = true}
local EXPECT_FIELDS = {status = true, headers = true, body_contains = true, body_matches = true,
  json = true, latency_ms = true}

local HttpCheck = setmetatable({}, {__index = Check})
HttpCheck.__index = HttpCheck

---@private
function HttpCheck:_run(cap)
  local e = self._expect
  local timeout = self._timeout
  if cap and (type(timeout) ~= "number" or cap < timeout) then timeout = cap end
  local t0 = time.monotonic()
  local ok, resp = pcall(self._http.request, self._http, self._method, self._url,
    {headers = self._headers, body = self._body, auth = self._auth, timeout = timeout or nil})
  local latency = (time.monotonic() - t0) * 1000
  if not ok then
    return {ok = false, latency_ms = latency, failures = {network_error(resp)}}
  end
  local failures = {}
  local result = {status = resp.status, body = resp.body, latency_ms = latency, failures = failures}
  local status_ok = false
  for _, r in ipairs(e.status) do
    if resp.status >= r[1] and resp.status <= r[2] then status_ok = true end
  end
  if not status_ok then
    failures[#failures + 1] = ("status %d, expected %s: %s"):format(resp.status, e.status_text,
      excerpt(resp.body))
  end
  for name, want in pairs(e.headers) do
    local got = resp.headers[name]
    if got ~= want then
      failures[#failures + 1] = ("header %s is %s, expected '%s'"):format(name,
        got and ("'" .. got .. "'") or "absent", want)
    end
  end
  for _, text in ipairs(e.body_contains) do
    if not (resp.body or ""):find(text, 1, true) then
      failures[#failures + 1] = ("the body does not contain '%s': %s"):format(text, excerpt(resp.body))
    end
  end
  if e.body_matches and not regex.match(resp.body or "", e.body_matches) then
    failures[#failures + 1] = ("the body does not match /%s/: %s"):format(e.body_matches, excerpt(resp.body))
  end
  if #e.json > 0 then
    local parsed, doc = pcall(json.parse, resp.body or "")
    if not parsed then
      failures[#failures + 1] = ("the body is not JSON: %s"):format(excerpt(resp.body))
    else
      result.json = doc
      for _, j in ipairs(e.json) do
        local why = judge_json(j.path, j.op, j.want, find_path(doc, j.steps))
        if why then failures[#failures + 1] = why end
      end
    end
  end
  if e.latency_ms and latency > e.latency_ms then
    failures[#failures + 1] = ("latency %d ms, expected at most %s ms"):format(math.floor(latency + 0.5),
      tostring(e.latency_ms))
  end
  return result
end

local function parse_expect(fn, e)
  if e == nil then e = {} end
  if type(e) ~= "table" then bad(fn, "#1 'opts.expect'", "table or nil", e) end
  check_fields(fn, "#1 'opts.expect'", e, EXPECT_FIELDS)
  local out = {headers = {}, body_contains = {}, json = {}}
  out.status, out.status_text = parse_status(fn, e.status)
  if e.headers ~= nil then
    if type(e.headers) ~= "table" then bad(fn, "#1 'opts.expect.headers'", "table", e.headers) end
    for k, v in pairs(e.headers) do
      if type(k) ~= "string" or type(v) ~= "string" then
        bad(fn, "#1 'opts.expect.headers'", "header names mapped to strings", v)
      end
      out.headers[k:lower()] = v
    end
  end
  local contains = e.body_contains
  if type(contains) == "string" then contains = {contains} end
  if contains ~= nil then
    if type(contains) ~= "table" then bad(fn, "#1 'opts.expect.body_contains'", "string or list of strings", contains) end
    for _, text in ipairs(contains) do
      if type(text) ~= "string" then bad(fn, "#1 'opts.expect.body_contains'", "string or list of strings", text) end
      out.body_contains[#out.body_contains + 1] = text
    end
  end
  if e.body_matches ~= nil then
    if type(e.body_matches) ~= "string" then bad(fn, "#1 'opts.expect.body_matches'", "a regex", e.body_matches) end
    local ok, err = pcall(regex.match, "", e.body_matches)
    if not ok then
      fail(("healthcheck.%s: bad argument #1 'opts.expect.body_matches' (%s)"):format(fn, network_error(err)))
    end
    out.body_matches = e.body_matches
  end
  if e.json ~= nil then
    if type(e.json) ~= "table" then bad(fn, "#1 'opts.expect.json'", "table of JSON path -> value", e.json) end
    local paths = {}
    for path in pairs(e.json) do paths[#paths + 1] = path end
    table.sort(paths, function(a, b) return tostring(a) < tostring(b) end)
    for _, path in ipairs(paths) do
      local steps = parse_path(fn, path)
      local want = e.json[path]
      local op, value = "==", want
      if type(want) == "table" and want ~= json.null then
        local k, v = next(want)
        if type(k) == "string" and OPS[k] and next(want, k) == nil then
          op, value = k, v
          if op == "exists" and type(value) ~= "boolean" then
            bad(fn, ("#1 'opts.expect.json[\"%s\"].exists'"):format(path), "boolean", value)
          end
          if op == "matches" then
            if type(value) ~= "string" then bad(fn, ("#1 'opts.expect.json[\"%s\"].matches'"):format(path), "a regex", value) end
            local ok, err = pcall(regex.match, "", value)
            if not ok then
              fail(("healthcheck.%s: bad argument #1 'opts.expect.json[\"%s\"].matches' (%s)"):format(fn, path,
                network_error(err)))
            end
          end
        end
      end
      out.json[#out.json + 1] = {path = path, steps = steps, op = op, want = value}
    end
  end
  if e.latency_ms ~= nil then
    if type(e.latency_ms) ~= "number" or e.latency_ms <= 0 then
      bad(fn, "#1 'opts.expect.latency_ms'", "positive number", e.latency_ms)
    end
    out.latency_ms = e.latency_ms
  end
  return out
end

--- An HTTP check (not run yet: `check:run()`, `healthcheck.all`, `healthcheck.wait`). A string
--- is the URL with the default expectation (a status in 200-399). Its http client is made here.
---@param opts string|healthcheck.HttpOptions
---@return healthcheck.Check
function M.http(opts)
  if type(opts) == "string" then opts = {url = opts} end
  if type(opts) ~= "table" then bad("http", "#1 'opts'", "a URL or a table", opts) end
  check_fields("http", "#1 'opts'", opts, HTTP_FIELDS)
  if type(opts.url) ~= "string" or not opts.url:match("^https?://") then
    bad("http", "#1 'opts.url'", "an http:// or https:// URL",
      type(opts.url) == "string" and shown_url(opts.url) or opts.url)
  end
  if opts.name ~= nil and type(opts.name) ~= "string" then bad("http", "#1 'opts.name'", "string", opts.name) end
  if opts.method ~= nil and type(opts.method) ~= "string" then bad("http", "#1 'opts.method'", "string", opts.method) end
  local timeout = opts.timeout
  if timeout == nil then timeout = 10 end
  local self = setmetatable({
    name = opts.name or shown_url(opts.url),
    _url = opts.url,
    _method = (opts.method or "GET"):upper(),
    _headers = opts.headers,
    _body = opts.body,
    _auth = opts.auth,
    _expect = parse_expect("http", opts.expect),
    _timeout = timeout,
  }, HttpCheck)
  self._http = http.client{timeout = timeout, ca_cert = opts.ca_cert, insecure = opts.insecure}
  return self
end

local FnCheck = setmetatable({}, {__index = Check})
FnCheck.__index = FnCheck

---@private
function FnCheck:_run()
  local results = table.pack(pcall(self._fn))
  if not results[1] then
    return {ok = false, failures = {network_error(results[2])}}
  end
  local value, why = results[2], results[3]
  if type(value) == "table" and value.ok ~= nil then
    -- A result of another check (or a table shaped like one).
    return {ok = value.ok, failures = value.ok and {} or {tostring(value.message or "failed")}}
  end
  if value then return {ok = true, failures = {}} end
  return {ok = false, failures = {why ~= nil and tostring(why) or "failed"}}
end

--- A check from a function: healthy when it returns a true value; `false, why` (or raising)
--- makes it fail with that message.
---@param name string
---@param fn fun(): any, string?
---@return healthcheck.Check
function M.check(name, fn)
  if type(name) ~= "string" then bad("check", "#1 'name'", "string", name) end
  if type(fn) ~= "function" then bad("check", "#2 'fn'", "function", fn) end
  return setmetatable({name = name, _fn = fn}, FnCheck)
end

local function as_check(fn, name, c, default_name)
  if type(c) == "table" and getmetatable(c) and type(c.run) == "function" and c._run then return c end
  if type(c) == "function" then return M.check(default_name, c) end
  bad(fn, name, "a check (healthcheck.http or healthcheck.check) or a function", c)
end

-- A list or a name -> check map -> an ordered list of checks.
local function check_list(fn, checks)
  if type(checks) ~= "table" or getmetatable(checks) then
    bad(fn, "#1 'checks'", "a list of checks or a table of name -> check", checks)
  end
  local list = {}
  if #checks > 0 then
    for i, c in ipairs(checks) do
      list[i] = as_check(fn, ("#1 'checks[%d]'"):format(i), c, ("check %d"):format(i))
    end
  else
    local names = {}
    for k in pairs(checks) do
      if type(k) ~= "string" then bad(fn, "#1 'checks'", "a list of checks or a table of name -> check", checks) end
      names[#names + 1] = k
    end
    table.sort(names)
    for _, k in ipairs(names) do
      local c = as_check(fn, ("#1 'checks.%s'"):format(k), checks[k], k)
      -- The key names the check in the report.
      list[#list + 1] = setmetatable({name = k}, {__index = c})
    end
  end
  if #list == 0 then bad(fn, "#1 'checks'", "at least one check", checks) end
  return list
end

---@class healthcheck.Report
---@field ok boolean every check passed
---@field passed integer
---@field failed integer
---@field results healthcheck.Result[] in the order given (sorted by name for a name -> check table)
---@field message? string the failed checks and why, one per line (nil when ok)
---@field latency_ms number how long the whole run took

local function run_all(list, cap)
  local t0 = time.monotonic()
  local tasks = {}
  for i, c in ipairs(list) do
    tasks[i] = async.spawn(function() return c:_run_within(cap) end)
  end
  local report = {ok = true, passed = 0, failed = 0, results = {}}
  local why = {}
  for i, task in ipairs(tasks) do
    local ok, r = pcall(task.await, task)
    if not ok then
      r = {name = list[i].name, ok = false, failures = {network_error(r)}, latency_ms = 0}
      r.message = r.failures[1]
    end
    report.results[i] = r
    if r.ok then
      report.passed = report.passed + 1
    else
      report.failed = report.failed + 1
      report.ok = false
      why[#why + 1] = ("%s: %s"):format(r.name, r.message)
    end
  end
  report.latency_ms = (time.monotonic() - t0) * 1000
  if not report.ok then report.message = table.concat(why, "\n") end
  return report
end

--- Runs several checks concurrently (one task each) and aggregates their results.
---@param checks healthcheck.Check[]|table<string, healthcheck.Check>|function[]
---@return healthcheck.Report
function M.all(checks)
  return run_all(check_list("all", checks))
end

--- Runs `check` every `interval` seconds until it passes, each run's request bounded by the
--- time left; returns its result (a report for a list of checks). Raises after `timeout`
--- seconds with the last failure:
--- `healthcheck.wait: api not healthy after 60s: status 503, expected 200-399: ...`.
---@param check healthcheck.Check|function|healthcheck.Check[]|table<string, healthcheck.Check>
---@param opts? {timeout?: number, interval?: number} seconds (defaults 60 and 1)
---@return healthcheck.Result|healthcheck.Report
function M.wait(check, opts)
  if opts ~= nil and type(opts) ~= "table" then bad("wait", "#2 'opts'", "table or nil", opts) end
  opts = opts or {}
  check_fields("wait", "#2 'opts'", opts, {timeout = true, interval = true})
  local timeout, interval = api.wait_times("healthcheck", "wait", 2, opts)
  local run, name
  if type(check) == "table" and not getmetatable(check) then
    local list = check_list("wait", check)
    run = function(cap) return run_all(list, cap) end
    local names = {}
    for _, c in ipairs(list) do names[#names + 1] = c.name end
    name = table.concat(names, ", ")
  else
    local c = as_check("wait", "#1 'check'", check, "check")
    run = function(cap) return c:_run_within(cap) end
    name = c.name
  end
  local _, last = api.poll{timeout = timeout, interval = interval, floor = 0.05,
    try = function(limit)
      local r = run(limit)
      return r.ok, r
    end}
  if last.ok then return last end
  error(("healthcheck.wait: %s not healthy after %gs: %s"):format(name, timeout,
    (last.message or "failed"):gsub("\n", "; ")), 0)
end

return M
