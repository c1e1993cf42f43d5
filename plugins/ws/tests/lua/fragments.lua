-- Messages the server sends in several frames arrive whole, with their kind. The conn is a
-- `<close>` variable: leaving its block closes it (1000), with the closing handshake.
local t = dofile(arg[0]:match("^(.*)/") .. "/common.lua")

do
  local conn <close> = ws.connect(t.base .. "/fragments")
  local msg, kind = conn:recv(5)
  assert.eq(msg, "abcdef"); assert.eq(kind, "text")
  msg, kind = conn:recv(5)
  assert.eq(msg, "\1\2"); assert.eq(kind, "binary")
end
-- The close runs in the background: give it the loopback's few milliseconds.
local deadline = time.monotonic() + 2
while #t.sockets("established") > 0 and time.monotonic() < deadline do sleep(0.01) end
t.all_closed()
print("ok")
