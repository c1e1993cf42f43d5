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
print("toml ok")
