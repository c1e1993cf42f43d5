-- async: spawn/await, concurrency, cancel, all, interval, errors.

-- two 0.3 s sleeps in two tasks overlap
local start = time.monotonic()
local t1 = async.spawn(function(x) sleep(0.3) return x, "one" end, 1)
local t2 = async.spawn(function() sleep(0.3) return 2 end)
local a, b = t1:await()
assert.eq({a, b}, {1, "one"})
assert.eq(t2:await(), 2)
local elapsed = time.monotonic() - start
assert.lt(elapsed, 0.5, "two 0.3 s sleeps ran concurrently")
assert.ge(elapsed, 0.3)

-- await after completion returns the same results; done() reports it
assert.eq(t1:await(), 1)
assert.eq(t1:done(), true)
assert.matches(tostring(t1), "task \\(done\\)")

-- a task's error is re-raised by await, unchanged
local failing = async.spawn(function() error("task broke") end)
local ok, err = pcall(failing.await, failing)
assert.eq(ok, false)
assert.matches(err, [[tasks\.lua:\d+: task broke$]])
local obj = {}
local thrower = async.spawn(function() error(obj) end)
local _, e2 = pcall(thrower.await, thrower)
assert(e2 == obj, "non-string errors survive")

-- cancel
local slow = async.spawn(function() sleep(10) return "never" end)
assert.eq(slow:done(), false)
assert.eq(slow:cancel(), true)
assert.eq(slow:cancel(), false)
assert.raises(function() slow:await() end, "task cancelled")

-- all: first results in order
local tasks = {}
for i = 1, 5 do
  tasks[i] = async.spawn(function() sleep(0.01 * (6 - i)) return i * i end)
end
assert.eq(async.all(tasks), {1, 4, 9, 16, 25})
assert.raises(function() async.all({async.spawn(function() error("bad one") end)}) end, "bad one")
assert.raises(function() async.all({1}) end, "item 1 is a number, not a task")

-- interval ticks until cancelled
local ticks = 0
local handle
handle = async.interval(0.01, function()
  ticks = ticks + 1
  if ticks == 3 then handle:cancel() end
end)
sleep(0.2)
assert.eq(ticks, 3)
assert.raises(function() async.interval(0, function() end) end, "at least 0.001 s")
assert.raises(function() async.spawn(42) end, [[bad argument #1 'fn' \(function expected, got number\)]])

-- the program waits for spawned work after the main chunk ends
async.spawn(function() sleep(0.05) print("late task finished") end)
print("main chunk done")
