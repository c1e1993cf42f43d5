-- test: flags --memory-limit 16M
-- test: no-stderr out of Lua stack
-- Spawning until memory runs out spun for over a minute, flooded "not enough memory" lines
-- and an internal "out of Lua stack". Now the spawn itself fails cleanly (each live task
-- counts against the limit), the spawner can catch it, and the tasks already spawned finish.
local spawned, finished = 0, 0
local ok, err = pcall(function()
  while true do
    async.spawn(function() sleep(0.2); finished = finished + 1 end)
    spawned = spawned + 1
  end
end)
assert.eq(ok, false)
assert.eq(err, "not enough memory")
assert.gt(spawned, 500)
local started = time.monotonic()
-- the same with tasks that never yield
local ok2, err2 = pcall(function()
  while true do async.spawn(function() return 1 end) end
end)
assert.eq(ok2, false)
assert.eq(err2, "not enough memory")
sleep(0.5)
assert.eq(finished, spawned)
assert.lt(time.monotonic() - started, 10)
print("spawned " .. spawned)
