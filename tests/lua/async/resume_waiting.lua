-- A coroutine waiting in `sleep` (or any I/O) that another task resumed never let the program
-- end: the second resume stole the wake-up. Now resuming a waiting coroutine is refused like
-- resuming a running one: `resume` returns false and why, `wrap`'s function raises, `close`
-- raises, `status` says "normal"; the first resumer gets its results as usual.
local waiting = "cannot resume a coroutine that is waiting (in sleep or I/O)"

local co = coroutine.create(function() sleep(0.2) return "slept" end)
local first = async.spawn(function() return coroutine.resume(co) end)
sleep(0.05)
assert.eq(coroutine.status(co), "normal")
assert.eq({coroutine.resume(co)}, {false, waiting})
assert.raises(function() coroutine.close(co) end, "cannot close a coroutine that is waiting")
assert.eq({first:await()}, {true, "slept"})
assert.eq(coroutine.status(co), "dead")

local w = coroutine.wrap(function() sleep(0.2) return "wrapped" end)
local second = async.spawn(function() return w() end)
sleep(0.05)
assert.raises(function() w() end, "cannot resume a coroutine that is waiting")
assert.eq(second:await(), "wrapped")

-- A generator that sleeps between yields still works from one task.
local gen = coroutine.wrap(function()
  for i = 1, 3 do sleep(0.01); coroutine.yield(i) end
end)
assert.eq({gen(), gen(), gen()}, {1, 2, 3})
-- A task's own coroutine (from coroutine.running()) is the runtime's: nobody else resumes it.
local task_co
local sleeper = async.spawn(function() task_co = coroutine.running(); sleep(0.2); return "done" end)
sleep(0.05)
assert.eq({coroutine.resume(task_co)},
  {false, "cannot resume a coroutine that the runtime drives (a task or the main chunk)"})
assert.raises(function() coroutine.close(task_co) end, "cannot close a coroutine that the runtime drives")
assert.eq(sleeper:await(), "done")
print("resume rules ok")
