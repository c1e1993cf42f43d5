-- test: args first "second arg" --flag
assert.eq(arg[0], "args.lua")
assert.eq(arg[1], "first")
assert.eq(arg[2], "second arg")
assert.eq(arg[3], "--flag")
assert.eq(#arg, 3)
local a, b, c = ...
assert.eq({a, b, c}, {"first", "second arg", "--flag"})
