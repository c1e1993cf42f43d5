-- test: flags --memory-limit 0
-- With no memory limit the host says so (nil), and large values cross unbounded.
assert.is_nil(probe.memory_limit())
local s = string.rep("y", 1024 * 1024)
local t = {}
for i = 1, 20 do t[i] = s end
assert.eq(#probe.echo(t), 20)
