-- Per-call cost of a trivial plugin function (probe.noop, across the plugin ABI) against a
-- trivial native core builtin (time.monotonic: one vDSO clock read behind the same calling
-- protocol, no ABI crossing), and an awaited async plugin call that completes at once
-- (probe.ready: the script's coroutine calls it and waits for its future).
-- Usage: assay plugin_call.lua SECONDS   (needs the probe plugin on the lib path)
-- Prints: RESULT plugin_ns=... builtin_ns=... extra_ns=... async_ns=... calls=...

local seconds = tonumber(arg[1]) or 1.0

local function per_call(f)
  f() -- warm: first touch loads the plugin / fills the module
  local n, total = 0, 0
  local batch = 100000
  while total < seconds do
    local start = os.clock()
    for _ = 1, batch do f() end
    total = total + (os.clock() - start)
    n = n + batch
  end
  return total / n * 1e9, n
end

local noop, ready, monotonic = probe.noop, probe.ready, time.monotonic
local plugin_ns, calls = per_call(function() noop() end)
local builtin_ns = per_call(function() monotonic() end)
local async_ns = per_call(function() ready() end)
print(("RESULT plugin_ns=%.1f builtin_ns=%.1f extra_ns=%.1f async_ns=%.1f calls=%d"):format(
  plugin_ns, builtin_ns, plugin_ns - builtin_ns, async_ns, calls))
