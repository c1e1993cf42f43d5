-- Ends that stop reading, and a close racing a recv, in one process: nothing waits forever,
-- nothing is left half-closed.

local got_close, route_error = nil, nil
local server = http.server({
  GET = {
    -- Sends until the client (which never reads) stops taking bytes.
    ["/flood"] = function()
      return {websocket = function(conn)
        local chunk = ("y"):rep(64 * 1024)
        for _ = 1, 2000 do
          local ok, err = pcall(conn.send, conn, chunk)
          if not ok then route_error = err return end
        end
        route_error = "every send went through"
      end}
    end,
  },
}, {host = "127.0.0.1"})
local base = "ws://127.0.0.1:" .. server.port

-- A client that connects and never reads: the route's send blocks. Stopping the server
-- closes with 1001; the blocked send gives up when the close handshake's second is over.
local deaf = ws.connect(base .. "/flood")
sleep(0.5)
local started = time.monotonic()
server:stop()
local deadline = time.monotonic() + 5
while not route_error and time.monotonic() < deadline do sleep(0.01) end
assert(route_error, "the route's send is still blocked 5 s after stop")
assert(route_error:find("the peer stopped reading", 1, true), route_error)
assert(time.monotonic() - started < 3, "the send gave up after " .. time.monotonic() - started)
server:wait()

-- close() while another coroutine waits in recv with a short timeout: the reply that comes
-- after that recv gave up is still read, and the code is the server's, not 1006.
local server2 = http.server({GET = {["/slow-close"] = function()
  return {websocket = function(conn)
    sleep(0.5)
    got_close = {conn:recv(5)}
  end}
end}}, {host = "127.0.0.1"})
local conn = ws.connect("ws://127.0.0.1:" .. server2.port .. "/slow-close")
local waiting = async.spawn(function() return conn:recv(0.2) end)
sleep(0.05)
conn:close(4001, "bye")
local _, state = waiting:await()
assert(state == "timeout" or state == "closed", tostring(state))
-- Past the close handshake's second: the reply was read by close itself, the socket is
-- closed on our side (not left in CLOSE-WAIT), and recv reports the server's code.
sleep(1.2)
local port = ":" .. server2.port
local r = process.run({"ss", "-tanH", "state", "close-wait", "dport", "=", port})
assert.eq(r.stdout, "")
local _, closed, code, reason = conn:recv(3)
assert.eq(closed, "closed"); assert.eq(code, 4001); assert.eq(reason, "bye")
deadline = time.monotonic() + 3
while not got_close and time.monotonic() < deadline do sleep(0.01) end
assert(got_close, "the route never saw the close")
assert.eq(got_close[2], "closed"); assert.eq(got_close[3], 4001)
server2:stop()
deaf:close()
print("ok")
