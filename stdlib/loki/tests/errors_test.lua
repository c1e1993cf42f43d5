-- Error paths: Loki's own messages in "<pkg>.<method>: <METHOD> <path>: <status> <text>", and
-- proof that the fake refuses what the real Loki API refuses.
local loki = require("assay.loki")
local here = arg[0]:match("^(.*)/") or "."
local Fake = dofile(here .. "/fake_loki.lua")
local fake = Fake.start{tenant = "t1", auth = {bearer = "writer-token"}, readonly_token = "reader-token"}

after_each(function()
  local seen = fake.violations
  fake:reset()
  assert.eq(seen, {}, "requests the real Loki API would not take")
end)

local function client(o)
  o = o or {}
  o.url = o.url or fake.url
  return loki.client(o)
end

test("401 without the tenant: Loki's 'no org id'", function()
  local c = client{auth = {bearer = "writer-token"}}
  assert.raises(function() c:push({a = "b"}, "x") end,
    [[^loki\.push: POST /loki/api/v1/push: 401 no org id$]])
  assert.raises(function() c:query_range('{a="b"}') end,
    [[^loki\.query_range: GET /loki/api/v1/query_range: 401 no org id$]])
end)

test("401 from the gateway with its message; the token never in the message", function()
  local c = client{tenant = "t1", auth = {bearer = "wrong-secret-token"}}
  local ok, err = pcall(c.labels, c)
  assert.eq(ok, false)
  assert.eq(err, "loki.labels: GET /loki/api/v1/labels: 401 Unauthorized: invalid or missing credentials")
  assert.eq(err:find("wrong-secret-token", 1, true), nil)
end)

