-- Text and binary come back with their kind; a timeout leaves the conn usable; our close is
-- answered and ends the TCP connection; after it recv says closed with the peer's answer.
local t = dofile(arg[0]:match("^(.*)/") .. "/common.lua")

local conn = ws.connect(t.base .. "/echo")
assert.eq(conn.protocol, nil)
assert.eq(tostring(conn):match("^ws.Conn"), "ws.Conn")
conn:send("héllo")
local msg, kind = conn:recv(5)
assert.eq(msg, "héllo"); assert.eq(kind, "text")
conn:send_binary("\0\255\1")
msg, kind = conn:recv(5)
assert.eq(msg, "\0\255\1"); assert.eq(kind, "binary")
conn:send("")
assert.eq(select("#", conn:recv(5)), 2)
-- Nothing comes: a timeout, not a close, and the conn goes on.
msg, kind = conn:recv(0.2)
assert.eq(msg, nil); assert.eq(kind, "timeout")
conn:send("again")
assert.eq(conn:recv(5), "again")
-- A ping of ours is answered: the round trip in seconds.
local rtt = conn:ping()
assert(type(rtt) == "number" and rtt >= 0 and rtt < 5, tostring(rtt))

conn:close(1000, "done")
local _, state, code, reason = conn:recv()
assert.eq(state, "closed"); assert.eq(code, 1000); assert.eq(reason, "done")
-- Every later recv says the same; sending raises.
assert.eq(select(3, conn:recv()), 1000)
assert.raises(function() conn:send("late") end, "the connection is closed")
assert.eq(select(2, conn:ping()), "closed")
t.all_closed()
print("ok")
