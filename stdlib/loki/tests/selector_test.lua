-- loki.selector: quoting and ordering of LogQL stream selectors.
local loki = require("assay.loki")

test("labels are sorted by name and quoted", function()
  assert.eq(loki.selector{env = "prod", app = "web"}, '{app="web", env="prod"}')
  assert.eq(loki.selector{z = "1", a = "2", m = "3"}, '{a="2", m="3", z="1"}')
end)

test("the same labels always give the same selector", function()
  local first = loki.selector{c = "3", b = "2", a = "1", d = "4", e = "5"}
  for _ = 1, 20 do
    assert.eq(loki.selector{e = "5", d = "4", c = "3", b = "2", a = "1"}, first)
  end
end)

test("double quotes and backslashes are escaped", function()
  assert.eq(loki.selector{msg = 'say "hi"'}, [[{msg="say \"hi\""}]])
  assert.eq(loki.selector{path = [[C:\logs\app]]}, [[{path="C:\\logs\\app"}]])
  assert.eq(loki.selector{v = [[\"]]}, [[{v="\\\""}]])
end)

test("control characters are escaped as Go string literals", function()
  assert.eq(loki.selector{v = "a\nb\tc\rd\1"}, [[{v="a\nb\tc\rd\x01"}]])
end)

test("numbers and booleans become strings", function()
  assert.eq(loki.selector{port = 8080, canary = true}, '{canary="true", port="8080"}')
end)

test("other matchers as {op, value}", function()
  assert.eq(loki.selector{app = "web", env = {"!=", "dev"}, pod = {"=~", "web-.*"}, ns = {"!~", "kube-.+"}},
    '{app="web", env!="dev", ns!~"kube-.+", pod=~"web-.*"}')
  assert.eq(loki.selector{re = {"=~", [[a\.b]]}}, [[{re=~"a\\.b"}]])
end)

test("bad labels raise naming the argument", function()
  assert.raises(function() loki.selector{} end, [[bad argument #1 'labels' \(non-empty table expected]])
  assert.raises(function() loki.selector("app") end, "bad argument #1 'labels'")
  assert.raises(function() loki.selector{["bad-name"] = "x"} end, "invalid label name bad-name")
  assert.raises(function() loki.selector{["1x"] = "x"} end, "invalid label name 1x")
  assert.raises(function() loki.selector{app = {"==", "x"}} end, "operator =, !=, =~ or !~ expected")
  assert.raises(function() loki.selector{app = {}} end, "label 'app'")
end)
