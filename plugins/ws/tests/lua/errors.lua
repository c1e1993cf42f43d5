-- Failures to open, each said with what went wrong; bad arguments named before any network.
local base, closed_port, silent_port = arg[1], arg[2], arg[3]

local function fails(pattern, ...)
  local ok, err = pcall(ws.connect, ...)
  assert(not ok, "connected")
  assert(err:find(pattern, 1, true), ("%q\nnot found in\n%q"):format(pattern, err))
  return err
end

fails("ws.connect: cannot connect to 127.0.0.1:" .. closed_port .. ": connection refused",
  "ws://127.0.0.1:" .. closed_port .. "/")
fails("handshake rejected by " .. base .. "/reject: HTTP 403 Forbidden (go away)", base .. "/reject")
fails("HTTP 404 Not Found", base .. "/nowhere")
local started = time.monotonic()
fails("cannot connect to ws://127.0.0.1:" .. silent_port .. "/: timed out after 0.3s (timeout)",
  "ws://127.0.0.1:" .. silent_port .. "/", {timeout = 0.3})
assert(time.monotonic() - started < 2)
fails("cannot resolve host no-such-host.invalid", "ws://no-such-host.invalid/")

-- A password in the URL is never shown.
local err = fails("handshake rejected by " .. base:gsub("^ws://", "ws://bob:***@") .. "/reject",
  (base:gsub("^ws://", "ws://bob:hunter2@")) .. "/reject")
assert(not err:find("hunter2", 1, true), err)
err = fails("ws://bob:***@127.0.0.1:" .. silent_port .. "/: timed out",
  "ws://bob:hunter2@127.0.0.1:" .. silent_port .. "/", {timeout = 0.2})
assert(not err:find("hunter2", 1, true), err)
err = fails("is not a URL", "ws://bob:hunter2@127.0.0.1/ x")
assert(not err:find("hunter2", 1, true), err)

-- Arguments.
fails("port 99999 is not a port number (1-65535)", "ws://127.0.0.1:99999/")
fails("1e300s is too long (math.huge: no limit)", base .. "/echo", {timeout = 1e300})
fails("bad argument #1 'url' (scheme 'http' is not ws or wss)", "http://127.0.0.1/")
fails("bad argument #1 'url'", "not a url")
fails("unknown option 'tiemout'", base .. "/echo", {tiemout = 1})
fails("'connection' is written by the WebSocket handshake itself", base .. "/echo",
  {headers = {connection = "close"}})
fails("give subprotocols with the subprotocols option", base .. "/echo",
  {headers = {["sec-websocket-protocol"] = "chat"}})
fails("'a b' is not a token", base .. "/echo", {subprotocols = {"a b"}})
fails("'chat' is offered twice", base .. "/echo", {subprotocols = {"chat", "chat"}})
fails("0s is not a positive duration", base .. "/echo", {timeout = 0})
fails("-1 is not a positive size", base .. "/echo", {max_message = -1})
fails("ca_cert", base .. "/echo", {ca_cert = "/nonexistent/ca.pem"})

-- The conn's own arguments.
local conn = ws.connect(base .. "/echo")
local function refuses(pattern, f)
  local ok, err = pcall(f)
  assert(not ok, "accepted")
  assert(err:find(pattern, 1, true), ("%q\nnot found in\n%q"):format(pattern, err))
end
refuses("1005 is not a close code a script may send", function() conn:close(1005) end)
refuses("999 is not a close code", function() conn:close(999) end)
refuses("reason", function() conn:close(1000, ("x"):rep(124)) end)
refuses("'timeout'", function() conn:recv(-1) end)
refuses("at most 1 argument", function() conn:send("a", "b") end)
-- math.huge waits as long as it takes.
conn:send("x")
assert.eq(conn:recv(math.huge), "x")
conn:close(4999, ("x"):rep(123))
print("ok")
