-- regex.find and regex.match read `init` as string.find does: every case below is asked of
-- both, on patterns that mean the same in Lua patterns and in regex syntax.
local texts = {"", "a", "aaa", "abcabc", "xbcx\nbc", "h\195\169llo h\195\169llo"}
local patterns = {"a", "b", "c", "bc", "a+", "[bc]+", "l+o", "", "x"}
local inits = {
  "none", 1, 2, 3, 4, 5, 6, 7, 8, 12, 13, 14, 100, 0, -1, -2, -3, -5, -6, -7, -12, -13, -100,
  math.maxinteger, math.mininteger, 2.0, -1.0, "3", " 2 ", "0x2", "-2",
}
local asked = 0
for _, text in ipairs(texts) do
  for _, pattern in ipairs(patterns) do
    for _, init in ipairs(inits) do
      local s, e, m, matched
      if init == "none" then
        s, e = string.find(text, pattern)
        m, matched = regex.find(text, pattern), regex.match(text, pattern)
      else
        s, e = string.find(text, pattern, init)
        m, matched = regex.find(text, pattern, init), regex.match(text, pattern, init)
      end
      local where = string.format("text %q, pattern %q, init %s", text, pattern, tostring(init))
      if s == nil then
        assert.is_nil(m, where)
      else
        assert.not_nil(m, where)
        assert.eq({m.start, m.stop, m.match}, {s, e, text:sub(s, e)}, where)
      end
      assert.eq(matched, s ~= nil, where)
      asked = asked + 1
    end
  end
end
assert.eq(asked, #texts * #patterns * #inits)
-- nil is the default, as for string.find
assert.eq(regex.find("abcabc", "b", nil).start, 2)

-- positions and groups stay those of the whole text
local m = regex.find("key=1 key=22", [[key=(\d+)]], 2)
assert.eq({m.start, m.stop, m.groups[1]}, {7, 12, "22"})
-- unlike a Lua pattern's ^, the regex's ^ and \b see the whole text (as Python's re.search
-- with pos): ^ is the start of the text, a word boundary looks at the byte before init
assert.eq(string.find("abab", "^ab", 3), 3)
assert.is_nil(regex.find("abab", "^ab", 3))
assert.is_nil(regex.find("foobar", [[\bbar]], 4))
assert.eq(regex.find("foo bar", [[\bbar]], 4).start, 5)
assert.eq(regex.match("abab", "^ab", 3), false)

-- an init that is not an integer fails as it does for string.find, naming the argument
for _, case in ipairs({
  {1.5, "number has no integer representation"},
  {"1.5", "number has no integer representation"},
  {"x", "number expected, got string"},
  {{}, "number expected, got table"},
  {true, "number expected, got boolean"},
}) do
  local init, why = case[1], case[2]
  assert.eq(pcall(string.find, "abc", "b", init), false)
  local _, lua_err = pcall(string.find, "abc", "b", init)
  assert(lua_err:find(why, 1, true), lua_err)
  for _, name in ipairs({"find", "match"}) do
    local ok, err = pcall(regex[name], "abc", "b", init)
    assert.eq(ok, false)
    local want = "regex." .. name .. ": bad argument #3 'init' (" .. why .. ")"
    assert(err:sub(-#want) == want, err)
  end
end
print("regex init ok")
