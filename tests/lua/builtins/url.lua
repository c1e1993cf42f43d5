-- url: percent-encoding, parse/build, query strings; behaviour and errors.
-- (url_python.lua compares a corpus with Python's urllib.parse.)

assert.eq(url.encode("AZaz09-._~"), "AZaz09-._~")
assert.eq(url.encode("a b+c/d?e=f&g#h%"), "a%20b%2Bc%2Fd%3Fe%3Df%26g%23h%25")
assert.eq(url.encode("é😀"), "%C3%A9%F0%9F%98%80")
assert.eq(url.encode(""), "")
assert.eq(url.decode("%C3%a9"), "é")
assert.eq(url.decode("100%"), "100%")      -- invalid sequences stay, as Python's unquote
assert.eq(url.decode("%zz%4"), "%zz%4")
assert.eq(url.decode("a+b"), "a+b")        -- + is a space only in query strings
assert.eq(url.decode("%00%FF"), "\0\255")

-- parse
local u = url.parse("HTTPS://Alice:p%40ss@Example.COM:8443/a/b%2Fc?tag=x&tag=y&q=a+b&empty&z=%26#top")
assert.eq(u.scheme, "https")
assert.eq(u.user, "Alice")
assert.eq(u.password, "p@ss")
assert.eq(u.host, "example.com")
assert.eq(u.port, 8443)
assert.eq(u.path, "/a/b%2Fc")
assert.eq(u.query, {tag = {"x", "y"}, q = "a b", empty = "", z = "&"})
assert.eq(u.fragment, "top")

local v6 = url.parse("http://[2001:DB8::1]:8080/")
assert.eq(v6.host, "2001:db8::1")
assert.eq(v6.port, 8080)
assert.eq(url.parse("http://[::1]").host, "::1")
assert.eq(url.build(v6), "http://[2001:db8::1]:8080/")

local mail = url.parse("mailto:ops@example.com")
assert.eq(mail.host, nil)
assert.eq(mail.path, "ops@example.com")
local file = url.parse("file:///etc/hosts")
assert.eq(file.host, "")
assert.eq(url.build(file), "file:///etc/hosts")
local rel = url.parse("/search?q=1#x")
assert.eq(rel.scheme, nil)
assert.eq(rel.path, "/search")
assert.eq(rel.query, {q = "1"})
assert.eq(url.parse("http://h:/").port, nil)
assert.eq(url.parse("postgres://u@db/app").password, nil)
assert.eq(url.parse("postgres://u:@db/app").password, "")
assert.eq(url.parse("http://h/#").fragment, "")
assert.eq(url.parse("http://h/").fragment, nil)

-- build is parse's inverse (queries come out with sorted keys)
assert.eq(url.build({
  scheme = "https", user = "a b", password = "p@ss:", host = "example.com", port = 443,
  path = "/x y/é", query = {b = "2", a = {"1", "3"}}, fragment = "sec 1",
}), "https://a%20b:p%40ss%3A@example.com:443/x%20y/%C3%A9?a=1&a=3&b=2#sec%201")
assert.eq(url.build({path = "/p", query = "raw=1&x"}), "/p?raw=1&x")
assert.eq(url.build({scheme = "mailto", path = "a@b"}), "mailto:a@b")
for _, text in ipairs({
  "https://u:p@h.example:1/a/b?c=d&c=e&f=g#h", "http://[::1]:80/", "file:///tmp/x", "mailto:x@y",
}) do
  local parsed = url.parse(text)
  assert.eq(url.parse(url.build(parsed)), parsed, text)
end

-- query strings
assert.eq(url.query_encode({b = "2", a = "x y", c = {1, 2.5, true}}), "a=x+y&b=2&c=1&c=2.5&c=true")
assert.eq(url.query_encode({}), "")
assert.eq(url.query_encode({k = {}}), "")
assert.eq(url.query_encode({["a b"] = "é&="}), "a+b=%C3%A9%26%3D")
assert.eq(url.query_decode("?a=1&a=2&&b=x+y%21&c"), {a = {"1", "2"}, b = "x y!", c = ""})
assert.eq(url.query_decode(""), {})
assert.eq(url.query_decode("a=1=2"), {a = "1=2"})
local t = {x = {"1", "2", "3"}, y = "é z", [""] = "e"}
assert.eq(url.query_decode(url.query_encode(t)), t)

-- errors
assert.raises(function() url.parse("") end, [[url.parse: invalid URL "": it is empty]])
assert.raises(function() url.parse("http://a b/") end, [[byte 9 \(' '\) is not allowed in a URL]])
assert.raises(function() url.parse("http://x\n/") end, [[byte 9]])
assert.raises(function() url.parse("1http://x") end, [["1http" is not a scheme]])
assert.raises(function() url.parse("http://[::1/") end, [[IPv6 host is not closed]])
assert.raises(function() url.parse("http://[nothex]/") end, [[\[nothex\] is not an IPv6 address]])
assert.raises(function() url.parse("http://[::1]x/") end, [[only a ':port' may follow]])
assert.raises(function() url.parse("http://h:99999/") end, [[port 99999 is not in 0..65535]])
assert.raises(function() url.parse("http://h:8o/") end, [[port "8o" is not a number]])
assert.raises(function() url.parse("http://a<b/") end, [['<' in host "a<b"]])
assert.raises(function() url.parse(42) end, [[bad argument #1 'url' \(string expected, got number\)]])
assert.raises(function() url.build({hots = "x"}) end, [[unknown field 'hots']])
assert.raises(function() url.build({host = "h", path = "x"}) end, [[field 'path' \(must start with '/' after a host\)]])
assert.raises(function() url.build({path = "//x"}) end, [[cannot start with '//' without a host]])
assert.raises(function() url.build({port = 1}) end, [[user, password and port need a host]])
assert.raises(function() url.build({host = "h", port = 70000}) end, [[field 'port' \(not in 0..65535\)]])
assert.raises(function() url.build({host = "a/b"}) end, [[field 'host' \('/' in "a/b"\)]])
assert.raises(function() url.build({scheme = "ht tp"}) end, [[field 'scheme' \("ht tp" is not a scheme\)]])
assert.raises(function() url.build({query = 1}) end, [[field 'query' \(table or string expected, got number\)]])
assert.raises(function() url.query_encode({a = {b = 1}}) end, [[field 'a' \(a table value must be a list\)]])
assert.raises(function() url.query_encode({a = print}) end, [[field 'a' \(string, number, boolean or list expected, got function\)]])
assert.raises(function() url.query_encode({a = {1, {}}}) end, [[field 'a' \(item 2: string, number or boolean expected, got table\)]])
assert.raises(function() url.query_encode({[true] = 1}) end, [[keys must be strings or numbers, got boolean]])
assert.raises(function() url.encode("a", "b") end, [[bad argument #2 \(at most 1 argument expected, got 2\)]])
print("url ok")

-- IPv6 hosts are checked as addresses (as Python's urlsplit does): "[a:80]" is not one.
assert.raises(function() url.parse("http://[a:80]/") end, [[not an IPv6 address]])
assert.eq(url.parse("http://[fe80::1%25eth0]:8080/").port, 8080)
assert.raises(function() url.build({scheme = "http", host = "a:80"}) end, [["a:80" is not an IPv6 address]])
assert.eq(url.build({scheme = "http", host = "::1", port = 80}), "http://[::1]:80")
-- A relative path whose first segment has ':' must not read back as a scheme.
assert.eq(url.build({path = "a:b/c"}), "./a:b/c")
assert.eq(url.parse(url.build({path = "a:b"})).scheme, nil)
assert.raises(function() url.build({scheme = "http", host = "h", port = 80.5}) end, [[80.5 is not a whole number]])
