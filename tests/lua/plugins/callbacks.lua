-- Lua functions called from a plugin's own thread run on the Lua thread, as coroutines, and
-- return their results in order.

local results = probe.hammer(function(i) return i * 2 end, 10000)
assert.eq(#results, 10000)
for i = 1, 10000 do
  if results[i] ~= i * 2 then
    error(("result %d is %s"):format(i, tostring(results[i])))
  end
end

-- A callback may wait (it is a coroutine); others keep running meanwhile.
local slow = probe.hammer(function(i) sleep(0.001) return "s" .. i end, 20)
assert.eq(slow[1], "s1")
assert.eq(slow[20], "s20")

-- Its error reaches the plugin with the traceback; the plugin passing it on unchanged, its
-- caller gets what the function raised, as it was (as from Lua's table.sort or gsub).
local ok, err = pcall(probe.hammer, function(i) error("bad " .. i) end, 3)
assert.eq(ok, false)
assert.matches(err, [[^callbacks\.lua:\d+: bad 1$]])
ok, err = pcall(probe.hammer, function(i) error({i = i}) end, 3)
assert.eq(err, {i = 1})

-- A function the plugin made itself runs and fails like a builtin: a plain string message at
-- the caller's position, no traceback inside it.
local twice = probe.twice()
assert.eq(twice(21), 42)
assert.eq(rawequal(twice, probe.twice()), false)
local ok, err = pcall(twice, "x")
assert.eq(ok, false)
assert.eq(type(err), "string")
assert.matches(err, [[^callbacks\.lua:\d+: bad argument #1 'n' \(integer expected, got string\)$]])
