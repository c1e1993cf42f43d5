-- assert: Lua's own assert when called, plus named checks with readable failures.

-- called: Lua's assert, returning its arguments
local a, b = assert(1, "msg")
assert.eq(a, 1)
assert.eq(b, "msg")
local ok, err = pcall(assert, false, "custom message")
assert.eq(ok, false)
-- raised as given, as Lua's assert raises it (no position is added)
assert.eq(err, "custom message")
ok, err = pcall(assert, nil)
assert.matches(err, [[assertion failed!$]])
local t = {code = 7}
ok, err = pcall(assert, false, t)
assert(err == t, "a non-string message is raised as it is")

-- it is Lua's own function (Lua's test files check `type(assert) == type(print)`)
assert.eq(type(assert), "function")
assert.eq(debug.getinfo(assert, "S").what, "C")
local check = assert
check.eq(1, 1)
-- only `assert` answers: indexing any other function fails as under `lua`
ok, err = pcall(function() return print.eq end)
assert.matches(err, [[^.*assert\.lua:\d+: attempt to index a function value$]])
ok, err = pcall(function() local f = function() end; return f[1] end)
assert.matches(err, [[attempt to index a function value$]])
assert.eq(assert.no_such_check, nil)
assert.raises(function() assert.my_check = function() end end, "attempt to index a function value")
assert.raises(function() assert.nope(1) end, [[attempt to call a nil value \(field 'nope'\)]])

-- eq: deep, numbers compare as Lua compares them, metatables ignored
assert.eq({1, {a = {b = "c"}}}, {1, {a = {b = "c"}}})
assert.eq(1, 1.0)
assert.eq(json.parse("[1,2]"), {1, 2})
local err_eq = assert.raises(function() assert.eq({a = 1, b = {c = 2}, x = 1}, {a = 1, b = {c = 3}, d = 4}) end)
assert.contains(err_eq, "tables differ:")
assert.contains(err_eq, "$.b.c: expected 3, got 2")
assert.contains(err_eq, "$.d: missing, expected 4")
assert.contains(err_eq, "$.x: unexpected 1")
assert.raises(function() assert.eq("a", "b", "names") end, [[assert\.eq: names: expected "b", got "a"]])
local cyclic1, cyclic2 = {}, {}
cyclic1.self, cyclic2.self = cyclic1, cyclic2
assert.eq(cyclic1, cyclic2)

assert.ne(1, 2)
assert.ne({1}, {2})
assert.raises(function() assert.ne({1}, {1}) end, "expected a value other than {1}")

assert.gt(2, 1)
assert.ge(2, 2)
assert.lt("a", "b")
assert.le(1.5, 2)
assert.raises(function() assert.gt(1, 2) end, "assert.gt: expected 1 > 2")
assert.raises(function() assert.le(3, 2, "limit") end, "assert.le: limit: expected 3 <= 2")
assert.raises(function() assert.lt(1, "2") end, "cannot compare number with string")

assert.contains("hello world", "o w")
assert.contains({1, {x = 1}, "z"}, {x = 1})
assert.raises(function() assert.contains("abc", "d") end, [["abc" does not contain "d"]])
assert.raises(function() assert.contains({1, 2}, 3) end, [[\{1, 2\} does not contain 3]])
assert.raises(function() assert.contains(5, 3) end, [[bad argument #1 'haystack' \(string or table expected, got number\)]])

assert.matches("v1.2.3", [[^v\d+\.\d+\.\d+$]])
assert.raises(function() assert.matches("x", [[^\d$]]) end, [["x" does not match /\^\\d\$/]])

assert.not_nil(0)
assert.is_nil(nil)
assert.raises(function() assert.not_nil(nil, "config") end, "assert.not_nil: config: expected a value, got nil")
assert.raises(function() assert.is_nil(false) end, "expected nil, got false")

-- raises: returns the message; fails when nothing is raised or the message differs
local message = assert.raises(function() error("disk full") end, "disk")
assert.matches(message, [[assert\.lua:\d+: disk full$]])
assert.raises(function() assert.raises(function() end) end, "the function did not raise")
assert.raises(function() assert.raises(function() error("x") end, "^y") end, [[does not match /\^y/]])
-- raises works across yields
assert.raises(function() sleep(0.001) error("after sleep") end, "after sleep")
print("assert ok")
