-- test: flags --memory-limit 16M
-- test: stdout ^budget ok\n$
-- Idle handles with unread output do not starve others: a run's output is never cut because
-- of another process's, and a handle read as it goes always progresses.
local idle = {}
for i = 1, 5 do
  idle[i] = process.spawn({"sh", "-c", "yes | head -c 5000000; sleep 987.8"})
end
sleep(0.5)
local r = process.run({"echo", "important output"})
assert.eq({r.stdout, r.stdout_truncated}, {"important output\n", false})
-- Read one handle to its end while the others hold what they hold.
local reader = process.spawn({"sh", "-c", "yes line | head -c 500000"})
local lines = 0
for _ in reader:lines() do lines = lines + 1 end
assert.eq(lines, 100000)
for _, h in ipairs(idle) do h:kill("KILL") end
print("budget ok")
