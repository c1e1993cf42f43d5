-- A pong nobody asked for (a heartbeat) does not answer our pings.
local t = dofile(arg[0]:match("^(.*)/") .. "/common.lua")

local conn = ws.connect(t.base .. "/heartbeat")
conn:send("after the pong")
assert.eq(conn:recv(5), "after the pong")   -- the unsolicited pong has been read
for _ = 1, 3 do
  local rtt = conn:ping(5)
  assert(type(rtt) == "number", tostring(rtt))
end
conn:close()
print("ok")
