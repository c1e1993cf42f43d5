-- test: stdout waits ok
-- Assay's async builtins are made on first use, after a script may have replaced
-- `coroutine.yield` or the whole `coroutine` table: their waits must still suspend with Lua's
-- own yield, never call the script's.
coroutine.yield = function() error("the script's yield was used") end
assert.raises(function() coroutine.yield() end, "script's yield")
sleep(0.01)
local t = async.spawn(function() sleep(0.01) return 1 end)
assert.eq(t:await(), 1)
_G.coroutine = nil
assert.eq(async.all({async.spawn(function() sleep(0.01) return 2 end)}), {2})
print("waits ok")
