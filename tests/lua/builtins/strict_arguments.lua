-- test: stdout ^strict ok\n$
-- A mistyped option or an argument too many is an error naming it, never silently ignored:
-- `fs.mkdir(p, {parent = true})` used to do nothing about parents, `json.encode(v, {indent = 2})`
-- to print unindented, `fs.write(p, s, "append")` to replace the file.
local dir = fs.tempdir()
local function refused(f, want)
  local ok, err = pcall(f)
  assert.eq(ok, false, want)
  assert.contains(err, want)
end
refused(function() fs.mkdir(dir .. "/a/b", {parent = true}) end, "fs.mkdir: bad argument #2 'opts': unknown field 'parent' (known: parents)")
refused(function() fs.remove(dir, {recursiv = true}) end, "fs.remove: bad argument #2 'opts': unknown field 'recursiv' (known: recursive)")
refused(function() json.encode({a = 1}, {indent = 2}) end, "json.encode: bad argument #2 'opts': unknown field 'indent' (known: pretty, sort_keys)")
refused(function() base64.encode("a", {padding = false}) end, "base64.encode: bad argument #2 'opts': unknown field 'padding' (known: url, pad)")
refused(function() base64.decode("YQ", {ulr = true}) end, "base64.decode: bad argument #2 'opts': unknown field 'ulr' (known: url)")
refused(function() fs.write(dir .. "/f", "x", "append") end, "fs.write: bad argument #3 (at most 2 arguments expected, got 3)")
refused(function() fs.read(dir .. "/f", {}) end, "fs.read: bad argument #2 (at most 1 argument expected, got 2)")
refused(function() yaml.encode({}, {}) end, "yaml.encode: bad argument #2 (at most 1 argument expected, got 2)")
refused(function() toml.encode({}, {}) end, "toml.encode: bad argument #2 (at most 1 argument expected, got 2)")
refused(function() env.get("HOME", "x", "y") end, "env.get: bad argument #3 (at most 2 arguments expected, got 3)")
refused(function() log.info("m", {}, "extra") end, "log.info: bad argument #3 (at most 2 arguments expected, got 3)")
refused(function() fs.tempdir("x") end, "fs.tempdir: bad argument #1 (at most 0 arguments expected, got 1)")
-- parsers take what a reader returns, extra values and all (as Lua's own functions do)
assert.eq(json.parse("[1]", "text"), {1})
assert.eq(yaml.parse("a: 1", "text"), {a = 1})
assert.eq(toml.parse("a = 1", "text"), {a = 1})
-- trailing nils are what f(a, nil) passes: still fine
fs.mkdir(dir .. "/a/b", {parents = true}, nil)
assert.eq(json.encode({a = 1}, nil), '{"a":1}')
fs.remove(dir, {recursive = true})
print("strict ok")
