-- test: flags --memory-limit 16M
-- Garbage with finalizers must not outgrow the collector. Every async call (here `sleep(0)`)
-- leaves one finalizable userdata behind, and Lua 5.5's incremental collector let those grow
-- without bound: 400,000 calls ran out of a 16 MiB limit (600 MB after 3 million without a
-- limit), and so did a plain loop of tables with `__gc`. Both loops keep under 16 MiB now.
local calls = 600000
for _ = 1, calls do
  sleep(0)
end

local finalized = 0
local mt = {__gc = function() finalized = finalized + 1 end}
for _ = 1, 2000000 do
  setmetatable({}, mt)
end
collectgarbage()
collectgarbage()
assert.eq(finalized, 2000000, "every finalizer ran")
assert.lt(collectgarbage("count"), 4 * 1024)
