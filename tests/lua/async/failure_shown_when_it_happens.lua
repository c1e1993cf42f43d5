-- test: exit 1
-- test: stderr (?s)assay: task failed \(nobody awaits it yet\): failure_shown_when_it_happens\.lua:\d+: dies early\nstack traceback:.*still running
-- test: stderr (?m)^1 spawned task\(s\) failed and were never awaited \(1 shown above as they failed\)$
-- A task that fails while nobody awaits it is shown when it fails, not only when the program
-- ends (a service may run for days with a dead task).
async.spawn(function() error("dies early") end)
sleep(0.2)
io.stderr:write("still running\n")
