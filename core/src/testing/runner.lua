-- assay test: the API a test file sees, and the loop that runs its cases.
-- Called with the file's loaded chunk and the --filter text (or nil); returns a list of
-- {name, passed, message, ms}, one per case run (a file without cases is one case).
local chunk, filter, file_name = ...
local monotonic = time.monotonic
local cases, scopes = {}, {{name = nil, before = {}, after = {}}}
local collecting = true

local function full_name(name)
  local parts = {}
  for i = 2, #scopes do parts[#parts + 1] = scopes[i].name end
  parts[#parts + 1] = name
  return table.concat(parts, " › ")
end

local function hooks()
  local before, after = {}, {}
  for _, scope in ipairs(scopes) do
    for _, f in ipairs(scope.before) do before[#before + 1] = f end
    for i = #scope.after, 1, -1 do table.insert(after, 1, scope.after[i]) end
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
    local scope = scopes[#scopes]
    scope[list_name][#scope[list_name] + 1] = fn
  end
end
before_each = hook("before_each", "before")
after_each = hook("after_each", "after")

-- The message of a failure: what was raised (an assert's message carries its file:line and
-- its diff), as a string.
local function failure(err)
  if type(err) == "string" then return err end
  local mt = getmetatable(err)
  if type(err) == "table" and not (type(mt) == "table" and mt.__tostring) then
    local ok, shown = pcall(json.encode, err)
    if ok then return "error value " .. shown end
  end
  local ok, shown = pcall(tostring, err)
  return ok and shown or "(an error value that cannot be shown)"
end

local started = monotonic()
local ok, err = xpcall(chunk, failure)
collecting = false
if not ok then
  return {{name = file_name, passed = false, message = err, ms = (monotonic() - started) * 1000}}
end
if #cases == 0 then
  if filter ~= nil and not file_name:find(filter, 1, true) then return {} end
  return {{name = file_name, passed = true, message = "", ms = (monotonic() - started) * 1000}}
end

local results = {}
for _, case in ipairs(cases) do
  if filter == nil or case.name:find(filter, 1, true) then
    local t0 = monotonic()
    local passed, message = true, ""
    for _, f in ipairs(case.before) do
      local good, e = xpcall(f, failure)
      if not good then passed, message = false, "before_each: " .. e break end
    end
    if passed then
      local good, e = xpcall(case.fn, failure)
      if not good then passed, message = false, e end
    end
    for _, f in ipairs(case.after) do
      local good, e = xpcall(f, failure)
      if not good and passed then passed, message = false, "after_each: " .. e end
    end
    results[#results + 1] = {name = case.name, passed = passed, message = message, ms = (monotonic() - t0) * 1000}
  end
end
return results
