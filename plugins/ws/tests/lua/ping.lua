-- The server's ping is answered while we wait in recv; ours gets its pong.
local t = dofile(arg[0]:match("^(.*)/") .. "/common.lua")

local conn = ws.connect(t.base .. "/ping")
conn:send("go")
local msg = conn:recv(10)
assert(msg and msg:match("^pong after [%d.e-]+$"), tostring(msg))
local rtt = conn:ping(5)
assert(type(rtt) == "number" and rtt < 5, tostring(rtt))
-- A ping while another coroutine waits in recv: that recv sees the pong for it.
local waiting = async.spawn(function() return conn:recv(5) end)
sleep(0.05)
rtt = conn:ping(5)
assert(type(rtt) == "number", tostring(rtt))
conn:send("echoed")
assert.eq(waiting:await(), "echoed")
conn:close()
t.all_closed()
print("ok")
