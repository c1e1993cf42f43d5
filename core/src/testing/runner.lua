-- assay test: the API a test file sees, and the loop that runs its cases.
-- Called with the file's loaded chunk, the --filter text (or nil), the file's name and the
-- host (Rust functions told of each case: testing/file.rs). Returns how many cases the file
-- defined (0: a plain file, one case that passes unless it raises).
--
-- Everything used after the file's chunk starts is captured here first: a test file may
-- replace any global (`xpcall`, `string.find`, `json`...) and must not change how its cases
-- are judged.
local chunk, filter, file_name, host = ...
local pcall, error, type, tostring, getmetatable = pcall, error, type, tostring, getmetatable
local tointeger = math.tointeger
local string_find, concat = string.find, table.concat
local json_encode = json.encode
local getinfo = debug and debug.getinfo
local started, keep_planned, keep_finished = host.started, host.planned, host.finished
local mark, settle, cancel_rest = host.mark, host.settle, host.cancel_rest
-- The host keeps names and messages outside Lua, charged against the memory limit: it says
-- when they no longer fit, and the file ends as if Lua's own allocator had failed.
local function planned(name)
  if not keep_planned(name) then error("not enough memory", 0) end
end
local function finished(name, passed, message)
  if not keep_finished(name, passed, message) then error("not enough memory", 0) end
end

local cases, scopes = {}, {{name = nil, before = {}, after = {}}}
local collecting = true

-- `os.exit` would end the whole run (every other file, the report): in a test it fails the
-- test instead, as in Deno. The attempt is remembered, so catching the error does not hide it.
local exit_attempt
os.exit = function(code)
  local shown
  if code == nil or code == true then shown = "0"
  elseif code == false then shown = "1"
  else shown = tostring(tointeger(code) or code) end
  local where = ""
  if getinfo then
    local info = getinfo(2, "Sl")
    if info and info.currentline and info.currentline > 0 then
      where = info.short_src .. ":" .. info.currentline .. ": "
    end
  end
  local message = where .. "tried to exit with code " .. shown .. " (os.exit cannot end a test run)"
  exit_attempt = exit_attempt or message
  error(message, 0)
end

local function full_name(name)
  local parts = {}
  for i = 2, #scopes do parts[#parts + 1] = scopes[i].name end
  parts[#parts + 1] = name
  return concat(parts, " › ")
end

local function hooks()
  local before, after = {}, {}
  for s = 1, #scopes do
    local scope = scopes[s]
    for i = 1, #scope.before do before[#before + 1] = scope.before[i] end
  end
  -- Inner scopes' after hooks first, each scope's in the order they were defined.
  for s = #scopes, 1, -1 do
    local scope = scopes[s]
    for i = 1, #scope.after do after[#after + 1] = scope.after[i] end
  end
  return before, after
end

local function check_name(what, name, fn)
  if type(name) ~= "string" then
    error(what .. ": bad argument #1 'name' (string expected, got " .. type(name) .. ")", 3)
  end
  if type(fn) ~= "function" then
    error(what .. ": bad argument #2 'fn' (function expected, got " .. type(fn) .. ")", 3)
  end
  if not collecting then
    error(what .. ": cases are defined at the file's top level or in describe, not inside a test", 3)
  end
end

function test(name, fn)
  check_name("test", name, fn)
  local before, after = hooks()
  cases[#cases + 1] = {name = full_name(name), fn = fn, before = before, after = after}
end

function describe(name, fn)
  check_name("describe", name, fn)
  scopes[#scopes + 1] = {name = name, before = {}, after = {}}
  local ok, err = pcall(fn)
  scopes[#scopes] = nil
  if not ok then error(err, 0) end
end

local function hook(what, list_name)
  return function(fn)
    if type(fn) ~= "function" then
      error(what .. ": bad argument #1 'fn' (function expected, got " .. type(fn) .. ")", 2)
    end
    if not collecting then
      error(what .. ": hooks are defined at the file's top level or in describe, not inside a test", 2)
    end
    local scope = scopes[#scopes]
    scope[list_name][#scope[list_name] + 1] = fn
  end
end
before_each = hook("before_each", "before")
after_each = hook("after_each", "after")

-- The message of a failure: what was raised (an assert's message carries its file:line and
-- its diff), as a string. Run after the error is caught, not as xpcall's handler: a
-- `__tostring` of the error value is the test's code and must run where the deadline can
-- still interrupt it.
local function failure(err)
  if type(err) == "string" then return err end
  local mt = getmetatable(err)
  if type(err) == "table" and not (type(mt) == "table" and mt.__tostring) then
    local ok, shown = pcall(json_encode, err)
    if ok then return "error value " .. shown end
  end
  local ok, shown = pcall(tostring, err)
  if ok and type(shown) == "string" then return shown end
  return "(an error value that cannot be shown)"
end

-- Runs f; returns nil if it returned, else the failure's message.
local function attempt(f)
  local ok, err = pcall(f)
  if ok then return nil end
  return failure(err)
end

local ok, err = pcall(chunk)
collecting = false
if ok and exit_attempt then ok, err = false, exit_attempt end
if not ok then
  planned(file_name)
  started(file_name)
  finished(file_name, false, failure(err))
  -- As a script that raises ends without waiting for what it started.
  cancel_rest()
  return #cases
end

local selected = {}
for i = 1, #cases do
  local case = cases[i]
  if filter == nil or string_find(case.name, filter, 1, true) then
    selected[#selected + 1] = case
    planned(case.name)
  end
end

for i = 1, #selected do
  local case = selected[i]
  started(case.name)
  exit_attempt = nil
  local since = mark()
  local message
  for h = 1, #case.before do
    local e = attempt(case.before[h])
    if e then message = "before_each: " .. e break end
  end
  if not message then message = attempt(case.fn) end
  for h = 1, #case.after do
    local e = attempt(case.after[h])
    if e and not message then message = "after_each: " .. e end
  end
  if exit_attempt and message ~= exit_attempt then
    message = message and (exit_attempt .. "\n" .. message) or exit_attempt
  end
  local left = settle(since)
  if left then message = message and (message .. "\n" .. left) or left end
  finished(case.name, message == nil, message or "")
end

-- What the file's top level started (a server the cases used) ends with its cases.
if #cases > 0 then cancel_rest() end
return #cases
