-- Runs the example plugin as a script would. From this folder, after installing it (README):
--   ASSAY_LIB_PATH=/tmp/assay-lib assay demo.lua

-- A sync function.
assert.eq(hello.greet("world"), "hello, world!")
assert.raises(function() hello.greet(42) end,
  [[hello\.greet: bad argument #1 'name' \(string expected, got number\)]])

-- An async function: two waits of 0.2 s in two tasks take 0.2 s, not 0.4 s.
local start = time.monotonic()
local a = async.spawn(function() return hello.after(0.2, "a") end)
local b = async.spawn(function() return hello.after(0.2, "b") end)
assert.eq({a:await(), b:await()}, {"a", "b"})
assert.lt(time.monotonic() - start, 0.39)

-- An object, its methods and field, and its drop hook.
local dropped = hello.dropped()
do
  local c <close> = hello.counter(10)
  assert.eq(c:add(5), 15)
  assert.eq(c:add(), 16)
  assert.eq(c.value, 16)
end
assert.eq(hello.dropped(), dropped + 1)

-- A callback, called from the plugin's thread.
assert.eq(hello.each({1, 2, 3}, function(x) return x * x end), {1, 4, 9})

print("hello demo: all good")
