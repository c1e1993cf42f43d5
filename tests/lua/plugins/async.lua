-- Async plugin calls yield only the calling coroutine: calls in separate tasks overlap.

local start = time.monotonic()
local tasks = {}
for i = 1, 10 do
  tasks[i] = async.spawn(function() return probe.sleep(0.2, i) end)
end
local values = async.all(tasks)
local elapsed = time.monotonic() - start
for i = 1, 10 do
  assert.eq(values[i], i)
end
assert.lt(elapsed, 1.5, "ten 0.2 s sleeps ran concurrently")

-- A plain coroutine of the script's may call them too.
local gen = coroutine.wrap(function() coroutine.yield(probe.sleep(0.01, "a")) return "b" end)
assert.eq(gen(), "a")
assert.eq(gen(), "b")
