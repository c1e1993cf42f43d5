-- An idle peer is a timeout, not a close: the message that comes later is received.
local t = dofile(arg[0]:match("^(.*)/") .. "/common.lua")

local conn = ws.connect(t.base .. "/idle")
conn:send("go")
local msg, state = conn:recv(0.2)
assert.eq(msg, nil); assert.eq(state, "timeout")
msg, state = conn:recv(5)
assert.eq(msg, "late"); assert.eq(state, "text")
conn:close(4001, "enough")
t.all_closed()
print("ok")
