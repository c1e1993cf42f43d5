-- test: no-stderr task failed
-- test: stdout (?m)^caught 2$
-- A failure someone is awaiting (an await, or async.all waiting for an earlier task) is the
-- awaiter's to handle: nothing is shown.
local slow = async.spawn(function() sleep(0.1) return 1 end)
local fails = async.spawn(function() sleep(0.02) error("second fails first") end)
local ok = pcall(async.all, {slow, fails})
assert(not ok)
local t = async.spawn(function() sleep(0.02) error("awaited") end)
local ok2 = pcall(t.await, t)
assert(not ok2)
print("caught " .. ((ok or ok2) and 0 or 2))
