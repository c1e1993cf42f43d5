-- test: stdout ^main done\nfinalized at exit\n$
-- Like the reference interpreter, the state is closed at the end: pending finalizers run.
local keep = setmetatable({}, {__gc = function() print("finalized at exit") end})
print("main done")
