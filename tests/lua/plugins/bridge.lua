-- Values cross to a plugin and back unchanged: integers stay integers, strings stay bytes,
-- sequences stay arrays (empty ones too, when marked), json.null survives, functions and
-- objects come back as themselves.

local a, b, c, d, e, f = probe.echo(1, 2.5, "x\0y", true, json.null, nil)
assert.eq(math.type(a), "integer")
assert.eq(math.type(b), "float")
assert.eq(c, "x\0y")
assert.eq(d, true)
assert.eq(e, json.null)
assert.is_nil(f)

local bytes = string.char(0, 255, 128, 10)
assert.eq(probe.echo(bytes), bytes)

local nested = {list = {1, 2, {3}}, map = {k = "v", [10] = "ten"}, empty_list = json.array({}),
  empty_map = json.object({})}
local back = probe.echo(nested)
assert.eq(back.list, {1, 2, {3}})
assert.eq(back.map, {k = "v", [10] = "ten"})
assert.eq(json.encode(back.empty_list), "[]")
assert.eq(json.encode(back.empty_map), "{}")
assert.eq(json.encode(probe.echo(json.parse('{"a":[],"b":[1,null]}')), {sort_keys = true}),
  '{"a":[],"b":[1,null]}')

local fn = function() end
assert.eq(probe.echo(fn), fn)
local obj = probe.tracked("same")
assert.eq(probe.echo(obj), obj)

-- What cannot cross is refused by position.
assert.raises(function() probe.echo(1, coroutine.create(fn)) end,
  [[probe\.echo: bad argument #2 \(a thread cannot be passed to a plugin\)]])
local cyclic = {}
cyclic.self = cyclic
assert.raises(function() probe.echo(cyclic) end, "nested more than 100 levels deep")

-- A marked array crosses whole: a hole is nil where its length says it belongs (null in JSON),
-- a key that cannot be an index is an error naming it (never dropped on the way).
local decoded = json.parse("[1, 2, 3]")
decoded[2] = nil
assert.eq(json.encode(probe.echo(decoded)), "[1,null,3]")
assert.eq(json.encode(probe.echo(json.array({[2] = 5}))), "[null,5]")
assert.raises(function() probe.echo(json.array({1, x = 2})) end, [[has the key "x"]])
assert.raises(function() probe.echo(json.array({[10000000] = 1})) end, "too sparse to pass as an array")

-- A table with holes and named keys is a map, whatever its border says.
local holes = {"a", "b", "c"}
holes[2] = nil
holes.x = "y"
local back_holes = probe.echo(holes)
assert.eq(back_holes[1], "a")
assert.eq(back_holes[3], "c")
assert.eq(back_holes.x, "y")

-- An empty table is an empty list where a list is expected, and an empty map where a map is.
assert.eq(probe.echo({}), {})

-- A table sharing sub-tables may unfold to more values than Lua holds: that is refused.
local dag = {}
for _ = 1, 30 do dag = {dag, dag} end
assert.raises(function() probe.echo(dag) end, "table too large to pass")
