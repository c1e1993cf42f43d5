-- regex: match, find (positions like string.find), find_all, replace, split, errors.

assert.eq(regex.match("hello world", "^hel+o"), true)
assert.eq(regex.match("hello", "\\d"), false)

local m = regex.find("user=alice id=42", [[(\w+)=(?P<value>\d+)]])
assert.eq(m.match, "id=42")
assert.eq(m.start, 12)
assert.eq(m.stop, 16)
assert.eq(string.sub("user=alice id=42", m.start, m.stop), m.match)
assert.eq(m.groups, {"id", "42"})
assert.eq(m.named, {value = "42"})
assert.is_nil(regex.find("abc", "x"))
-- an optional group that did not take part is false, so the list has no holes
local opt = regex.find("ac", "a(b)?(c)")
assert.eq(opt.groups, {false, "c"})

local all = regex.find_all("a1 b22 c333", [[[a-z](\d+)]])
assert.eq(#all, 3)
assert.eq(all[3].groups[1], "333")
assert.eq(#regex.find_all("abc", "x"), 0)

assert.eq(regex.replace("a-b-c", "-", "+"), "a+b-c")
assert.eq(regex.replace("a-b-c", "-", "+", {all = true}), "a+b+c")
assert.eq(regex.replace("John Smith", [[(\w+) (\w+)]], "$2, $1"), "Smith, John")
assert.eq(regex.replace("k=v", [[(?P<k>\w)=(?P<v>\w)]], "${v}=${k}"), "v=k")

assert.eq(regex.split("a, b,c", [[,\s*]]), {"a", "b", "c"})
assert.eq(regex.split("abc", ","), {"abc"})

-- bytes that are not UTF-8 are fine in the text
assert.eq(regex.find("\255x\255", "x").start, 2)
-- linear time: a classic catastrophic pattern returns at once
assert.eq(regex.match(string.rep("a", 5000) .. "!", "^(a+)+$"), false)

assert.raises(function() regex.match("x", "(") end, "regex.match: invalid pattern")
-- Unicode: classes, case folding and general categories; script properties are not built in
assert.eq(regex.match("Ärger", [[^\p{Lu}\w+$]]), true)
assert.eq(regex.match("ÉCOLE", "(?i)école"), true)
assert.raises(function() regex.match("α", [[\p{Greek}]]) end, "Unicode property not found")
assert.raises(function() regex.find(nil, "x") end, [[bad argument #1 'text']])
assert.raises(function() regex.find("x", 5) end, [[bad argument #2 'pattern' \(string expected, got number\)]])
assert.raises(function() regex.replace("x", "x", nil) end, [[bad argument #3 'repl']])
print("regex ok")
