-- A plugin's errors and panics are Lua errors at the caller's line; the script goes on.

local ok, err = pcall(probe.fail, "no such thing")
assert.eq(ok, false)
assert.eq(err, "errors.lua:3: probe.fail: no such thing")

ok, err = pcall(probe.panic, "boom")
assert.eq(ok, false)
assert.matches(err, [[^errors\.lua:7: probe\.panic: plugin panicked at .*lib\.rs:\d+:\d+: boom$]])

ok, err = pcall(probe.async_panic, "async boom")
assert.eq(ok, false)
assert.matches(err, [[probe\.async_panic: plugin panicked at .*: async boom$]])

local obj = probe.tracked("x")
ok, err = pcall(obj.panic, obj)
assert.matches(err, [[probe\.Tracked:panic: plugin panicked at .*: method panicked$]])

-- Argument checks name the argument.
assert.raises(function() probe.sleep("soon") end,
  [[probe\.sleep: bad argument #1 'seconds' \(number expected, got string\)]])
assert.raises(function() obj.name(42) end, "probe.Tracked:name: bad argument #1 'self'")

-- After all that, the plugin still works.
assert.eq(probe.echo("alive"), "alive")
print("survived")
