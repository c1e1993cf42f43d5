-- One function serves either end: the http server's WebSocket route and a ws.connect client
-- run the same code on the same conn API (kinds, protocol, ping, close codes), and `<close>`
-- closes a client conn with 1000 for the server to see.

local function converse(conn, name)
  assert.eq(conn.protocol, "chat")
  conn:send("hello from " .. name)
  local theirs, kind = conn:recv(5)          -- the other end's greeting
  assert.eq(kind, "text")
  conn:send_binary(theirs)                   -- back to it, as binary
  local ours, kind2 = conn:recv(5)           -- our own greeting, returned
  assert.eq(ours, "hello from " .. name); assert.eq(kind2, "binary")
  assert.eq(type(conn:ping(5)), "number")
  return theirs
end

local heard, ended = {}, {}
local server = http.server({
  GET = {
    ["/chat"] = function()
      return {protocols = {"chat"}, websocket = function(conn)
        heard.server = converse(conn, "server")
        heard.server_type = tostring(conn):match("^[%w.]+")
      end}
    end,
    ["/listen"] = function()
      return {websocket = function(conn)
        ended.listen = {conn:recv(5)}
      end}
    end,
  },
}, {host = "127.0.0.1"})
local base = "ws://127.0.0.1:" .. server.port

local conn = ws.connect(base .. "/chat", {subprotocols = {"chat"}})
heard.client = converse(conn, "client")
assert.eq(tostring(conn):match("^[%w.]+"), "ws.Conn")
-- The route's function returned: the server closed with 1000.
local msg, state, code, reason = conn:recv(5)
assert.eq(msg, nil); assert.eq(state, "closed"); assert.eq(code, 1000); assert.eq(reason, "")
assert.eq(heard.client, "hello from server")
assert.eq(heard.server, "hello from client")
assert.eq(heard.server_type, "http.WebSocket")

-- A route that speaks "chat" refuses a client offering something else, saying why.
local ok, err = pcall(ws.connect, base .. "/chat", {subprotocols = {"irc"}})
assert.eq(ok, false)
assert(err:find("HTTP 400 Bad Request (no subprotocol in common: the client offers irc; this route speaks chat)", 1, true), err)

-- `<close>`: leaving the block closes with 1000; the server's recv sees it.
do
  local listener <close> = ws.connect(base .. "/listen")
  listener:send("x")  -- the handler is running
end
local deadline = time.monotonic() + 5
while not ended.listen and time.monotonic() < deadline do sleep(0.01) end
assert.eq(ended.listen[1], "x")

do
  local listener <close> = ws.connect(base .. "/listen")
end
ended.listen = nil
deadline = time.monotonic() + 5
while not ended.listen and time.monotonic() < deadline do sleep(0.01) end
assert(ended.listen, "the server's recv did not end")
assert.eq(ended.listen[2], "closed"); assert.eq(ended.listen[3], 1000)
server:stop()
print("ok")
