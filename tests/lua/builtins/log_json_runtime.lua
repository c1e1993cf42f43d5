-- test: env ASSAY_LOG_FORMAT=json
-- test: exit 1
-- test: stderr (?m)^\{"level":"error","msg":"interval stopped: log_json_runtime\.lua:\d+: tick failed","source":"assay","traceback":"stack traceback:\\n[^"]*","ts":"[^"]+Z"\}$
-- test: stderr (?m)^\{"level":"error","msg":"task failed \(nobody awaits it yet\): log_json_runtime\.lua:\d+: task failed","source":"assay","traceback":"stack traceback:[^"]*","ts":"[^"]+Z"\}$
-- test: stderr (?m)^\{"level":"error","msg":"log_json_runtime\.lua:\d+: the end","source":"assay","traceback":"stack traceback:[^"]*","ts":"[^"]+Z"\}$
-- test: no-stderr (?m)^[^{]
-- In JSON mode the runtime's own lines are JSON objects too: an interval stopped by an
-- error, a task that failed unawaited, the error that ends the script; every line is one.
local tick = async.interval(0.01, function() error("tick failed") end)
async.spawn(function() error("task failed") end)
sleep(0.1)
error("the end")
