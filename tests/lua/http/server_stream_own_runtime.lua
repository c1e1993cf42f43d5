-- test: stdout ^server stream ok\n$
-- test: stderr ERROR stream raised an error method=GET path=/raise route="GET /raise" error=".*server_stream\.lua:\d+: stream failed on purpose
-- test: stderr ERROR handler returned no valid response method=GET path=/length .*content-length 10 with 'stream' \(leave content-length out
-- test: stderr ERROR handler returned no valid response method=GET path=/both .*give 'stream' or 'body'/'json', not both
-- test: stderr ERROR handler returned no valid response method=GET path=/typed .*'stream' must be a function\(body\), not a string
-- test: stderr ERROR handler returned no valid response method=GET path=/nocontent .*status 204 has no body, so no 'stream'
-- test: stderr ERROR after returned no valid response method=GET path=/after-length .*content-length 5 with 'stream'
-- test: no-stderr client closed|server is stopping|timed out
-- The same checks as server_stream.lua with the server on the http plugin's own runtime:
-- the ws plugin, loaded first, takes the Lua thread's reactor, so every write and every
-- stream function crosses between threads.
local _ = ws.connect
-- 50,000 small writes, faster than the client reads: a write that waits for room must not
-- cost a round trip between threads each (it did: about 1 ms a write, 50 s in all; now well
-- under a second).
local N = 50000
local server = http.server({GET = {["/lines"] = function()
  return {stream = function(body) for i = 1, N do body:write(i .. "\n") end end}
end}}, {host = "127.0.0.1"})
local status <close> = io.open("/proc/self/status")
assert.gt(tonumber(status:read("a"):match("Threads:%s*(%d+)")), 1, "threads: the server on its own")
local started = time.monotonic()
local resp <close> = http.get("http://127.0.0.1:" .. server.port .. "/lines", {stream = true})
local count, last = 0, nil
for line in resp:lines() do count, last = count + 1, line end
assert.eq(count, N)
assert.eq(last, tostring(N))
assert.lt(time.monotonic() - started, 10, "seconds for 50,000 writes")
server:stop()
server:wait()
dofile("server_stream.lua")
