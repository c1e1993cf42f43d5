-- A redirect whose target fails names the target, not the URL first asked for: a 302 to a
-- closed port is "cannot connect to <that host:port>".

local server = http.server({
  GET = {
    ["/away"] = function() return {status = 302, headers = {location = "http://127.0.0.1:1/gone"}} end,
    ["/hop"] = function() return {status = 302, headers = {location = "/away"}} end,
  },
}, {host = "127.0.0.1"})
local base = "http://127.0.0.1:" .. server.port

for _, path in ipairs({"/away", "/hop"}) do
  local ok, err = pcall(http.get, base .. path, {timeout = 5})
  assert.eq(ok, false)
  assert(tostring(err):find("cannot connect to 127.0.0.1:1: connection refused", 1, true), err)
  assert(not tostring(err):find(tostring(server.port), 1, true), err)
  ok, err = pcall(http.get, base .. path, {timeout = 5, stream = true})
  assert(tostring(err):find("cannot connect to 127.0.0.1:1: connection refused", 1, true), err)
end
server:stop()
print("ok")
