-- JSON throughput benchmark, run unchanged by both runtimes:
--   assay  json_bench.lua DOC.json SECONDS   (uses the built-in `json` global)
--   lua5.4 json_bench.lua DOC.json SECONDS   (uses lua-cjson: require("cjson"))
--
-- It reads DOC.json, warms up, then times N parses of the text and N encodes of the parsed
-- value with os.clock() (process CPU time). Each timed phase repeats until it has taken at
-- least SECONDS, so N adapts to the speed of the library. MB = document bytes / 1e6 for both
-- phases, so the two runtimes are compared on the same unit of work even if their encoded
-- output differs a little (cjson escapes "/", for instance).
--
-- The last line printed is machine-readable for bench/bench.py:
--   RESULT lib=... bytes=... parse_n=... parse_s=... parse_mbps=... encode_n=... ...

local path, seconds = arg[1], tonumber(arg[2] or "1")
assert(path, "usage: json_bench.lua DOC.json [SECONDS]")

-- Pick the library: assay's built-in global first, then lua-cjson.
local lib, decode, encode
if type(json) == "table" and json.parse and json.encode then
  lib, decode, encode = "assay-json", json.parse, json.encode
else
  local ok, cjson = pcall(require, "cjson")
  assert(ok, "no JSON library: neither the `json` global nor require('cjson') is available")
  lib, decode, encode = "lua-cjson " .. tostring(cjson._VERSION), cjson.decode, cjson.encode
end

local f = assert(io.open(path, "rb"))
local text = f:read("a")
f:close()
local bytes = #text

-- Warm-up, untimed: lets both runtimes size their heaps and settle their caches.
local WARMUP = 2
local doc, out
for _ = 1, WARMUP do doc = decode(text) end
for _ = 1, WARMUP do out = encode(doc) end

-- Sanity check: the encoded text must parse back into a document of the same encoded size
-- (sizes, not bytes: key order of re-encoded objects may legitimately differ).
assert(#encode(decode(out)) == #out, "JSON round trip changed the document")

-- Runs `step` repeatedly until at least `seconds` of CPU time have passed; returns the count and
-- the CPU seconds. Bounded by MAX_N so a broken clock cannot make it run forever.
local MAX_N = 100000
local function timed(step)
  collectgarbage()
  local n, elapsed, t0 = 0, 0, os.clock()
  repeat
    step()
    n = n + 1
    elapsed = os.clock() - t0
  until elapsed >= seconds or n >= MAX_N
  return n, elapsed
end

-- Phase 1: parse the text. Phase 2: encode the value from the last parse.
local parse_n, parse_s = timed(function() doc = decode(text) end)
local encode_n, encode_s = timed(function() out = encode(doc) end)

print(string.format(
  "RESULT lib=%s bytes=%d encoded_bytes=%d parse_n=%d parse_s=%.4f parse_mbps=%.2f "
    .. "encode_n=%d encode_s=%.4f encode_mbps=%.2f",
  (lib:gsub("%s", "_")), bytes, #out,
  parse_n, parse_s, parse_n * bytes / 1e6 / parse_s,
  encode_n, encode_s, encode_n * bytes / 1e6 / encode_s))
