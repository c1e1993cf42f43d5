-- test: stdout ^keeps serving ok\n$
-- While a 2 s child runs, the script's interval keeps ticking and its http.server keeps
-- answering (the VM waits in the server's reactor meanwhile: the child's end must wake it).
local ticks = 0
local interval = async.interval(0.05, function() ticks = ticks + 1 end)
local server = http.server({GET = {["/ping"] = function() return "pong" end}}, {host = "127.0.0.1"})
local child = async.spawn(function()
  local started = time.monotonic()
  local r = process.run({"sleep", "2"})
  return r.status, time.monotonic() - started
end)
local answers = 0
local start = time.monotonic()
while time.monotonic() - start < 1.5 do
  local r = http.get("http://127.0.0.1:" .. server.port .. "/ping")
  assert.eq(r.body, "pong")
  answers = answers + 1
  sleep(0.05)
end
local status, took = child:await()
assert.eq(status, 0)
assert(took >= 1.9 and took < 5, "the child ran " .. took .. " s")
assert(answers >= 10, "only " .. answers .. " answers while the child ran")
assert(ticks >= 15, "only " .. ticks .. " ticks while the child ran")
interval:cancel()
server:stop()
server:wait()
print("keeps serving ok")
