-- The WebSocket echo benchmark's assay side, the same as ws_client.py: one connection to an
-- echo server, 500 warm-up round trips, then round trips in batches of 100 until SECONDS have
-- passed. A round trip sends a 32-byte text message and receives its echo, which must be the
-- same text. Usage: assay ws_client.lua URL SECONDS
-- Prints: RESULT <round trips> <seconds>
local url, seconds = arg[1], tonumber(arg[2])
assert(url and seconds, "usage: ws_client.lua URL SECONDS")

local MESSAGE = ("0123456789abcdef"):rep(2)      -- 32 bytes
local WARM_UP, BATCH = 500, 100

local conn = ws.connect(url)
local function round_trips(n)
  for _ = 1, n do
    conn:send(MESSAGE)
    local echoed, kind = conn:recv()
    if echoed ~= MESSAGE or kind ~= "text" then
      error(("the server echoed %s (%s), not %q"):format(tostring(echoed), tostring(kind), MESSAGE))
    end
  end
end

round_trips(WARM_UP)
local n, started = 0, time.monotonic()
while time.monotonic() - started < seconds do
  round_trips(BATCH)
  n = n + BATCH
end
local elapsed = time.monotonic() - started
conn:close()
print(string.format("RESULT %d %.6f", n, elapsed))
