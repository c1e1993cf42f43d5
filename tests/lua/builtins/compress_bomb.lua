-- test: flags --memory-limit 16M
-- Zip bombs end in a clean error under a 16 MiB memory limit: a gzip stream of 10 GiB of
-- zeros (made by compress_bomb.py, about 10 MiB), a zstd stream of 10 GiB of zeros (640
-- frames of 16 MiB each, from the zstd CLI); with and without max_size.

local shell = require("fixtures.shell")
local quote, capture = shell.quote, shell.capture

local dir = fs.tempdir()
local python = capture("command -v python3 || echo missing-python3"):gsub("%s+$", "")
capture(("%s compress_bomb.py %s"):format(quote(python), quote(dir .. "/bomb.gz")))
local bomb = fs.read(dir .. "/bomb.gz")
assert.gt(#bomb, 9 * 1024 * 1024)

local ok, err = pcall(compress.gunzip, bomb)
assert.eq(ok, false)
assert.matches(err, [[^compress_bomb\.lua:\d+: compress\.gunzip: decompressed data exceeds the memory limit \(16 MiB; --memory-limit sets it\)$]])
ok, err = pcall(compress.gunzip, bomb, {max_size = 1024 * 1024})
assert.eq(ok, false)
assert.matches(err, [[compress\.gunzip: decompressed data exceeds max_size \(1 MiB\)$]])
bomb = nil
collectgarbage()

capture(("head -c 16777216 /dev/zero | zstd -q -19 -c > %s"):format(quote(dir .. "/block.zst")))
local frame = fs.read(dir .. "/block.zst")
local zbomb = frame:rep(640)
err = select(2, pcall(compress.unzstd, zbomb))
assert.matches(err, [[compress\.unzstd: decompressed data exceeds the memory limit \(16 MiB]])
err = select(2, pcall(compress.unzstd, zbomb, {max_size = 100}))
assert.matches(err, [[compress\.unzstd: decompressed data exceeds max_size \(100 bytes\)$]])
zbomb = nil

-- a frame asking for a 64 MiB window (libzstd would allocate it outside Lua's accounting)
capture(("head -c 100000 /dev/zero | zstd -q --zstd=wlog=26 -c > %s"):format(quote(dir .. "/window.zst")))
err = select(2, pcall(compress.unzstd, fs.read(dir .. "/window.zst")))
assert.matches(err, [[compress\.unzstd: invalid zstd data: the frame needs a larger window than the memory limit allows$]])

-- zlib, raw deflate: the same bound
local block = compress.deflate(("\0"):rep(1024 * 1024), {level = 9})
assert.lt(#block, 2048)
err = select(2, pcall(compress.inflate, block, {max_size = 1000}))
assert.matches(err, [[compress\.inflate: decompressed data exceeds max_size \(1000 bytes\)$]])
err = select(2, pcall(compress.inflate, compress.deflate(("\0"):rep(1000), {raw = true}), {raw = true, max_size = 999}))
assert.matches(err, [[exceeds max_size \(999 bytes\)$]])
assert.eq(#compress.inflate(block, {max_size = 1024 * 1024}), 1024 * 1024)

-- the script goes on, with its memory back
collectgarbage()
assert.eq(compress.gunzip(compress.gzip("still fine")), "still fine")
fs.remove(dir, {recursive = true})
print("compress bombs refused")
