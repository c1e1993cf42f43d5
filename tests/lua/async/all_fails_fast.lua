-- test: stdout (?m)^failed at once: true$
-- test: no-stderr task failed
-- async.all ends with the first task to fail, in time, not after the tasks before it in the
-- list (a task that runs for an hour would hold back the failure for an hour).
local slow = async.spawn(function() sleep(30) return 1 end)
local fails = async.spawn(function() sleep(0.05) error("fails early") end)
local t0 = time.monotonic()
local ok, err = pcall(async.all, {slow, fails})
assert(not ok and err:find("fails early"), err)
print("failed at once: " .. tostring(time.monotonic() - t0 < 5))
slow:cancel()
