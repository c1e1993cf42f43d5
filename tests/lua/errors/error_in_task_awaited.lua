-- test: exit 1
-- test: stderr ^error_in_task_awaited\.lua:4: inside the task
local t = async.spawn(function()
  error("inside the task")
end)
t:await()
