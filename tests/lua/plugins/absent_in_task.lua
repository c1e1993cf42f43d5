-- test: flags --lib-path /nowhere:/also/nowhere
-- test: exit 1
-- test: stderr 2 spawned task\(s\) failed and were never awaited
-- test: stderr absent_in_task\.lua:\d+: attempt to call a nil value \(global 'db'\); `db` is provided by the plugin 'db', which is not installed \(lib path: /nowhere:/also/nowhere\)
-- test: stderr absent_in_task\.lua:\d+: attempt to index a nil value \(global 'cryptoo'\)\n
-- test: no-stderr 'cryptoo'\);
-- A spawned task reports the missing plugin too; a name no known plugin provides (a typo)
-- gets Lua's message alone.
async.spawn(function() sleep(0.01) db() end)
async.spawn(function() sleep(0.01) return cryptoo.hash("x") end)
