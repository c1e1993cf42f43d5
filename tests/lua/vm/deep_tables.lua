-- Comparing tables nested 50,000 deep overflowed the native stack (SIGABRT, which no pcall can
-- catch). Now it is a clean error past 1,000 levels, and shared or cyclic sub-tables are
-- compared once each.
local function deep(n)
  local root = {}
  local t = root
  for _ = 1, n do t.x = {}; t = t.x end
  return root
end

local a, b = deep(50000), deep(50000)
for _, check in ipairs({assert.eq, assert.ne}) do
  local ok, err = pcall(check, a, b)
  assert.eq(ok, false)
  assert.matches(err, [[^deep_tables\.lua:\d+: assert\.(eq|ne): cannot compare tables nested more than 1000 levels deep$]])
end
local ok, err = pcall(assert.contains, {a}, b)
assert.eq(ok, false)
assert.contains(err, "nested more than 1000 levels deep")

-- Within the bound, deep tables compare (and differ) as before.
assert.eq(deep(900), deep(900))
local x, y = deep(900), deep(900)
local t = y
for _ = 1, 899 do t = t.x end
t.x = 1
-- (the path shown stops growing at 200 characters)
assert.raises(function() assert.eq(x, y) end, [[tables differ:\n  \$(\.x)+\.\.\.: expected 1, got \{\}]])

-- A wide DAG: every level shares one child twice. Without memory of compared pairs this is
-- 2^40 comparisons; with it, 40.
local function dag(n)
  local t = {leaf = true}
  for _ = 1, n do t = {left = t, right = t} end
  return t
end
assert.eq(dag(40), dag(40))

-- Cycles end.
local c1, c2 = {}, {}
c1.self, c2.self = c1, c2
assert.eq(c1, c2)

-- An assertion message shows a bounded part of a huge value.
local big = {}
for i = 1, 100000 do big["k" .. i] = {i, {i}} end
local ok2, msg = pcall(assert.eq, big, {})
assert.eq(ok2, false)
assert.lt(#msg, 2000)
print("deep tables ok")
