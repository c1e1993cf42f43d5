-- test: env ASSAY_TEST_VALUE=hello world
-- env: get with default, set/unset, list.

assert.eq(env.get("ASSAY_TEST_VALUE"), "hello world")
assert.is_nil(env.get("ASSAY_TEST_UNSET"))
assert.eq(env.get("ASSAY_TEST_UNSET", "fallback"), "fallback")
env.set("ASSAY_TEST_NEW", "v1")
assert.eq(env.get("ASSAY_TEST_NEW"), "v1")
assert.eq(os.getenv("ASSAY_TEST_NEW"), "v1", "visible to the process")
env.set("ASSAY_TEST_NUM", 42)
assert.eq(env.get("ASSAY_TEST_NUM"), "42")
env.set("ASSAY_TEST_NEW", nil)
assert.is_nil(env.get("ASSAY_TEST_NEW"))
local all = env.list()
assert.eq(all.ASSAY_TEST_VALUE, "hello world")
assert.raises(function() env.get("") end, [[bad argument #1 'name' \(""]])
assert.raises(function() env.set("A=B", "x") end, "is not a variable name")
assert.raises(function() env.set("X", {}) end, [[bad argument #2 'value' \(string expected, got table\)]])
print("env ok")
