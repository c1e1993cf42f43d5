-- test: stdout ^on_listen ok\n$
-- `on_listen(port)` runs once the server listens: `http.serve(0, ...)` learns its port that
-- way (and may call itself); an error in it stops that server and fails `http.serve` with the
-- message; `http.server` runs it as soon as the script yields. `host = "localhost"` binds
-- the loopback address.

local seen = {}
async.spawn(function()
  http.serve(0, {GET = {["/hi"] = function() return "hi" end}}, {
    host = "localhost",
    on_listen = function(port)
      assert.eq(math.type(port), "integer")
      seen.body = http.get("http://127.0.0.1:" .. port .. "/hi").body
      seen.port = port
    end,
  })
end)
while not seen.port do sleep(0.01) end
assert.eq(seen.body, "hi")

local ok, err = pcall(http.serve, 0, {}, {
  host = "127.0.0.1",
  on_listen = function() error("no config", 0) end,
})
assert.eq(ok, false)
assert.contains(err, "http.serve: on_listen: no config")
assert.eq(err:find("\n"), nil, "one line")

local server = http.server({}, {host = "127.0.0.1", on_listen = function(port) seen.server = port end})
sleep(0.05)
assert.eq(seen.server, server.port)
server:stop()

local ok2, err2 = pcall(http.server, {}, {host = "127.0.0.1", on_listen = 42})
assert.eq(ok2, false)
assert.contains(err2, "on_listen")

print("on_listen ok")
-- The http.serve server runs until SIGTERM in real use; here the script ends it.
os.exit(0)
