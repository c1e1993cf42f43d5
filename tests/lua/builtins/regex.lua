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
-- Unicode: classes, case folding, general categories, scripts and ages, in every build
assert.eq(regex.match("Ärger", [[^\p{Lu}\w+$]]), true)
assert.eq(regex.match("ÉCOLE", "(?i)école"), true)
assert.eq(regex.match("α", [[^\p{Greek}$]]), true)
assert.eq(regex.match("a", [[\p{Greek}]]), false)
assert.eq(regex.match("€", [[\p{Age:2.1}]]), true)
assert.raises(function() regex.match("α", [[\p{Klingon}]]) end, "Unicode property not found")
assert.raises(function() regex.find(nil, "x") end, [[bad argument #1 'text']])
assert.raises(function() regex.find("x", 5) end, [[bad argument #2 'pattern' \(string expected, got number\)]])
assert.raises(function() regex.replace("x", "x", nil) end, [[bad argument #3 'repl']])

-- replace with a function: called with find's match table; nil/false keep the match
assert.eq(regex.replace("a1 b22 c333", [[\d+]], function(m) return "<" .. #m.match .. ">" end, {all = true}), "a<1> b<2> c<3>")
assert.eq(regex.replace("a1 b22", [[\d+]], function(m) return tostring(m.start) end), "a2 b22")
local seen = {}
assert.eq(regex.replace("k=v, x=y", [[(?P<key>\w)=(\w)]], function(m)
  seen[#seen + 1] = m
  return m.groups[2] .. "=" .. m.named.key
end, {all = true}), "v=k, y=x")
assert.eq(seen[2], {match = "x=y", start = 6, stop = 8, groups = {"x", "y"}, named = {key = "x"}})
assert.eq(regex.replace("a b c", [[\w]], function(m) if m.match == "b" then return false end return m.match:upper() end, {all = true}), "A b C")
assert.eq(regex.replace("a b", [[\w]], function() end, {all = true}), "a b")
assert.eq(regex.replace("n=1", [[\d]], function() return 42 end), "n=42")
assert.eq(regex.replace("$1", [[\$1]], function() return "$2" end), "$2")  -- no template expansion
assert.raises(function() regex.replace("a", "a", function() return {} end) end,
  [[regex.replace: bad argument #3 'repl' \(the function returned a table; string, number, nil or false expected\)]])
assert.raises(function() regex.replace("a", "a", function() return true end) end, [[the function returned a boolean]])
assert.raises(function() regex.replace("a", "a", function() error("inner failure") end) end, [[inner failure]])
assert.raises(function() regex.replace("a", "a", 1) end, [[bad argument #3 'repl' \(string or function expected, got number\)]])
assert.raises(function() regex.replace("a", "a", "b", {al = true}) end, [[bad argument #4 'opts': unknown field 'al' \(known: all\)]])
assert.raises(function() regex.replace("a", "a", "b", nil, 5) end, [[bad argument #5 \(at most 4 arguments expected, got 5\)]])
print("regex ok")

-- Empty matches never split a UTF-8 character (as Python's re): they used to cut "é" in two.
assert.eq(regex.replace("é", "", "-", {all = true}), "-é-")
assert.eq(#regex.find_all("aé", ""), 3)
assert.eq(regex.split("é", ""), {"", "é", ""})
-- Binary text is still matched byte by byte.
assert.eq(regex.replace("\xC3", "", "-", {all = true}), "-\xC3-")

-- What the replacement function raises is raised unchanged, like string.gsub's.
local ok, err = pcall(regex.replace, "abc", "b", function() error({code = 1}) end)
assert.eq(ok, false)
assert.eq(err, {code = 1})
ok, err = pcall(regex.replace, "abc", "b", function() error("plain", 0) end)
assert.eq({ok, err}, {false, "plain"})
