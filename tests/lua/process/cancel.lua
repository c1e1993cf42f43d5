-- test: stdout ^cancel ok\n$
-- A process.run whose caller is gone (a cancelled task, a handler past its timeout) ends its
-- child at once, not whenever the collector happens to run.
local running = require("fixtures.procs").running
local function gone_soon(marker)
  for _ = 1, 30 do
    if running(marker) == 0 then return true end
    sleep(0.05)
  end
  return false
end
collectgarbage("stop") -- the collector must not be what ends them

local task = async.spawn(function() return process.run({"sleep", "987.91"}) end)
sleep(0.2)
assert.eq(running("987.91"), 1)
task:cancel()
assert(gone_soon("987.91"), "the cancelled task's child still runs")

-- Inside a coroutine of the task, too.
task = async.spawn(function()
  local inner = coroutine.wrap(function() return process.run({"sleep", "987.92"}) end)
  return inner()
end)
sleep(0.2)
assert.eq(running("987.92"), 1)
task:cancel()
assert(gone_soon("987.92"), "the child of a coroutine inside the cancelled task still runs")

-- A handler that times out.
local server = http.server({GET = {["/slow"] = function()
  process.run({"sleep", "987.93"})
  return "late"
end}}, {host = "127.0.0.1", timeout = 0.3})
local r = http.get("http://127.0.0.1:" .. server.port .. "/slow")
assert.eq(r.status, 503)
assert(gone_soon("987.93"), "the timed-out handler's child still runs")
server:stop()
server:wait()
collectgarbage("restart")
print("cancel ok")
