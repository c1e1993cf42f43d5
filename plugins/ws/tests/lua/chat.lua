-- Subprotocols: the server picks by its preference among ours; offering none it speaks is
-- refused with its HTTP 400.
local t = dofile(arg[0]:match("^(.*)/") .. "/common.lua")

local conn = ws.connect(t.base .. "/chat", {subprotocols = {"superchat", "chat"}})
assert.eq(conn.protocol, "chat")
assert.eq(conn:recv(5), "chat")
conn:close()

local only = ws.connect(t.base .. "/chat", {subprotocols = "superchat"})
assert.eq(only.protocol, "superchat")
only:close()

local ok, err = pcall(ws.connect, t.base .. "/chat", {subprotocols = {"other"}})
assert.eq(ok, false)
assert(err:find("handshake rejected by " .. t.base .. "/chat: HTTP 400 Bad Request", 1, true), err)
t.all_closed()
print("ok")
