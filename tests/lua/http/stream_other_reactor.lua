-- test: env CHUNKED_PEER={dir}/fixtures/chunked_peer.py
-- test: stdout ^500 lines x 5 ok\n$
-- The db plugin loaded first takes the Lua thread's reactor, so the http client runs on http's
-- own thread and every read's wake-up crosses threads: one arriving just as the VM decided not
-- to wait in the reactor was lost and the script slept for good (within a few reads of a peer
-- sending many small chunks quickly, on most runs).
local _ = db.connect
local peer = process.spawn({"python3", env.get("CHUNKED_PEER")})
local port = peer:lines("stdout")()
for _ = 1, 5 do
  local r <close> = http.get("http://127.0.0.1:" .. port .. "/", {stream = true, timeout = 10})
  local n = 0
  for line in r:lines() do
    assert.eq(line, "line " .. n)
    n = n + 1
  end
  assert.eq(n, 500)
end
peer:kill("TERM")
peer:wait()
print("500 lines x 5 ok")
