--- assay.apiclient: the stdlib packages' shared internals (vault, openbao, prometheus,
--- alertmanager, loki, grafana, healthcheck). Not a public API: it may change with any
--- package that uses it.
---
--- local api = require("assay.apiclient")
--- api.own_source()                                    -- this file's frames are the package's
--- api.check_options("loki", "query", 2, opts, {"time", "limit"})
--- api.raise("loki.push: bad argument #1 'labels' (...)")  -- at the caller's line

---@class apiclient
local M = {}

-- debug.getinfo, when it works (under --sandbox it is absent or raises: no positions then).
local getinfo
do
  local ok, f = pcall(function() return debug.getinfo end)
  if ok and type(f) == "function" and pcall(f, 1, "S") then getinfo = f end
end

-- The sources of the library's own files: a bad argument is raised at the first frame
-- outside them (the user's call).
local SOURCES = {}
if getinfo then SOURCES[getinfo(1, "S").source] = true end

--- Registers the calling file as one of the packages' own (its frames are skipped when
--- `raise` looks for the caller's position). Does nothing without debug.getinfo.
---@param probe? fun(): table a `function() return debug.getinfo(1, "S") end` defined in the file (default: the caller's file)
function M.own_source(probe)
  if not getinfo then return end
  local ok, info
  if probe then ok, info = pcall(probe) else ok, info = true, getinfo(2, "S") end
  if ok and type(info) == "table" and info.source then SOURCES[info.source] = true end
end

--- Raises msg at the caller's position, as the builtins do: the first frame outside the
--- registered package files; without a position under --sandbox or when that frame is C.
---@param msg string
function M.raise(msg)
  if getinfo then
    for level = 2, 60 do
      local info = getinfo(level, "S")
      if not info then break end
      if not SOURCES[info.source] then
        error(msg, info.what == "C" and 0 or level)
      end
    end
  end
  error(msg, 0)
end

--- The names of an allowed set as shown in messages: a list keeps its order, a set
--- (`{name = true}`) is sorted.
---@param allowed string[]|table<string, boolean>
---@return string
local function names_of(allowed)
  if #allowed > 0 then return table.concat(allowed, ", ") end
  local names = {}
  for name in pairs(allowed) do names[#names + 1] = name end
  table.sort(names)
  return table.concat(names, ", ")
end

--- Raises "<pkg>.<fname>: bad argument <at> (unknown option 'k'; expected a, b)" for the first
--- key of t not in allowed (a list, or a set).
---@param pkg string
---@param fname string
---@param at string the argument as named in the message: "#1 'opts'"
---@param t table
---@param allowed string[]|table<string, boolean>
function M.unknown_options(pkg, fname, at, t, allowed)
  local set = allowed
  if #allowed > 0 then
    set = {}
    for _, name in ipairs(allowed) do set[name] = true end
  end
  for k in pairs(t) do
    if not set[k] then
      M.raise(("%s.%s: bad argument %s (unknown option '%s'; expected %s)"):format(pkg, fname, at,
        tostring(k), names_of(allowed)))
    end
  end
end

--- Checks an options argument: nil gives {}, a table with only allowed keys is returned,
--- anything else raises in the builtins' wording at the caller's position.
---@param pkg string
---@param fname string
---@param argn integer the argument's position
---@param opts any
---@param allowed string[]|table<string, boolean> a list (shown in order) or a set (shown sorted)
---@param argname? string default "opts"
---@param expected? string what a wrong type is told: default "table"
---@return table
function M.check_options(pkg, fname, argn, opts, allowed, argname, expected)
  argname = argname or "opts"
  if opts == nil then return {} end
  if type(opts) ~= "table" then
    M.raise(("%s.%s: bad argument #%d '%s' (%s expected, got %s)"):format(pkg, fname, argn, argname,
      expected or "table", type(opts)))
  end
  M.unknown_options(pkg, fname, ("#%d '%s'"):format(argn, argname), opts, allowed)
  return opts
end

--- Checks that argument `argn` (`argname`) is a non-empty string:
--- `<pkg>.<fname>: bad argument #n 'name' (non-empty string expected, got an empty string)`.
---@param pkg string
---@param fname string
---@param argn integer
---@param argname string
---@param v any
function M.check_name(pkg, fname, argn, argname, v)
  if type(v) ~= "string" or v == "" then
    M.raise(("%s.%s: bad argument #%d '%s' (non-empty string expected, got %s)"):format(
      pkg, fname, argn, argname, v == "" and "an empty string" or type(v)))
  end
end

--- Checks that option `name` of argument `argn` is absent or of Lua type `want`:
--- `<pkg>.<fname>: bad argument #n 'opts' (field 'name': string expected, got number)`.
---@param pkg string
---@param fname string
---@param argn integer
---@param name string
---@param v any
---@param want string
function M.check_field(pkg, fname, argn, name, v, want)
  if v ~= nil and type(v) ~= want then
    M.raise(("%s.%s: bad argument #%d 'opts' (field '%s': %s expected, got %s)"):format(
      pkg, fname, argn, name, want, type(v)))
  end
end

--- s without leading and trailing white space.
---@param s string
---@return string
function M.trim(s) return (s:gsub("^%s+", ""):gsub("%s+$", "")) end

--- A response body decoded: the JSON value when it is JSON, else the text; nil when blank.
---@param body string|nil
---@return any
function M.decode_body(body)
  body = body or ""
  if body:match("^%s*$") then return nil end
  local ok, decoded = pcall(json.parse, body)
  if ok then return decoded end
  return body
end

--- A service's error text from a response body: what `pick` finds in the decoded JSON (a
--- string, or nil when the shape is not the service's), else the body's text, trimmed and
--- cut at 512 bytes.
---@param body string|nil
---@param pick? fun(decoded: table): string|nil
---@return string
function M.error_text(body, pick)
  local d = M.decode_body(body)
  if type(d) == "table" and pick then
    local msg = pick(d)
    if type(msg) == "string" then return msg end
  end
  local text = M.trim(type(d) == "table" and (body or "") or tostring(d or ""))
  if #text > 512 then text = text:sub(1, 512) .. "..." end
  return text
end

--- The text of an error without the "file.lua:12: " position a raise put before it.
---@param err any
---@return string
function M.strip_position(err)
  err = tostring(err)
  local s, n = err:gsub("^[^\n]-:%d+: (http%.)", "%1", 1)
  if n > 0 then return s end
  return (err:gsub("^[^:\n]+%.lua:%d+: ", "", 1))
end

--- A network failure as a call's error: "<pkg>.<fname>: " and the http client's message
--- unchanged; raised without a position.
---@param pkg string
---@param fname string
---@param err any what pcall(client.request, ...) caught
function M.network_error(pkg, fname, err)
  error(("%s.%s: %s"):format(pkg, fname, M.strip_position(err)), 0)
end

--- A URL (or what was given as one) fit for a message: the password of its userinfo shown as
--- "***". Everything between the scheme and the last "@" counts as userinfo, so a password
--- holding "/" or "@" is masked as well.
---@param u string
---@param lone? boolean also hide a userinfo without ":" (a lone token) as "***"
---@return string
function M.mask_url(u, lone)
  local scheme, rest = u:match("^([%a][%w+.-]*://)(.*)$")
  if not scheme then scheme, rest = "", u end
  local at = rest:match(".*()@")
  if not at then return u end
  local user = rest:sub(1, at - 1):match("^([^:]*):")
  if not user and not lone then return u end
  return scheme .. (user and (user .. ":***") or "***") .. rest:sub(at)
end

--- An http(s) URL without its userinfo (user and password); other text unchanged.
---@param u string
---@return string
function M.strip_userinfo(u)
  local scheme, rest = u:match("^(https?://)(.*)$")
  if not scheme then return u end
  local authority, tail = rest:match("^([^/?#]*)(.*)$")
  local hostport = authority:match("@([^@]*)$")
  if not hostport then return u end
  return scheme .. hostport .. tail
end

--- An http(s) URL split for a client: url.parse's parts without user and password (what
--- `client.url` is built from), and the credentials it held ({user, password}, decoded; nil
--- without a user). nil when raw is not an http(s) URL with a host.
---@param raw any
---@return table|nil parts
---@return {user: string, password: string}|nil credentials
function M.split_url(raw)
  if type(raw) ~= "string" then return nil end
  local ok, parts = pcall(url.parse, raw)
  if not ok or type(parts) ~= "table" or (parts.scheme ~= "http" and parts.scheme ~= "https")
      or not parts.host then
    return nil
  end
  local cred
  if parts.user and parts.user ~= "" then cred = {user = parts.user, password = parts.password or ""} end
  parts.user, parts.password = nil, nil
  return parts, cred
end

--- The first of the environment variables that is set and not empty ("" counts as unset).
---@param ... string variable names
---@return string|nil
function M.env(...)
  for i = 1, select("#", ...) do
    local v = env.get((select(i, ...)))
    if v ~= nil and v ~= "" then return v end
  end
  return nil
end

--- A wait's {timeout, interval} (seconds; defaults 60 and 1), checked: a bad one raises
--- "<pkg>.<fname>: bad argument #n 'opts.timeout' (non-negative seconds expected, got x)".
---@param pkg string
---@param fname string
---@param argn integer the position of opts
---@param opts table already checked for unknown keys
---@return number timeout
---@return number interval
function M.wait_times(pkg, fname, argn, opts)
  local timeout, interval = opts.timeout or 60, opts.interval or 1
  local function bad(field, what, v)
    M.raise(("%s.%s: bad argument #%d 'opts.%s' (%s expected, got %s)"):format(pkg, fname, argn, field,
      what, type(v) == "string" and ("'" .. v .. "'") or type(v)))
  end
  if type(timeout) ~= "number" or timeout ~= timeout or timeout < 0 or timeout == math.huge then
    bad("timeout", "non-negative seconds", timeout)
  end
  if type(interval) ~= "number" or interval ~= interval or interval <= 0 or interval == math.huge then
    bad("interval", "positive seconds", interval)
  end
  return timeout, interval
end

---@class apiclient.PollSpec
---@field timeout number seconds in all
---@field interval number seconds between tries
---@field per_request? number|false a limit on each try besides the time left
---@field floor? number the least time a try is given (default 0.001)
---@field try fun(limit: number): boolean, any one try bounded by limit seconds: true and the result, or false and the state seen

--- Tries until one succeeds or the time is up, sleeping between tries (other coroutines run);
--- each try is bounded by the time left. Returns true and the result, or false and the last
--- state seen (also when the last try failed because the time ran out during it, e.g. its
--- request timed out at the deadline; a try that fails otherwise raises its error).
---@param spec apiclient.PollSpec
---@return boolean ok
---@return any result_or_last
function M.poll(spec)
  local timeout, interval = spec.timeout, spec.interval
  local deadline = time.monotonic() + timeout
  local last
  for _ = 1, math.ceil(timeout / interval) + 2 do
    local limit = math.max(deadline - time.monotonic(), spec.floor or 0.001)
    if type(spec.per_request) == "number" and spec.per_request < limit then limit = spec.per_request end
    local ran, done, value = pcall(spec.try, limit)
    if not ran then
      -- A try cut short by the deadline (its request timed out because the time was up) is
      -- the wait timing out, with the state seen before; any other failure is the caller's.
      if last ~= nil and time.monotonic() >= deadline then break end
      error(done, 0)
    end
    if done then return true, value end
    last = value
    local left = deadline - time.monotonic()
    if left <= 0 then break end
    sleep(math.min(interval, left))
  end
  return false, last
end

return M
