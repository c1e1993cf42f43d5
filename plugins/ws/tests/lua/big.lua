-- 4 MiB messages with max_message = 8 MiB; with the default (1 MiB) the 4 MiB echo closes
-- the connection with 1009 and says why.
local t = dofile(arg[0]:match("^(.*)/") .. "/common.lua")
local big = ("0123456789abcdef"):rep(4 * 1024 * 1024 // 16)

local conn = ws.connect(t.base .. "/big", {max_message = 8 * 1024 * 1024})
conn:send(big)
local msg, kind = conn:recv(10)
assert.eq(#msg, #big); assert(msg == big, "the text came back changed"); assert.eq(kind, "text")
conn:send_binary(big)
msg, kind = conn:recv(10)
assert(msg == big, "the bytes came back changed"); assert.eq(kind, "binary")
conn:close()

local small = ws.connect(t.base .. "/big")
small:send(big)
local _, state, code, reason = small:recv(10)
assert.eq(state, "closed"); assert.eq(code, 1009)
assert.eq(reason, "message larger than max_message (1 MiB)")
t.all_closed()
print("ok")
