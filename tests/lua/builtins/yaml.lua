-- yaml: YAML 1.2 core schema, multi-document streams, encoding, errors.

local doc = yaml.parse([[
name: web
replicas: 3
ratio: 0.5
enabled: true
legacy_yes: yes
norway: NO
nothing: ~
tags: [a, b]
ports:
  - name: http
    port: 80
nested: {a: {b: [1, 2]}}
quoted: "123"
multi: |
  line one
  line two
]])
assert.eq(doc.name, "web")
assert.eq(doc.replicas, 3)
assert.eq(math.type(doc.replicas), "integer")
assert.eq(doc.ratio, 0.5)
assert.eq(doc.enabled, true)
assert.eq(doc.legacy_yes, "yes", "YAML 1.2: yes is a string")
assert.eq(doc.norway, "NO", "YAML 1.2: NO is a string")
assert(doc.nothing == json.null)
assert.eq(doc.tags, {"a", "b"})
assert.eq(doc.ports[1].port, 80)
assert.eq(doc.nested.a.b[2], 2)
assert.eq(doc.quoted, "123")
assert.eq(doc.multi, "line one\nline two\n")

-- sequences stay arrays through JSON
assert.eq(json.encode(yaml.parse("a: []\nb: {}\n"), {sort_keys = true}), '{"a":[],"b":{}}')

-- anchors and aliases
local anchored = yaml.parse("base: &b {x: 1}\nother: *b\n")
assert.eq(anchored.other.x, 1)

-- empty input is no document
assert.is_nil(yaml.parse(""))

-- multi-document streams
local docs = yaml.parse_all("kind: A\n---\nkind: B\n---\n- 1\n- 2\n")
assert.eq(#docs, 3)
assert.eq(docs[1].kind, "A")
assert.eq(docs[2].kind, "B")
assert.eq(docs[3], {1, 2})

-- encode, sorted keys, and back
local text = yaml.encode({b = {1, 2}, a = "x", c = {d = true}})
assert.eq(text, "a: x\nb:\n- 1\n- 2\nc:\n  d: true\n")
assert.eq(yaml.parse(text), {a = "x", b = {1, 2}, c = {d = true}})
local tricky = {s = "yes", n = "123", colon = "a: b", empty = ""}
assert.eq(yaml.parse(yaml.encode(tricky)), tricky, "strings that look like other types survive")

-- errors
assert.raises(function() yaml.parse("a: [unclosed") end, "yaml.parse: invalid YAML")
assert.raises(function() yaml.parse("a: 1\n a: 2\n  - x") end, "invalid YAML")
assert.raises(function() yaml.parse(nil) end, [[bad argument #1 'text' \(string expected, got nil\)]])
assert.raises(function() yaml.encode({f = print}) end, [[cannot encode a function value \(at \$\.f\)]])
-- an alias bomb is refused by the parser's budget instead of exhausting memory
local bomb = {"a: &a [x, x, x, x, x, x, x, x, x, x]"}
for i = 1, 9 do
  local prev, cur = string.char(96 + i), string.char(97 + i)
  bomb[#bomb + 1] = cur .. ": &" .. cur .. " [*" .. prev .. ", *" .. prev .. ", *" .. prev .. ", *" .. prev .. ", *" .. prev .. ", *" .. prev .. ", *" .. prev .. ", *" .. prev .. ", *" .. prev .. ", *" .. prev .. "]"
end
assert.raises(function() yaml.parse(table.concat(bomb, "\n")) end, "invalid YAML")
print("yaml ok")
