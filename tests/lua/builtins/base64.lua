-- base64: RFC 4648 vectors, URL alphabet, padding, errors.

local vectors = {
  [""] = "", f = "Zg==", fo = "Zm8=", foo = "Zm9v", foob = "Zm9vYg==", fooba = "Zm9vYmE=", foobar = "Zm9vYmFy",
}
for plain, encoded in pairs(vectors) do
  assert.eq(base64.encode(plain), encoded)
  assert.eq(base64.decode(encoded), plain)
end
-- binary safe
local bytes = "\0\1\2\255\254"
assert.eq(base64.decode(base64.encode(bytes)), bytes)
-- URL alphabet: no padding by default, - and _
assert.eq(base64.encode("\251\255", {url = true}), "-_8")
assert.eq(base64.encode("\251\255", {url = true, pad = true}), "-_8=")
assert.eq(base64.encode("\251\255"), "+/8=")
assert.eq(base64.encode("f", {pad = false}), "Zg")
assert.eq(base64.decode("-_8", {url = true}), "\251\255")
-- padding optional when decoding
assert.eq(base64.decode("Zg"), "f")
-- errors
assert.raises(function() base64.decode("Zm9v$") end, [[base64.decode: invalid base64: byte 4 \('\$'\) is not in the standard alphabet]])
assert.raises(function() base64.decode("-_8") end, "not in the standard alphabet")
assert.raises(function() base64.decode("Z") end, "invalid base64")
assert.raises(function() base64.encode({}) end, [[bad argument #1 'data' \(string expected, got table\)]])
print("base64 ok")
