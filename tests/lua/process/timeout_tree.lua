-- test: stdout ^timeout tree ok\n$
-- A timeout ends the child's whole process tree: SIGTERM to its group, SIGKILL after the
-- grace period for what ignores SIGTERM. Nothing is left running.
local running = require("fixtures.procs").running

local r = process.run({"sh", "-c", "sleep 987.61 & sleep 987.61; wait"}, {timeout = 0.5})
assert.eq({r.timed_out, r.ok, r.status}, {true, false, nil})
assert.eq(r.signal, 15)
sleep(0.2)
assert.eq(running("987.61"), 0)

-- A tree that ignores SIGTERM gets SIGKILL after kill_grace.
local started = time.monotonic()
r = process.run({"sh", "-c", "trap '' TERM; sleep 987.62 & sleep 987.62; wait"},
  {timeout = 0.3, kill_grace = 0.5})
local took = time.monotonic() - started
assert.eq({r.timed_out, r.signal}, {true, 9})
assert(took >= 0.75 and took < 5, "took " .. took)
sleep(0.2)
assert.eq(running("987.62"), 0)

-- A grandchild holding the pipes open cannot outlast the timeout either.
r = process.run({"sh", "-c", "sleep 987.63 & echo started"}, {timeout = 0.5})
assert.eq({r.timed_out, r.stdout}, {true, "started\n"})
sleep(0.2)
assert.eq(running("987.63"), 0)

-- check = true reports the timeout.
assert.raises(function()
  process.run({"sleep", "987.64"}, {timeout = 0.2, check = true})
end, "'sleep' timed out")
sleep(0.2)
assert.eq(running("987.64"), 0)
print("timeout tree ok")
