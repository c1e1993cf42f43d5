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

-- A redirect to a server that keeps the headers waiting: the timeout names that server.
local slow = http.server({GET = {["/slow"] = function() sleep(2) return "late" end}},
  {host = "127.0.0.1"})
local slow_url = "http://127.0.0.1:" .. slow.port .. "/slow"
local detour = http.server({GET = {["/"] = function()
  return {status = 302, headers = {location = slow_url}}
end}}, {host = "127.0.0.1"})
for _, stream in ipairs({true, false}) do
  local ok, err = pcall(http.get, "http://127.0.0.1:" .. detour.port .. "/",
    {timeout = 0.3, stream = stream})
  assert.eq(ok, false)
  assert(tostring(err):find("timed out after 0.3s", 1, true), err)
  assert(tostring(err):find(slow_url, 1, true), err)
end
slow:stop()
detour:stop()
server:stop()
print("ok")
