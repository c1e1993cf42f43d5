-- test: flags --memory-limit 32M
-- A builtin that builds its result outside Lua checks it against the memory left, and Lua's
-- own allocator collects the garbage before it gives up: so must the builtins. Each call below
-- fits once the garbage is collected (8 MiB live, 8 MiB more), but not while 16 MiB of dead
-- strings are still counted: they used to fail with "not enough memory".
local eight = string.rep("w", 8 * 1024 * 1024 - 16)
local doc = json.encode({eight})
eight = nil
collectgarbage()

-- 16 MiB of garbage, counted against the limit until a collection.
local function litter()
  for i = 1, 2 do
    local dead = doc .. i
    assert(#dead > 0)
  end
end

local function fits(what, f, ...)
  litter()
  local ok, result = pcall(f, ...)
  assert(ok, what .. ": " .. tostring(result))
  return result
end

assert.eq(#fits("json.parse", json.parse, doc)[1], #doc - 4)
-- `["..."]` around the text, its two quotes escaped.
assert.eq(#fits("json.encode", json.encode, {doc}), #doc + 6)
assert.eq(#fits("yaml.encode", yaml.encode, {doc}) > #doc, true)
assert.eq(#fits("regex.replace", regex.replace, doc, "w", "v", {all = true}), #doc)

local path = fs.tempdir() .. "/eight.bin"
fs.write(path, doc)
assert.eq(#fits("fs.read", fs.read, path), #doc)
fs.remove(path)

-- Still a clean error when the live data alone does not fit.
local keep = {doc .. "1", doc .. "2"}
local ok, err = pcall(json.parse, doc)
assert.eq(ok, false)
assert.eq(err, "not enough memory")
assert.eq(#keep, 2)
