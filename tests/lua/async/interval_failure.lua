-- test: exit 1
-- test: stderr interval stopped: .*interval_failure\.lua:\d+: tick failed
async.interval(0.01, function() error("tick failed") end)
