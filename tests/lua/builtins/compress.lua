-- compress: round trips, formats, levels, options and errors.
-- (compress_peers.lua checks interop with Python and the zstd CLI; compress_bomb.lua the bounds.)

local text = ("The quick brown fox jumps over the lazy dog. "):rep(1000)
for _, pair in ipairs({{"gzip", "gunzip"}, {"deflate", "inflate"}, {"zstd", "unzstd"}}) do
  local pack, unpack = compress[pair[1]], compress[pair[2]]
  for _, data in ipairs({"", "x", "\0\1\2\255", text}) do
    assert.eq(unpack(pack(data)), data, pair[1] .. " round trip")
  end
  assert.lt(#pack(text), #text / 20, pair[1] .. " compresses")
end

-- formats: gzip magic, zlib header, raw deflate has neither, zstd magic
assert.eq(compress.gzip("x"):sub(1, 2), "\31\139")
assert.eq(compress.gzip("x"), compress.gzip("x"))   -- no mtime: same bytes every run
assert.eq(compress.deflate("x"):byte(1), 0x78)
local raw = compress.deflate(text, {raw = true})
assert.ne(raw:byte(1), 0x78)
assert.eq(compress.inflate(raw, {raw = true}), text)
assert.eq(compress.zstd("x"):sub(1, 4), "\40\181\47\253")

-- levels: 0 stores (bigger than 9), zstd 1..22
assert.gt(#compress.gzip(text, {level = 0}), #text)
assert.lt(#compress.gzip(text, {level = 9}), #compress.gzip(text, {level = 1}) + 1)
assert.eq(compress.unzstd(compress.zstd(text, {level = 22})), text)
assert.eq(compress.unzstd(compress.zstd(text, {level = 1})), text)

-- concatenated gzip members and zstd frames decode to their concatenation
assert.eq(compress.gunzip(compress.gzip("one ") .. compress.gzip("two")), "one two")
assert.eq(compress.unzstd(compress.zstd("one ") .. compress.zstd("two")), "one two")
-- zlib: bytes after the stream are ignored, as Python's zlib.decompress does
assert.eq(compress.inflate(compress.deflate("z") .. "trailing"), "z")

-- max_size: exactly the size is fine, a byte less is not
assert.eq(#compress.gunzip(compress.gzip(text), {max_size = #text}), #text)
assert.raises(function() compress.gunzip(compress.gzip(text), {max_size = #text - 1}) end,
  [[compress\.gunzip: decompressed data exceeds max_size \(44999 bytes\)]])

-- errors
assert.raises(function() compress.gunzip("not gzip at all") end, [[compress\.gunzip: invalid gzip data: ]])
assert.raises(function() compress.gunzip(compress.gzip("x") .. "junk") end, [[invalid gzip data]])
local gz = compress.gzip(text)
assert.raises(function() compress.gunzip(gz:sub(1, #gz - 10)) end, [[invalid gzip data]])
local corrupt = gz:sub(1, #gz - 8) .. "\0\0\0\0" .. gz:sub(-4)
assert.raises(function() compress.gunzip(corrupt) end, [[invalid gzip data]])
assert.raises(function() compress.inflate("\120\156garbage") end, [[compress\.inflate: invalid zlib data]])
assert.raises(function() compress.inflate(raw) end, [[invalid zlib data]])
local zlib = compress.deflate(text)
assert.raises(function() compress.inflate(zlib:sub(1, 20)) end, [[invalid zlib data]])
assert.raises(function() compress.unzstd("garbage!") end, [[compress\.unzstd: invalid zstd data]])
local zst = compress.zstd(text)
assert.raises(function() compress.unzstd(zst:sub(1, #zst - 3)) end, [[invalid zstd data]])
assert.raises(function() compress.gzip(text, {level = 10}) end,
  [[compress\.gzip: bad argument #2 'opts': field 'level' \(10 is outside 0\.\.9\)]])
assert.raises(function() compress.deflate(text, {level = -1}) end, [[field 'level' \(-1 is outside 0\.\.9\)]])
assert.raises(function() compress.zstd(text, {level = 0}) end, [[field 'level' \(0 is outside 1\.\.22\)]])
assert.raises(function() compress.zstd(text, {level = 23}) end, [[field 'level' \(23 is outside 1\.\.22\)]])
assert.raises(function() compress.zstd(text, {level = 1.5}) end, [[field 'level' \(number has no integer representation\)]])
assert.raises(function() compress.gzip(text, {level = "9"}) end, [[field 'level' \(integer expected, got string\)]])
assert.raises(function() compress.gzip(text, {levle = 9}) end, [[bad argument #2 'opts': unknown field 'levle' \(known: level\)]])
assert.raises(function() compress.gzip(text, {raw = true}) end, [[unknown field 'raw']])
assert.raises(function() compress.gunzip(gz, {max_size = -1}) end, [[field 'max_size' \(-1 is outside 0\.\.]])
assert.raises(function() compress.gunzip(gz, {level = 1}) end, [[unknown field 'level' \(known: max_size\)]])
assert.raises(function() compress.inflate(zlib, {max_size = 10}, true) end, [[bad argument #3 \(at most 2 arguments expected, got 3\)]])
assert.raises(function() compress.gzip(nil) end, [[bad argument #1 'data' \(string expected, got nil\)]])
assert.raises(function() compress.gzip("x", "fast") end, [[bad argument #2 'opts' \(table or nil expected, got string\)]])
print("compress ok")

-- Integral floats are integers, whatever their size (2^53 used to have "no integer representation").
assert.eq(compress.gunzip(compress.gzip("x"), {max_size = 2^53}), "x")
assert.raises(function() compress.gunzip(compress.gzip("x"), {max_size = 1e300}) end, [[1e\+300 is outside]])
