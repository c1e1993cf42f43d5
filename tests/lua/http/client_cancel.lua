-- Cancelling a task ends the plugin call it waits in: the request's connection closes at once.
-- The host dropped its side of the call, but the plugin's runtime went on with the request
-- until the server answered or the call's own timeout (here 60 s) passed. The peer below
-- accepts one connection, reads the request, never answers, and reports how it ended.
local PEER = [[
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(4)
print(s.getsockname()[1], flush=True)
for _ in range(int(sys.argv[1])):
    c, _ = s.accept()
    c.recv(65536)
    c.settimeout(10)
    try:
        print("closed" if c.recv(1) == b"" else "data", flush=True)
    except socket.timeout:
        print("still open after 10 s", flush=True)
    c.close()
]]

local peer = process.spawn({"python3", "-c", PEER, "2"})
local lines = peer:lines("stdout")
local url = "http://127.0.0.1:" .. lines() .. "/"

-- A plain request, then a download to a file.
local plain = async.spawn(function() return http.get(url, {timeout = 60}) end)
sleep(0.3)
plain:cancel()
local started = time.monotonic()
assert.eq(lines(), "closed")
assert.lt(time.monotonic() - started, 5)

local download = async.spawn(function()
  return http.get(url, {timeout = 60, output = fs.tempdir() .. "/never"})
end)
sleep(0.3)
download:cancel()
started = time.monotonic()
assert.eq(lines(), "closed")
assert.lt(time.monotonic() - started, 5)
assert.eq(peer:wait().status, 0)
