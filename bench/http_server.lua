-- The HTTP server benchmark's assay side (bench/http_server.py): the smallest useful routes,
-- the same as the nginx + Lua peer's. Prints "PORT <n>", serves until SIGTERM. With
-- `reuse_port`, more processes given the same port share it (the multi-core rows).
--   GET /hello -> "hi" (text/plain)
--   GET /json  -> {"message":"hello","n":42,"ok":true} (application/json), encoded per request
io.stdout:setvbuf("line")
local server = http.server({
  GET = {
    ["/hello"] = function() return "hi" end,
    ["/json"] = function() return {json = {message = "hello", n = 42, ok = true}} end,
  },
}, {host = "127.0.0.1", port = tonumber(arg[1]) or 0, reuse_port = true})
print("PORT " .. server.port)
server:wait()
