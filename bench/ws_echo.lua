-- The WebSocket echo benchmark's server (bench/ws_client.lua and bench/ws_client.py are its
-- clients): GET /echo upgrades and sends every message back with its kind (text as text,
-- binary as binary) until the client closes. Usage: assay ws_echo.lua [PORT]; prints
-- "PORT <n>" (0 or none: the system picks), serves until SIGTERM.
io.stdout:setvbuf("line")
local server = http.server({
  GET = {
    ["/echo"] = function()
      return {websocket = function(conn)
        local msg, kind = conn:recv()
        while msg do                                 -- nil once the client has closed
          if kind == "binary" then conn:send_binary(msg) else conn:send(msg) end
          msg, kind = conn:recv()
        end
      end}
    end,
  },
}, {host = "127.0.0.1", port = tonumber(arg[1]) or 0})
print("PORT " .. server.port)
server:wait()
