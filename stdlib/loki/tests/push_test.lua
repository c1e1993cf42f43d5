-- c:push against the fake Loki: the documented body {"streams": [{"stream", "values"}]} with
-- nanosecond timestamps as strings.
local loki = require("assay.loki")
local here = arg[0]:match("^(.*)/") or "."
local fake = dofile(here .. "/fake_loki.lua").start{tenant = "t1"}
local c = loki.client{url = fake.url, tenant = "t1"}

after_each(function()
  local seen = fake.violations
  fake:reset()
  assert.eq(seen, {}, "requests the real Loki API would not take")
end)

local function pushed()
  local req = fake:last()
  assert.eq(req.method, "POST")
  assert.eq(req.path, "/loki/api/v1/push")
  assert.matches(req.headers["content-type"], "^application/json")
  return json.parse(req.body)
end

test("strings get the current time in nanoseconds, in order, one stream", function()
  local before = time()
  assert.eq(c:push({app = "web", env = "prod"}, {"first", "second", "third"}), true)
  local after = time()
  local body = pushed()
  assert.eq(#body.streams, 1)
  assert.eq(body.streams[1].stream, {app = "web", env = "prod"})
  local values = body.streams[1].values
  assert.eq(#values, 3)
  local last
  for i, v in ipairs(values) do
    assert.eq(type(v[1]), "string")
    assert.matches(v[1], "^[0-9]{19}$")
    local secs = tonumber(v[1]:sub(1, 10))
    assert.ge(secs, math.floor(before))
    assert.le(secs, math.floor(after))
    if last then assert.gt(math.tointeger(tonumber(v[1])), last) end
    last = math.tointeger(tonumber(v[1]))
    assert.eq(v[2], ({"first", "second", "third"})[i])
  end
end)

test("a single string is one line", function()
  c:push({app = "web"}, "only line")
  local values = pushed().streams[1].values
  assert.eq(#values, 1)
  assert.eq(values[1][2], "only line")
end)

test("{ts, line} with seconds, nanoseconds as digits and RFC 3339", function()
  c:push({app = "web"}, {
    {1700000000, "int seconds"},
    {1700000000.25, "float seconds"},
    {"1700000000123456789", "nanoseconds"},
    {"2023-11-14T22:13:20.123456789Z", "rfc3339 nano"},
    {"2023-11-15T00:13:20+02:00", "rfc3339 offset"},
    {ts = 1700000001, line = "named"},
  })
  local v = pushed().streams[1].values
  assert.eq(v[1], {"1700000000000000000", "int seconds"})
  assert.eq(v[2], {"1700000000250000000", "float seconds"})
  assert.eq(v[3], {"1700000000123456789", "nanoseconds"})
  assert.eq(v[4], {"1700000000123456789", "rfc3339 nano"})
  assert.eq(v[5], {"1700000000000000000", "rfc3339 offset"})
  assert.eq(v[6], {"1700000001000000000", "named"})
end)

test("structured metadata as a third element", function()
  c:push({app = "web"}, {{1700000000, "with meta", {trace_id = "abc", n = 1}},
    {ts = 1700000001, line = "named meta", metadata = {user = "u1"}}})
  local v = pushed().streams[1].values
  assert.eq(v[1], {"1700000000000000000", "with meta", {trace_id = "abc", n = "1"}})
  assert.eq(v[2], {"1700000001000000000", "named meta", {user = "u1"}})
end)

test("label values that are numbers or booleans become strings", function()
  c:push({app = "web", shard = 3, canary = false}, "x")
  assert.eq(pushed().streams[1].stream, {app = "web", shard = "3", canary = "false"})
end)

test("pushed lines come back from query_range", function()
  local now = math.floor(time())
  c:push({app = "api", env = "prod"}, {{now - 30, "GET /a 200"}, {now - 20, "GET /b 500"}})
  c:push({app = "api", env = "dev"}, {{now - 10, "GET /c 200"}})
  local r = c:query_range(loki.selector{app = "api", env = "prod"}, {since = "1h"})
  assert.eq(r.resultType, "streams")
  assert.eq(#r.result, 1)
  assert.eq(r.result[1].stream, {app = "api", env = "prod"})
  -- backward by default: newest first
  assert.eq(r.result[1].values[1][2], "GET /b 500")
  assert.eq(r.result[1].values[2][2], "GET /a 200")
  assert.eq(r.result[1].values[2][1], ("%d000000000"):format(now - 30))
end)

test("bad arguments raise naming them", function()
  assert.raises(function() c:push({}, "x") end, [[loki\.push: bad argument #1 'labels' \(non-empty table expected, got an empty table\)]])
  assert.raises(function() c:push(nil, "x") end, [[bad argument #1 'labels']])
  assert.raises(function() c:push({["a-b"] = "x"}, "x") end, "invalid label name a-b")
  assert.raises(function() c:push({a = {}}, "x") end, "label 'a': string expected, got table")
  assert.raises(function() c:push({a = "b"}, {}) end, [[bad argument #2 'lines' \(string or non-empty list expected, got an empty table\)]])
  assert.raises(function() c:push({a = "b"}, 42) end, [[bad argument #2 'lines']])
  assert.raises(function() c:push({a = "b"}, {{1, 2}}) end, [[item 1: a string, \{ts, line\}]])
  assert.raises(function() c:push({a = "b"}, {"ok", {"yesterday", "x"}}) end,
    [[loki\.push: bad argument #2 'lines' \(item 2: timestamp: seconds, nanoseconds as a string of digits or RFC 3339 expected, got "yesterday"\)]])
  assert.raises(function() c:push({a = "b"}, {{-1, "x"}}) end, [[loki\.push: bad argument #2 'lines' \(item 1: timestamp: a time in seconds since the epoch expected, got -1\)]])
  assert.raises(function() c:push({a = "b"}, {{1, "x", "meta"}}) end, "metadata must be a table")
  assert.eq(#fake.requests, 0, "nothing was sent")
end)
