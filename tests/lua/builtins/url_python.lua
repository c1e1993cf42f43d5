-- url against Python's urllib.parse: url.encode/decode, url.query_encode/query_decode and
-- url.parse over a corpus of 300+ strings (every single byte, unicode, emoji, reserved
-- characters, '+', '%', broken escapes, empty), and handwritten URLs (IPv6, userinfo, empty
-- authority, relative). Needs python3 (stdlib only); fails, never skips, without it.

local shell = require("fixtures.shell")
local quote, capture = shell.quote, shell.capture

local corpus = {"", "+", "%", "%%", "%2", "%2g", "%41", "%e2%82%ac", "a+b", "a b", "a%20b", "100%",
  "é", "ü", "日本語", "😀", "👩‍👩‍👧", "\u{feff}", "\u{2028}", "~user", "a.b-c_d", "?", "#", "&", "=",
  "a=b&c=d", "a&&b", "&=&", "==", "k=v=w", "[::1]", "@", ":", "/", "//", "\\", "\"'<>`{}|^",
  "!$&'()*+,;=", "\0", "\r\n", "\t", "\127", "\255\254", "\192\128", "  ", "+%2B+", "%2B", "%252F",
  "key with spaces=value with spaces", "?a=1", "a=1;b=2", "%C3%A9", "%c3%A9", "Ω≈ç√∫",
  ("x"):rep(300), ("é"):rep(50), "🇩🇪🏳️‍🌈", "a\0b", "%00", "%zz", "%%41", "%4%41"}
for b = 0, 255 do corpus[#corpus + 1] = string.char(b) end
for b = 0, 255, 7 do corpus[#corpus + 1] = "k" .. string.char(b) .. "=v" .. string.char(255 - b) end
assert.ge(#corpus, 200)

local urls = {
  "http://example.com", "HTTP://EXAMPLE.com:80/", "https://u@h/", "https://u:@h/", "https://:p@h/",
  "http://[::1]/", "http://[2001:db8::A]:8443/x?y=z#w", "http://[::ffff:192.0.2.1]:1/",
  "file:///etc/hosts", "mailto:someone@example.com", "/relative/path?q=1", "//host.only/x",
  "s3://bucket/key%20with%20space", "postgres://user:p%40ss%3Aw@db:5432/app?sslmode=require",
  "http://h/?a=1&a=2&b=&c", "http://h/#frag?x", "http://h/path;params?q", "http://h:0/",
  "http://h:65535", "redis://:secret@localhost:6379/0", "http://h/%7Euser", "x:",
}

local lines = {}
for _, s in ipairs(corpus) do lines[#lines + 1] = hex.encode(s) end
lines[#lines + 1] = "--urls"
for _, u in ipairs(urls) do lines[#lines + 1] = hex.encode(u) end
local dir = fs.tempdir()
fs.write(dir .. "/corpus", table.concat(lines, "\n"))
local python = capture("command -v python3 || echo missing-python3"):gsub("%s+$", "")
local answers = json.parse(capture(("%s url_peer.py %s"):format(quote(python), quote(dir .. "/corpus"))))
fs.remove(dir, {recursive = true})

-- Our decoded query as Python's parse_qs shape: {hex key = {hex values}}.
local function as_qs(t)
  local out = {}
  for k, v in pairs(t) do
    local list = type(v) == "table" and v or {v}
    local hexed = {}
    for i, item in ipairs(list) do hexed[i] = hex.encode(item) end
    out[hex.encode(k)] = hexed
  end
  return out
end

local function as_python(p)
  return {
    scheme = hex.encode(p.scheme or ""),
    user = p.user and hex.encode(p.user) or nil,
    password = p.password and hex.encode(p.password) or nil,
    host = hex.encode(p.host or ""),
    port = p.port,
    path = hex.encode(p.path),
    query = as_qs(p.query),
    fragment = hex.encode(p.fragment or ""),
  }
end

local checked = 0
for i, s in ipairs(corpus) do
  local want = answers.corpus[i]
  local what = ("corpus #%d %q"):format(i, s)
  local encoded = url.encode(s)
  assert.eq(hex.encode(encoded), want.encode, "url.encode of " .. what)
  assert.eq(url.decode(encoded), s, "url.decode(url.encode()) of " .. what)
  assert.eq(hex.encode(url.decode(s)), want.decode, "url.decode of " .. what)
  assert.eq(hex.encode(url.query_encode({k = s})), want.query_value, "query_encode value " .. what)
  assert.eq(hex.encode(url.query_encode({[s] = {s, "x"}})), want.query_list, "query_encode list " .. what)
  -- parse_qs keeps a leading '?' in the first key; query_decode skips it, as URLSearchParams
  if s:sub(1, 1) ~= "?" then
    assert.eq(as_qs(url.query_decode(s)), want.query_decode, "query_decode of " .. what)
  end
  assert.eq(as_python(url.parse(("https://%s:%s@Host.Example:8080/p/%s?k=%s&%s=v#%s"):format(
    encoded, encoded, encoded, encoded, encoded, encoded))), want.url, "url.parse with " .. what)
  checked = checked + 1
end
for i, u in ipairs(urls) do
  assert.eq(as_python(url.parse(u)), answers.urls[i], "url.parse of " .. u)
  checked = checked + 1
end
print(("url: %d cases agree with Python's urllib.parse"):format(checked))
