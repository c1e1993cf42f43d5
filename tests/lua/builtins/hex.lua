-- hex: lower-case out, either case in, errors naming the position.

assert.eq(hex.encode(""), "")
assert.eq(hex.encode("\0\1\127\128\255"), "00017f80ff")
assert.eq(hex.encode("Hello"), "48656c6c6f")
assert.eq(hex.decode("48656C6c6F"), "Hello")
local all = {}
for b = 0, 255 do all[#all + 1] = string.char(b) end
all = table.concat(all)
assert.eq(hex.decode(hex.encode(all)), all)
assert.eq(#hex.encode(all), 512)
assert.matches(hex.encode(all), "^[0-9a-f]+$")

assert.raises(function() hex.decode("abc") end, [[hex.decode: invalid hex: odd length \(3 digits]])
assert.raises(function() hex.decode("0g") end, [[byte 2 \('g'\) is not a hex digit]])
assert.raises(function() hex.decode("0 1") end, [[byte 2 \(' '\) is not a hex digit]])
assert.raises(function() hex.decode("00 011") end, [[byte 3 \(' '\) is not a hex digit]])
assert.raises(function() hex.decode("\0\0") end, [[byte 1 \(\\x00\)]])
assert.raises(function() hex.encode(nil) end, [[bad argument #1 'data' \(string expected, got nil\)]])
assert.raises(function() hex.encode("a", {}) end, [[bad argument #2 \(at most 1 argument expected, got 2\)]])
print("hex ok")

-- A stray character is named before the length is blamed.
assert.raises(function() hex.decode("00 ff") end, [[byte 3 \(' '\) is not a hex digit]])
