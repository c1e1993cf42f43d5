-- Outside the sandbox the standard libraries are all there, unchanged.
assert.eq(type(io.open), "function")
assert.eq(type(os.execute), "function")
assert.eq(type(debug.getinfo), "function")
assert.eq(type(package.loadlib), "function")
assert.eq(type(string.dump), "function")
assert.eq(_VERSION, "Lua 5.5")
local f = assert(io.open(arg[0]))
assert.contains(f:read("a"), "full_stdlib_outside")
f:close()
assert.eq(load(string.dump(function() return 42 end))(), 42)
assert.eq(debug.getinfo(1, "S").short_src, arg[0])
assert.eq(os.execute("exit 3"), nil)
-- Lua 5.5 itself: integer division, utf8, goto, <close>
assert.eq(7 // 2, 3)
assert.eq(utf8.len("héllo"), 5)
do
  local closed = false
  do
    local _ <close> = setmetatable({}, {__close = function() closed = true end})
  end
  assert(closed)
end
print("stdlib ok")
