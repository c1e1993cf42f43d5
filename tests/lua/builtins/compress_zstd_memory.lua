-- test: flags --memory-limit 16M
-- Compressing at zstd's high levels stays near the memory limit: libzstd allocates its window
-- and tables outside Lua's accounting, and level 22 took 726 MB (peak RSS) for 1 KB of input
-- until it was told the input's size, and its window was held to the limit.
local function peak_rss_mib()
  for line in io.lines("/proc/self/status") do
    local kb = line:match("^VmHWM:%s+(%d+) kB")
    if kb then return tonumber(kb) / 1024 end
  end
end

local small = ("x"):rep(1000)
assert.eq(compress.unzstd(compress.zstd(small, {level = 22})), small)
local big = {}
for i = 1, 200000 do big[i] = tostring(i * 7919 % 1000003) end
big = table.concat(big, ",")
for _, level in ipairs({19, 22}) do
  assert.eq(compress.unzstd(compress.zstd(big, {level = level})), big)
end
assert.lt(peak_rss_mib(), 96)