test("403 for a token that may only read", function()
  local c = client{tenant = "t1", auth = {bearer = "reader-token"}}
  assert.eq(#c:labels(), 0)
  assert.raises(function() c:push({a = "b"}, "x") end,
    [[^loki\.push: POST /loki/api/v1/push: 403 Forbidden: this token may only read logs$]])
end)

test("400 with LogQL's parse error", function()
  local c = client{tenant = "t1", auth = {bearer = "writer-token"}}
  local ok, err = pcall(c.query_range, c, "app=web")
  assert.eq(ok, false)
  assert.matches(err, [[^loki\.query_range: GET /loki/api/v1/query_range: 400 parse error at line 1, col 1: syntax error]])
  fake.violations = {} -- the fake records rejected LogQL too; here it was the point
  assert.raises(function() c:query('{app=~".*"}') end,
    [[^loki\.query: GET /loki/api/v1/query: 400 queries require at least one regexp or equality matcher]])
  fake.violations = {}
end)

test("an instant log query is refused as Loki >= 3.2 refuses it", function()
  local c = client{tenant = "t1", auth = {bearer = "writer-token"}}
  assert.raises(function() c:query('{app="web"}') end,
    [[^loki\.query: GET /loki/api/v1/query: 400 log queries are not supported as an instant query type]])
end)

test("a JSON error body from a gateway gives its message", function()
  local srv = http.server({GET = {["/loki/api/v1/labels"] = function()
    return {status = 429, json = {status = "error", error = "too many outstanding requests"}}
  end}}, {host = "127.0.0.1", port = 0})
  local c = loki.client{url = "http://127.0.0.1:" .. srv.port}
  assert.raises(function() c:labels() end,
    [[^loki\.labels: GET /loki/api/v1/labels: 429 too many outstanding requests$]])
  srv:stop()
end)

test("a server error answered with a non-JSON 200 is reported", function()
  local srv = http.server({GET = {["/loki/api/v1/labels"] = function() return "<html>proxy</html>" end}},
    {host = "127.0.0.1", port = 0})
  local c = loki.client{url = "http://127.0.0.1:" .. srv.port}
  assert.raises(function() c:labels() end, [[^loki\.labels: GET /loki/api/v1/labels: 200 answer is not JSON: <html>proxy</html>]])
  srv:stop()
end)

test("a 500 on /ready raises; 503 is data", function()
  local srv = http.server({GET = {["/ready"] = function() return {status = 500, body = "boom\n"} end}},
    {host = "127.0.0.1", port = 0})
  local c = loki.client{url = "http://127.0.0.1:" .. srv.port}
  assert.raises(function() c:ready() end, [[^loki\.ready: GET /ready: 500 boom$]])
  srv:stop()
end)

describe("the fake is strict", function()
  -- Requests no client of the real API would send get Loki's answers and are recorded.
  local H = {authorization = "Bearer writer-token", ["x-scope-orgid"] = "t1"}

  local function expect_violation(resp, status, pat)
    assert.eq(resp.status, status)
    assert.eq(#fake.violations, 1)
    assert.matches(fake.violations[1], pat)
    fake.violations = {}
  end

  test("unknown path", function()
    expect_violation(http.get(fake.url .. "/loki/api/v1/query_rang", {headers = H}), 404, "no such endpoint")
    expect_violation(http.get(fake.url .. "/api/v1/labels", {headers = H}), 404, "no such endpoint")
  end)

  test("wrong method", function()
    expect_violation(http.get(fake.url .. "/loki/api/v1/push", {headers = H}), 405, "method not allowed")
  end)

  test("unknown or malformed query parameters", function()
    expect_violation(http.get(fake.url .. "/loki/api/v1/query_range",
      {headers = H, query = {query = '{a="b"}', from = "1"}}), 400, "unexpected query parameter 'from'")
    expect_violation(http.get(fake.url .. "/loki/api/v1/query_range",
      {headers = H, query = {query = '{a="b"}', start = "yesterday"}}), 400, "invalid parameter 'start'")
    expect_violation(http.get(fake.url .. "/loki/api/v1/query_range",
      {headers = H, query = {query = '{a="b"}', since = "1.5h"}}), 400, "invalid parameter 'since'")
    expect_violation(http.get(fake.url .. "/loki/api/v1/query_range",
      {headers = H, query = {query = '{a="b"}', direction = "up"}}), 400, "invalid parameter 'direction'")
    expect_violation(http.get(fake.url .. "/loki/api/v1/query_range",
      {headers = H, query = {query = '{a="b"}', limit = "-1"}}), 400, "invalid parameter 'limit'")
    expect_violation(http.get(fake.url .. "/loki/api/v1/query_range", {headers = H}), 400, "'query' is required")
    expect_violation(http.get(fake.url .. "/loki/api/v1/series", {headers = H}), 400, [[match\[\] parameter is required]])
    expect_violation(http.get(fake.url .. "/ready", {query = {x = "1"}}), 400, "no query parameters")
  end)

  test("push bodies: content type, timestamps as nanosecond strings, labels", function()
    local function push(body, ctype)
      return http.post(fake.url .. "/loki/api/v1/push", type(body) == "table" and json.encode(body) or body,
        {headers = {authorization = H.authorization, ["x-scope-orgid"] = "t1",
          ["content-type"] = ctype or "application/json"}})
    end
    local good = {streams = {{stream = {a = "b"}, values = {{"1700000000000000000", "x"}}}}}
    assert.eq(push(good).status, 204)
    assert.eq(fake.violations, {})
    expect_violation(push(good, "text/plain"), 400, "snappy")
    expect_violation(push({streams = {{stream = {a = "b"}, values = {{1700000000000000000, "x"}}}}}), 400,
      "string of nanoseconds")
    expect_violation(push({streams = {{stream = {a = "b"}, values = {{"1700000000", "x"}}}}}), 400,
      "not in nanoseconds")
    expect_violation(push({streams = {{stream = {}, values = {{"1700000000000000000", "x"}}}}}), 400,
      "at least one label pair")
    expect_violation(push({streams = {{labels = "{a=\"b\"}", values = {}}}}), 400, "unknown field")
    expect_violation(push({streams = {{stream = {a = "b"}, values = {{"1700000000000000000"}}}}}), 400,
      "expected")
    expect_violation(push("not json"), 400, "invalid JSON")
  end)
end)
