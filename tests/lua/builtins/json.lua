-- json: strict RFC 8259 parsing, types kept, round trips, errors with offsets.

-- scalars and types
assert.eq(json.parse("1"), 1)
assert.eq(math.type(json.parse("1")), "integer")
assert.eq(math.type(json.parse("1.0")), "float")
assert.eq(math.type(json.parse("-0")), "float") -- keeps the sign: -0.0
assert.eq(json.parse("1e2"), 100.0)
assert.eq(json.parse('"a\\u00e9\\n\\ud83d\\ude00"'), "a\u{e9}\n\u{1F600}")
assert.eq(json.parse("true"), true)
assert.eq(json.parse(" false "), false)
assert(json.parse("null") == json.null)

-- big numbers: i64 stays integer, beyond becomes the nearest float
assert.eq(json.parse("9223372036854775807"), math.maxinteger)
assert.eq(math.type(json.parse("9223372036854775808")), "float")
assert.eq(json.parse("123456789012345678901234567890"), 1.2345678901234568e29)
assert.eq(json.parse("0.1"), 0.1)

-- containers
local doc = json.parse('{"name":"x","items":[1,2,{"a":null}],"empty_obj":{},"empty_arr":[]}')
assert.eq(doc.name, "x")
assert.eq(#doc.items, 3)
assert(doc.items[3].a == json.null)
assert.eq(json.encode(doc.empty_obj), "{}")
assert.eq(json.encode(doc.empty_arr), "[]")

-- round trips
for _, text in ipairs({
  '[]', '{}', '[[]]', '[{}]', '{"a":[]}', '[1,2,3]', '[null]', '[true,false]',
  '{"a":{"b":{"c":[1,2.5,"x"]}}}', '"\\u0000"', '[1.5e+300]', '-1', '[0.1]',
}) do
  assert.eq(json.encode(json.parse(text)), text, "round trip of " .. text)
end

-- encoding rules
assert.eq(json.encode({1, 2, 3}), "[1,2,3]")
assert.eq(json.encode({}), "{}")
assert.eq(json.encode(json.array({})), "[]")
assert.eq(json.encode(json.array()), "[]")
assert.eq(json.encode(json.object({1, 2})), '{"1":1,"2":2}')
assert.eq(json.encode({[1] = "a", [3] = "c"}, {sort_keys = true}), '{"1":"a","3":"c"}')
assert.eq(json.encode({b = 1, a = 2, c = {z = 1, y = 2}}, {sort_keys = true}), '{"a":2,"b":1,"c":{"y":2,"z":1}}')
assert.eq(json.encode(nil), "null")
assert.eq(json.encode(json.null), "null")
assert.eq(json.encode("tab\there \"q\" \\ é"), '"tab\\there \\"q\\" \\\\ é"')
assert.eq(json.encode(3), "3")
assert.eq(json.encode(3.0), "3.0")
assert.eq(json.encode(-0.5), "-0.5")
assert.eq(json.encode({a = {1, {b = true}}}, {pretty = true}), '{\n  "a": [\n    1,\n    {\n      "b": true\n    }\n  ]\n}')

-- strict: what the RFC rejects is rejected, with the byte offset
local bad = {
  ["[1,]"] = "at byte 3",
  ["{'a':1}"] = "at byte 1",
  ["[01]"] = "at byte 2",
  ["NaN"] = "at byte 0",
  ["[1] x"] = "trailing characters at byte 4",
  ["// c\n1"] = "at byte 0",
  ['"\\x"'] = "invalid escape",
  [""] = "EOF",
  ['{"a" 1}'] = "expected `:`",
  ['"\t"'] = "control character",
}
for text, expected in pairs(bad) do
  local ok, err = pcall(json.parse, text)
  assert(not ok, "accepted invalid JSON: " .. text)
  assert.matches(err, [[json\.lua:\d+: json\.parse: invalid JSON: ]], "message names the file, line and function")
  assert.contains(err, expected, "error for " .. text)
end
-- invalid UTF-8 is rejected
assert.raises(function() json.parse('"\xff"') end, "invalid JSON")
-- hostile nesting is refused, not a crash
assert.raises(function() json.parse(string.rep("[", 100000)) end, "recursion limit")

-- encoding refusals name the path
assert.raises(function() json.encode({a = {b = print}}) end, [[cannot encode a function value \(at \$\.a\.b\)]])
assert.raises(function() json.encode({1, 0/0}) end, [[not a finite number\) \(at \$\[2\]\)]])
assert.raises(function() json.encode({math.huge}) end, "not a finite number")
assert.raises(function() json.encode({["\xff"] = 1}) end, "not valid UTF-8")
assert.raises(function() json.encode({s = "\xff"}) end, [[not valid UTF-8.*\(at \$\.s\)]])
assert.raises(function() json.encode({[true] = 1}) end, "table key of type boolean")
local cycle = {}
cycle.self = cycle
assert.raises(function() json.encode(cycle) end, "contains itself")
-- argument checks name the argument
assert.raises(function() json.parse(42) end, [[bad argument #1 'text' \(string expected, got number\)]])
assert.raises(function() json.parse() end, [[bad argument #1 'text' \(string expected, got no value\)]])
assert.raises(function() json.encode({}, "pretty") end, [[bad argument #2 'opts' \(table or nil expected, got string\)]])
assert.raises(function() json.encode({}, {pretty = "yes"}) end, [[field 'pretty' \(boolean expected, got string\)]])
assert.raises(function() json.array(5) end, [[bad argument #1 't']])

-- a shared (non-cyclic) table may appear twice
local shared = {1}
assert.eq(json.encode({shared, shared}), "[[1],[1]]")
-- Nothing is dropped silently: a hole in an array is null where the length says it belongs;
-- a key that cannot be an array index, in a table marked as an array, is an error naming it.
local holed = json.parse("[1, 2, 3]")
holed[2] = nil
assert.eq(json.encode(holed), "[1,null,3]")
assert.eq(json.encode(json.array({[2] = 5})), "[null,5]")
assert.raises(function() json.encode(json.array({1, 2, x = 3})) end,
  [[a table marked as an array has the key "x" \(only 1, 2, 3]])
assert.raises(function() json.encode({list = json.array({[0] = 1})}) end, [[has the key 0 .*\(at \$\.list\)]])
assert.raises(function() yaml.encode(json.array({1, [1.5] = 2})) end, "has the key 1.5")
-- A sparse plain table is an object: every value kept, keys as strings.
assert.eq(json.encode({[1] = "a", [3] = "c"}, {sort_keys = true}), '{"1":"a","3":"c"}')
assert.eq(tostring(json.null), "json.null")
-- A marked array far sparser than its values (lua-cjson's rule: longer than 10 and more than
-- twice its values) is refused, not written as a terabyte of nulls (log.info used to abort).
assert.raises(function() json.encode(json.array({[2^40] = 1})) end,
  "has 1 value\\(s\\) but its largest key is 1099511627776: too sparse")
assert.raises(function() log.info("x", {a = json.array({[2^40] = 1})}) end, "too sparse")
assert.eq(json.encode(json.array({[10] = 1})), "[null,null,null,null,null,null,null,null,null,1]")
-- A JSON object whose key is the toml crate's private datetime key is an object.
assert.eq(json.encode(json.parse('{"a":{"$__toml_private_datetime":"x"}}')), '{"a":{"$__toml_private_datetime":"x"}}')
-- One key twice once written (the number 1 and the string "1"): refused, not written twice
-- for a reader to keep only one of them.
assert.raises(function() json.encode({[1] = "a", ["1"] = "b"}) end, [[the table has the key 1 twice]])
local mixed = yaml.parse('"1": a')
mixed[1] = "b"
assert.raises(function() yaml.encode(mixed) end, [[the table has the key 1 twice]])
assert.raises(function() toml.encode({[1.5] = 1, ["1.5"] = 2}) end, [[the key 1.5 twice]])
-- Many records with many keys: the decoder's key cache (64 slots, found by length and three
-- bytes) must give every key its own string whatever collides, including keys that differ
-- only in an unsampled byte, empty keys, escaped keys and keys too long to be cached.
do
  local long = string.rep("k", 40)
  local parts = {}
  for r = 1, 50 do
    local fields = {}
    for k = 1, 100 do
      fields[#fields + 1] = string.format('"key%03d":%d', k, r * 1000 + k)
    end
    fields[#fields + 1] = '"abXd":1,"abYd":2,"":3,"x\\u0041y":4,"' .. long .. '":' .. r
    parts[#parts + 1] = "{" .. table.concat(fields, ",") .. "}"
  end
  local records = json.parse("[" .. table.concat(parts, ",") .. "]")
  assert.eq(#records, 50)
  for r, record in ipairs(records) do
    for k = 1, 100 do
      assert.eq(record[string.format("key%03d", k)], r * 1000 + k)
    end
    assert.eq(record.abXd, 1)
    assert.eq(record.abYd, 2)
    assert.eq(record[""], 3)
    assert.eq(record.xAy, 4)
    assert.eq(record[long], r)
    local count = 0
    for _ in pairs(record) do count = count + 1 end
    assert.eq(count, 105)
  end
end
-- Text that is not UTF-8 is refused where the bad byte is, inside or outside a string.
assert.raises(function() json.parse('["ok","a\xff"]') end, "invalid unicode code point at byte 8")
assert.raises(function() json.parse('[1,\xff]') end, "at byte 3")
print("json ok")
