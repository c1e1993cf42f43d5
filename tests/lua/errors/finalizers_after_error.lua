-- test: exit 1
-- test: stdout ^finalized after the error report\n$
-- test: stderr ^finalizers_after_error\.lua:6: failing
-- An error is reported, then the state is closed and its finalizers still run (as in `lua`).
local keep = setmetatable({}, {__gc = function() print("finalized after the error report") end})
error("failing")
