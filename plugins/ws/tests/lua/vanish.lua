-- A peer that drops the connection without a close frame: 1006 with the cause; sending then
-- raises.
local t = dofile(arg[0]:match("^(.*)/") .. "/common.lua")

local conn = ws.connect(t.base .. "/vanish")
conn:send("go")
local msg, state, code, reason = conn:recv(5)
assert.eq(msg, nil); assert.eq(state, "closed"); assert.eq(code, 1006)
assert(#reason > 0, "a cause is given")
assert.raises(function() conn:send("anyone?") end, "the connection is closed")
t.all_closed()
print("ok")
