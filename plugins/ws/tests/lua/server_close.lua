-- The server closes with 4000 "bye": recv reports its code and reason, and the TCP
-- connection is gone on our side too.
local t = dofile(arg[0]:match("^(.*)/") .. "/common.lua")

local conn = ws.connect(t.base .. "/close")
conn:send("go")
local msg, state, code, reason = conn:recv(5)
assert.eq(msg, nil); assert.eq(state, "closed"); assert.eq(code, 4000); assert.eq(reason, "bye")
assert.eq(select(4, conn:recv(5)), "bye")
t.all_closed()
-- Closing again is harmless.
conn:close()
print("ok")
