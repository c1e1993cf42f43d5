-- loki.client: options, environment defaults, headers (tenant, auth), the shape of its errors.
local loki = require("assay.loki")
local here = arg[0]:match("^(.*)/") or "."
local fake = dofile(here .. "/fake_loki.lua").start{tenant = "team-a"}

after_each(function()
  local seen = fake.violations
  fake:reset()
  assert.eq(seen, {}, "requests the real Loki API would not take")
end)

test("no _VERSION: the manifest's version is the only one", function()
  assert.eq(rawget(loki, "_VERSION"), nil)
end)

test("unknown options raise naming them", function()
  assert.raises(function() loki.client{url = fake.url, tennant = "x"} end,
    [[loki.client: bad argument #1 'opts' \(unknown option 'tennant'; expected url, tenant]])
  assert.raises(function() loki.client("http://x") end, "table expected, got string")
  assert.raises(function() loki.client{tenant = ""} end,
    [[loki\.client: bad argument #1 'opts' \(field 'tenant': non-empty string expected, got an empty string\)]])
  assert.raises(function() loki.client{auth = "tok"} end,
    [[loki\.client: bad argument #1 'opts' \(field 'auth': \{user, password\} or \{bearer = token\} expected, got string\)]])
  assert.raises(function() loki.client{url = 3100} end,
    [[loki\.client: bad argument #1 'opts' \(field 'url': string expected, got number\)]])
end)

test("the tenant goes in X-Scope-OrgID on every request, with user headers", function()
  local c = loki.client{url = fake.url, tenant = "team-a", headers = {["x-request-source"] = "assay"},
    timeout = 5}
  c:push({app = "web"}, "hello")
  c:labels()
  for _, req in ipairs(fake.requests) do
    assert.eq(req.headers["x-scope-orgid"], "team-a")
    assert.eq(req.headers["x-request-source"], "assay")
  end
end)

test("a path in the url is kept as a prefix; trailing slashes dropped", function()
  local c = loki.client{url = fake.url .. "/", tenant = "team-a"}
  assert.eq(c.url, fake.url)
  assert.eq(c:ready(), true)
  assert.eq(fake:last().path, "/ready")
end)

test("credentials in the url become basic auth and leave the url", function()
  local gw = dofile(here .. "/fake_loki.lua").start{auth = {"loki", "s3cret"}}
  local c = loki.client{url = gw.url:gsub("http://", "http://loki:s3cret@")}
  assert.eq(c.url, gw.url)
  c:push({app = "web"}, "through the gateway")
  assert.eq(gw:last().headers.authorization, "Basic " .. base64.encode("loki:s3cret"))
  assert.eq(gw.violations, {})
  gw:stop()
end)

test("a password never shows: bad url messages mask it, the url drops it", function()
  for _, raw in ipairs{"user:hunter2@host:3100", "http://user:hunter2@host:notaport", "http://u:hun/ter2@host",
      "ftp://user:hunter2@host"} do
    local ok, err = pcall(loki.client, {url = raw})
    assert.eq(ok, false)
    assert.matches(err, [[loki\.client: bad url \(an http\(s\) URL expected, got ".*:\*\*\*@]])
    assert.eq(err:find("hunter2", 1, true) or err:find("hun/ter2", 1, true), nil, err)
  end
  assert.raises(function() loki.client{url = "http://user@host:notaport"} end, [[got "http://user@host:notaport"]])
  local c = loki.client{url = "http://:hunter2@127.0.0.1:1/loki"}
  assert.eq(c.url, "http://127.0.0.1:1/loki")
  assert.eq(tostring(c):find("hunter2", 1, true), nil)
end)

test("percent-escapes in url credentials are decoded once", function()
  local gw = dofile(here .. "/fake_loki.lua").start{auth = {"lo ki", "p@ss:%20"}}
  loki.client{url = gw.url:gsub("http://", "http://lo%%20ki:p%%40ss%%3A%%2520@")}:push({a = "b"}, "x")
  assert.eq(gw:last().headers.authorization, "Basic " .. base64.encode("lo ki:p@ss:%20"))
  assert.eq(gw.violations, {})
  gw:stop()
end)

test("auth = {user, password} and {bearer = token}", function()
  local basic = dofile(here .. "/fake_loki.lua").start{auth = {"u", "p"}}
  loki.client{url = basic.url, auth = {"u", "p"}}:push({a = "b"}, "x")
  loki.client{url = basic.url, auth = {user = "u", password = "p"}}:push({a = "b"}, "y")
  assert.eq(#basic.requests, 2)
  local bearer = dofile(here .. "/fake_loki.lua").start{auth = {bearer = "tok"}}
  loki.client{url = bearer.url, auth = {bearer = "tok"}}:push({a = "b"}, "x")
  assert.eq(bearer:last().headers.authorization, "Bearer tok")
  assert.eq(basic.violations, {})
  assert.eq(bearer.violations, {})
  basic:stop(); bearer:stop()
end)

test("a network failure keeps the http client's message after the prefix", function()
  local c = loki.client{url = "http://127.0.0.1:1", timeout = 2}
  assert.raises(function() c:ready() end, [[^loki\.ready: http\.Client:request: cannot connect to 127\.0\.0\.1:1]])
  assert.raises(function() c:query_range('{a="b"}') end, [[^loki\.query_range: .*cannot connect]])
end)

test("ca_cert and insecure pass through to http.client", function()
  -- http.client checks ca_cert itself: a missing file is its error, after our prefix
  assert.raises(function() loki.client{url = fake.url, ca_cert = "/nonexistent/ca.pem"} end,
    [[loki\.client: http\.client: ca_cert: cannot read /nonexistent/ca\.pem]])
  local c = loki.client{url = fake.url, insecure = true, tenant = "team-a"}
  assert.eq(c:ready(), true)
end)
