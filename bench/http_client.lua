-- HTTP client throughput: GET requests per second against one local server, in sequence
-- (module-level http.get, the shared pooled client) or from CONCURRENCY tasks at once.
-- Usage: assay http_client.lua URL seq|concurrent SECONDS [CONCURRENCY]
-- Prints: RESULT rps=... requests=... seconds=...

local url, mode = arg[1], arg[2]
local seconds = tonumber(arg[3]) or 1.0
local concurrency = tonumber(arg[4]) or 50
assert(url and (mode == "seq" or mode == "concurrent"),
  "usage: http_client.lua URL seq|concurrent SECONDS [CONCURRENCY]")

local get, now = http.get, time.monotonic

-- Warm-up: loads the plugin, makes the client, opens the connections.
local warm = {}
for i = 1, concurrency do
  warm[i] = async.spawn(function() return get(url).status end)
end
for _, status in ipairs(async.all(warm)) do
  assert(status == 200, "the server answered " .. tostring(status))
end

-- Each worker sends requests until the deadline and counts them.
local function worker(deadline)
  local n = 0
  while now() < deadline do
    local r = get(url)
    if r.status ~= 200 then error("the server answered " .. r.status) end
    n = n + 1
  end
  return n
end

local start = now()
local deadline = start + seconds
local total = 0
if mode == "seq" then
  total = worker(deadline)
else
  local tasks = {}
  for i = 1, concurrency do tasks[i] = async.spawn(worker, deadline) end
  for _, n in ipairs(async.all(tasks)) do total = total + n end
end
local elapsed = now() - start
print(("RESULT rps=%.1f requests=%d seconds=%.3f"):format(total / elapsed, total, elapsed))
