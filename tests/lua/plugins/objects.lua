-- Objects: methods, fields, tostring; the drop hook runs when Lua collects the object, or at
-- once when a <close> variable goes out of scope.

local base = probe.live()
local t = probe.tracked("one")
assert.eq(t:name(), "one")
assert.eq(t.label, "<one>")
assert.is_nil(t.nothing)
assert.matches(tostring(t), [[^probe\.Tracked: 0x[0-9a-f]+$]])
assert.eq(t:later(0.01), "one")
assert.eq(probe.live(), base + 1)

t = nil
collectgarbage()
collectgarbage()
assert.eq(probe.live(), base, "drop hook ran after collection")

do
  local c <close> = probe.tracked("two")
  assert.eq(probe.live(), base + 1)
end
assert.eq(probe.live(), base, "drop hook ran at scope exit")

-- A closed object refuses further use by name.
local c = probe.tracked("three")
do local closing <close> = c end
assert.raises(function() c:name() end, "probe.Tracked:name: the probe.Tracked is closed")

-- An async method keeps its own reference: collecting the userdata mid-call is safe.
local task = async.spawn(function() return probe.tracked("four"):later(0.05) end)
collectgarbage()
assert.eq(task:await(), "four")
collectgarbage()
collectgarbage()
assert.eq(probe.live(), base)
