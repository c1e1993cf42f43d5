-- yaml: yaml.v2's schema (as Kubernetes reads YAML), multi-document streams, encoding, errors.
-- (conformance/yaml_reference.lua checks 142 scalars against yaml.v2 itself.)

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
assert.eq(doc.legacy_yes, true, "YAML 1.1, as Kubernetes reads it: yes is true")
assert.eq(doc.norway, false, "and NO is false")
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
-- an alias bomb costs nothing to parse (an alias is its anchor's value, not a copy); writing
-- it out is refused by the memory limit instead of exhausting memory
local bomb = {"a: &a [x, x, x, x, x, x, x, x, x, x]"}
for i = 1, 9 do
  local prev, cur = string.char(96 + i), string.char(97 + i)
  bomb[#bomb + 1] = cur .. ": &" .. cur .. " [*" .. prev .. ", *" .. prev .. ", *" .. prev .. ", *" .. prev .. ", *" .. prev .. ", *" .. prev .. ", *" .. prev .. ", *" .. prev .. ", *" .. prev .. ", *" .. prev .. "]"
end
local exploded = yaml.parse(table.concat(bomb, "\n"))
assert(exploded.j[1] == exploded.i and exploded.j[2][3] == exploded.h, "aliases share their anchor's table")
assert.raises(function() yaml.encode(exploded) end, "not enough memory")

-- Numbers keep their type both ways: 0644 is the octal 420 (a defaultMode), never 644.0.
local pod = yaml.parse("defaultMode: 0644\nreplicas: 3\nratio: 1.0\nbig: 1_000\nhex: 0x1F\nv: 1.20\n")
assert.eq(math.type(pod.defaultMode), "integer")
assert.eq(pod.defaultMode, 420)
assert.eq(math.type(pod.ratio), "float")
assert.eq(pod.big, 1000)
assert.eq(pod.hex, 31)
assert.eq(pod.v, 1.2)
assert.eq(yaml.encode({defaultMode = pod.defaultMode, ratio = pod.ratio}), "defaultMode: 420\nratio: 1.0\n")

-- Infinities and NaN both ways.
local special = yaml.parse("a: .inf\nb: -.Inf\nc: .NaN\nd: inf\n")
assert.eq(special.a, math.huge)
assert.eq(special.b, -math.huge)
assert(special.c ~= special.c, "NaN")
assert.eq(special.d, "inf", "inf without the dot is a string")
assert.eq(yaml.encode({a = math.huge, b = -math.huge, c = 0 / 0}), "a: .inf\nb: -.inf\nc: .nan\n")

-- Strings a YAML 1.1 reader would take for something else are quoted, and come back strings.
local lookalikes = {"yes", "on", "y", "0644", "1_000", "1.20", "0x1F", "2024-01-01", "~", "null",
                    ".inf", "1e3", "08", "true", "-", "", " x", "a: b", "#c"}
for _, s in ipairs(lookalikes) do
  assert.eq(yaml.parse(yaml.encode({v = s})).v, s, "the string " .. s)
end

-- Keys are strings, as written.
local keys = yaml.parse("on: push\n200: ok\nyes: 1\n~: x\n'1.0': f\n")
assert.eq(keys.on, "push")
assert.eq(keys["200"], "ok")
assert.eq(keys.yes, 1)
assert.eq(keys["~"], "x")
assert.eq(keys["1.0"], "f")
assert.raises(function() yaml.parse("? [a, b]\n: 1\n") end, "a mapping key must be a scalar \\(line 1")

-- Nothing is lost silently: a duplicate key is an error naming it.
assert.raises(function() yaml.parse("a: 1\nb: 2\na: 3\n") end, "duplicate key 'a' \\(line 3, column 1\\)")

-- Merge keys: the mapping's own keys win, earlier sources before later ones.
local merged = yaml.parse([[
base: &base {name: b, port: 80, tls: false}
extra: &extra {port: 81, debug: true}
svc:
  <<: [*base, *extra]
  port: 8080
]])
assert.eq(merged.svc, {name = "b", port = 8080, tls = false, debug = true})
assert.raises(function() yaml.parse("a: &a 1\nb:\n  <<: *a\n") end, "a merge key \\(<<\\) needs a mapping")

-- Explicit tags.
local tagged = yaml.parse("a: !!str 0644\nb: !!int '12'\nc: !!float 1\nd: !!binary aGk=\ne: !custom 12\n")
assert.eq(tagged, {a = "0644", b = 12, c = 1.0, d = "hi", e = "12"})
assert.eq(math.type(tagged.c), "float")
assert.raises(function() yaml.parse("a: !!int abc") end, "!!int cannot be 'abc'")

-- Documents: none, one (an empty one is json.null), several (parse refuses, parse_all keeps
-- the empty ones as json.null, as PyYAML does).
assert.is_nil(yaml.parse("# only a comment\n"))
assert(yaml.parse("---\n") == json.null)
assert(yaml.parse("~") == json.null)
local stream = yaml.parse_all("---\n---\na: 1\n---\n...\n")
assert.eq(#stream, 3)
assert(stream[1] == json.null and stream[3] == json.null)
assert.eq(stream[2], {a = 1})
assert.eq(#yaml.parse_all(""), 0)
assert.raises(function() yaml.parse("a: 1\n---\nb: 2\n") end, "the text holds 2 documents; use yaml.parse_all")

-- Parse and encode agree on depth: 256 levels both ways, 257 refused both ways.
local function nested(levels)
  local root = {}
  local t = root
  for _ = 2, levels do t.x = {}; t = t.x end
  return root
end
local function depth(t)
  local n = 0
  while type(t) == "table" do n = n + 1; t = t.x end
  return n
end
local deepest = yaml.encode(nested(256))
assert.eq(depth(yaml.parse(deepest)), 256)
assert.raises(function() yaml.encode(nested(257)) end, "nesting deeper than 256 levels")
local deeper = "x:\n" .. deepest:gsub("[^\n]+", "  %0")
assert.raises(function() yaml.parse(deeper) end, "invalid YAML")
assert.eq(#yaml.parse(string.rep("[", 256) .. string.rep("]", 256)), 1)
assert.raises(function() yaml.parse(string.rep("[", 257) .. string.rep("]", 257)) end, "invalid YAML")
-- An aliased scalar names a key by its text as written; `!!merge <<` merges.
assert.eq(yaml.parse("a: &x 0x10\n*x : b\n")["0x10"], "b")
assert.raises(function() yaml.parse("a: &x 0x10\n*x : b\n0x10: c\n") end, "duplicate key '0x10'")
assert.eq(yaml.parse("a: &x ~\n*x : b\n")["~"], "b")
assert.eq(yaml.parse("base: &b {x: 1}\nd:\n  !!merge <<: *b\n  y: 2\n").d, {x = 1, y = 2})
assert.eq(yaml.parse('a: "<<"\n').a, "<<")
print("yaml ok")
