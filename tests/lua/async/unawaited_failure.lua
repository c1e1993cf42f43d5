-- test: exit 1
-- test: stderr 1 spawned task\(s\) failed and were never awaited
-- test: stderr unawaited_failure\.lua:\d+: nobody listens
-- test: stdout main finished
async.spawn(function() sleep(0.01) error("nobody listens") end)
print("main finished")
