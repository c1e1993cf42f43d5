-- test: stdout (?m)^reused ok$
-- Task coroutines are reused once finished (a server makes one per request): each task still
-- starts clean, with its own arguments, after one that failed, one that yielded in sleep, and
-- one whose to-be-closed variable ran; a task's coroutine is a driven one the script cannot
-- resume, and a finished task's results stay its own.
local closed = 0
local function task(i)
  local guard <close> = setmetatable({}, {__close = function() closed = closed + 1 end})
  if i % 3 == 0 then error("task " .. i .. " fails") end
  if i % 3 == 1 then sleep(0) end
  local co, main = coroutine.running()
  assert(not main, "a task is not the main coroutine")
  assert(not coroutine.resume(co), "a task's coroutine cannot be resumed by the script")
  return i * 10
end
for round = 1, 3 do
  local tasks = {}
  for i = 1, 40 do tasks[i] = async.spawn(task, i) end
  for i = 1, 40 do
    local ok, value = pcall(function() return tasks[i]:await() end)
    if i % 3 == 0 then
      assert(not ok and tostring(value):find("task " .. i .. " fails", 1, true), tostring(value))
    else
      assert(ok and value == i * 10, ("round %d task %d gave %s"):format(round, i, tostring(value)))
    end
  end
end
assert(closed == 120, "every task's <close> ran once: " .. closed)
print("reused ok")
