-- A server that stops reading: a send blocked on it does not hold the conn forever. ping
-- keeps to its timeout, close ends everything within the close handshake's bound, the
-- blocked send raises, and nothing is left half-closed.
local t = dofile(arg[0]:match("^(.*)/") .. "/common.lua")

local conn = ws.connect(t.base .. "/deaf")
local chunk = ("x"):rep(64 * 1024)
local sender = async.spawn(function()
  for i = 1, 2000 do                    -- at most 128 MiB: the buffers fill long before
    local ok, err = pcall(conn.send, conn, chunk)
    if not ok then return i, err end
  end
  return nil, "every send went through: the peer read them"
end)
sleep(0.5)                              -- the sender is blocked by now

local started = time.monotonic()
local rtt, state = conn:ping(0.5)
assert.eq(rtt, nil); assert.eq(state, "timeout")
assert(time.monotonic() - started < 1.5, "ping took " .. time.monotonic() - started)

started = time.monotonic()
conn:close()
local n, err = sender:await()
assert(time.monotonic() - started < 3, "close took " .. time.monotonic() - started)
assert(n and n > 1, err)
assert(err:find("the connection is closed", 1, true), err)
assert.raises(function() conn:send("more") end, "the connection is closed")
local _, closed, code = conn:recv(1)
assert.eq(closed, "closed"); assert.eq(code, 1006)
t.all_closed()
print("ok")
