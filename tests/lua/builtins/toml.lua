-- toml: parse (datetimes as RFC 3339 text), encode (sorted), errors.

local t = toml.parse([==[
title = "example"
count = 42
ratio = 1.5
on = true
list = [1, 2, 3]
when = 1979-05-27T07:32:00-08:00
day = 1979-05-27

[owner]
name = "Tom"

[[servers]]
host = "a"

[[servers]]
host = "b"
]==])
assert.eq(t.title, "example")
assert.eq(math.type(t.count), "integer")
assert.eq(t.ratio, 1.5)
assert.eq(t.on, true)
assert.eq(t.list, {1, 2, 3})
assert.eq(t.when, "1979-05-27T07:32:00-08:00")
assert.eq(t.day, "1979-05-27")
assert.eq(t.owner.name, "Tom")
assert.eq(#t.servers, 2)
assert.eq(t.servers[2].host, "b")

local text = toml.encode({name = "x", port = 8080, db = {user = "u", pool = 5}, hosts = {"a", "b"}})
assert.eq(text, 'hosts = ["a", "b"]\nname = "x"\nport = 8080\n\n[db]\npool = 5\nuser = "u"\n')
assert.eq(toml.parse(text).db.pool, 5)

assert.raises(function() toml.parse("a = ") end, "toml.parse: invalid TOML")
assert.raises(function() toml.parse("a = 1\na = 2") end, "invalid TOML")
assert.raises(function() toml.encode("x") end, [[bad argument #1 't' \(table expected, got string\)]])
assert.raises(function() toml.encode({a = json.null}) end, "toml.encode")

-- toml.encode takes what toml.parse returns: datetimes stay datetimes (not quoted strings),
-- infinities and NaN have their TOML spellings.
local doc = toml.parse([==[
when = 1979-05-27T07:32:00Z
local = 1979-05-27T07:32:00.5
day = 1979-05-27
at = 07:32:00
big = inf
small = -inf
odd = nan
text = "1979-05-27"
[server]
dates = [ 1979-05-27, 1980-01-01 ]
]==])
assert.eq(doc.when, "1979-05-27T07:32:00Z")
assert.eq(doc.big, math.huge)
local written = toml.encode(doc)
for _, line in ipairs({"when = 1979-05-27T07:32:00Z", "local = 1979-05-27T07:32:00.5", "day = 1979-05-27",
                       "at = 07:32:00", "big = inf", "small = -inf", "odd = nan",
                       'text = "1979-05-27"', "dates = [1979-05-27, 1980-01-01]"}) do
  assert(written:find(line, 1, true), line .. " in:\n" .. written)
end
local again = toml.parse(written)
assert.eq(again.when, doc.when)
assert.eq(again.server.dates, doc.server.dates)
assert(again.odd ~= again.odd, "NaN")
-- A key that held a datetime takes a new one; a string that is not one stays a string.
doc.when = "2026-12-06T10:00:00+01:00"
doc.day = "soon"
written = toml.encode(doc)
assert(written:find("when = 2026-12-06T10:00:00+01:00\n", 1, true), written)
assert(written:find('day = "soon"\n', 1, true), written)

-- What TOML cannot hold, in words, with the key's path.
assert.raises(function() toml.encode({a = {b = {1, {c = json.null}}}}) end,
  [[TOML has no null \(json.null\): leave the key out \(at \$\.a\.b\[2\]\.c\)]])
assert.raises(function() toml.encode({1, 2}) end, "a TOML document is a table of keys, not an array")
assert.raises(function() toml.encode(json.array({})) end, "not an array")
assert.raises(function() toml.encode({f = print}) end, [[cannot encode a function value \(at \$\.f\)]])
-- The toml crate's private datetime key in a document is a key like any other.
assert.eq(toml.parse('a = {"$__toml_private_datetime" = "x", b = 1}').a.b, 1)
-- A bad key in a marked array is named, not mistaken for a cycle when TOML retries the value.
assert.raises(function() toml.encode({a = json.array({x = 1})}) end, [[has the key "x"]])
print("toml ok")
