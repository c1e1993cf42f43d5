-- Queries against the fake Loki: parameters as Loki reads them, results without the envelope.
local loki = require("assay.loki")
local here = arg[0]:match("^(.*)/") or "."
local fake = dofile(here .. "/fake_loki.lua").start{tenant = "t1"}
local c = loki.client{url = fake.url, tenant = "t1"}

local NOW = math.floor(time())

local function seed()
  c:push({app = "web", env = "prod"}, {{NOW - 50, "level=info msg=started"}, {NOW - 40, "level=error msg=boom"},
    {NOW - 30, "level=info msg=ok"}})
  c:push({app = "web", env = "dev"}, {{NOW - 45, "level=error msg=dev boom"}})
  c:push({app = "db", env = "prod"}, {{NOW - 35, "checkpoint"}})
  fake.requests = {}
end

before_each(seed)
after_each(function()
  local seen = fake.violations
  fake:reset()
  assert.eq(seen, {}, "requests the real Loki API would not take")
end)

local function last_query()
  local req = fake:last()
  assert.eq(req.method, "GET")
  return req.query, req.path
end

describe("query_range", function()
  test("log query: streams, parameters in Loki's forms", function()
    local r = c:query_range('{app="web"} |= "error"', {start = NOW - 3600, stop = NOW + 1,
      limit = 10, direction = "forward"})
    local q, path = last_query()
    assert.eq(path, "/loki/api/v1/query_range")
    assert.eq(q, {query = '{app="web"} |= "error"', start = ("%d000000000"):format(NOW - 3600),
      ["end"] = ("%d000000000"):format(NOW + 1), limit = "10", direction = "forward"})
    assert.eq(r.resultType, "streams")
    assert.eq(#r.result, 2)
    local lines = {}
    for _, s in ipairs(r.result) do for _, v in ipairs(s.values) do lines[#lines + 1] = v[2] end end
    table.sort(lines)
    assert.eq(lines, {"level=error msg=boom", "level=error msg=dev boom"})
    assert.not_nil(r.stats)
  end)

  test("start and stop as RFC 3339 become nanoseconds (stop is Loki's end)", function()
    c:query_range('{app="web"}', {start = "2023-11-14T22:13:20Z", stop = "2023-11-14T23:13:20.5+01:00"})
    local q = last_query()
    assert.eq(q.start, "1700000000000000000")
    assert.eq(q["end"], "1700000000500000000")
  end)

  test("since, step and interval: durations and seconds", function()
    c:query_range('count_over_time({app="web"}[1m])', {since = 3600, step = 60, interval = "30s"})
    local q = last_query()
    assert.eq(q.since, "3600s")
    assert.eq(q.step, "60")
    assert.eq(q.interval, "30s")
    c:query_range('{app="web"}', {since = "15m", step = 0.5})
    q = last_query()
    assert.eq(q.since, "15m")
    assert.eq(q.step, "0.5")
    c:query_range('{app="web"}', {since = 1.5})
    assert.eq(last_query().since, "1500ms")
  end)

  test("metric query: a matrix with numeric sample values", function()
    local r = c:query_range('count_over_time({env="prod"}[1h])', {start = NOW - 10, stop = NOW, step = 5})
    assert.eq(r.resultType, "matrix")
    assert.eq(#r.result, 2)
    local by = {}
    for _, s in ipairs(r.result) do by[s.metric.app] = s end
    assert.eq(by.web.values[1][2], 3)
    assert.eq(by.db.values[1][2], 1)
    assert.eq(math.type(by.web.values[1][2]) ~= nil, true)
    assert.eq(#by.web.values, 3)
  end)

  test("the default is backward with Loki's limit of 100", function()
    local r = c:query_range('{app="web", env="prod"}')
    local q = last_query()
    assert.eq(q, {query = '{app="web", env="prod"}'})
    assert.eq(r.result[1].values[1][2], "level=info msg=ok")
  end)

  test("a selector built with loki.selector", function()
    local r = c:query_range(loki.selector{app = "web", env = {"!=", "dev"}})
    assert.eq(#r.result, 1)
    assert.eq(r.result[1].stream.env, "prod")
  end)

  test("bad options raise naming them before any request", function()
    assert.raises(function() c:query_range('{a="b"}', {from = 1}) end,
      [[loki\.query_range: bad argument #2 'opts' \(unknown option 'from'; expected start, stop, since, step, interval, limit, direction\)]])
    assert.raises(function() c:query_range('{a="b"}', {["end"] = 1}) end, "unknown option 'end'; expected start, stop")
    assert.raises(function() c:query_range('{a="b"}', {stop = "tomorrow"}) end,
      [[loki\.query_range: bad argument #2 'opts' \(field 'stop': seconds, nanoseconds as a string of digits or RFC 3339 expected, got "tomorrow"\)]])
    assert.raises(function() c:query_range('{a="b"}', {direction = "up"}) end,
      [[bad argument #2 'opts' \(field 'direction': "forward" or "backward" expected, got up\)]])
    assert.raises(function() c:query_range('{a="b"}', {limit = 0}) end, [[bad argument #2 'opts' \(field 'limit': positive integer expected, got 0\)]])
    assert.raises(function() c:query_range('{a="b"}', {limit = 1.5}) end, "field 'limit'")
    assert.raises(function() c:query_range('{a="b"}', {start = "last tuesday"}) end, "field 'start'")
    assert.raises(function() c:query_range('{a="b"}', {since = "soon"}) end,
      [[bad argument #2 'opts' \(field 'since': seconds or a duration such as "1h" expected, got "soon"\)]])
    assert.raises(function() c:query_range('{a="b"}', {step = 0}) end, [[bad argument #2 'opts' \(field 'step': positive seconds expected, got 0\)]])
    assert.raises(function() c:labels{query = 3} end, [[loki\.labels: bad argument #1 'opts' \(field 'query': string expected, got number\)]])
    assert.raises(function() c:query('{a="b"}', {time = true}) end,
      [[loki\.query: bad argument #2 'opts' \(field 'time': number or string expected, got boolean\)]])
    assert.raises(function() c:query_range("") end, [[bad argument #1 'logql' \(non-empty string expected, got an empty string\)]])
    assert.raises(function() c:query_range(nil) end, [[bad argument #1 'logql']])
    assert.eq(#fake.requests, 0)
  end)
end)

describe("query", function()
  test("instant metric query: a vector with numbers, time in nanoseconds", function()
    local r = c:query('count_over_time({app="web"}[5m])', {time = NOW, limit = 5, direction = "backward"})
    local q, path = last_query()
    assert.eq(path, "/loki/api/v1/query")
    assert.eq(q, {query = 'count_over_time({app="web"}[5m])', time = ("%d000000000"):format(NOW),
      limit = "5", direction = "backward"})
    assert.eq(r.resultType, "vector")
    local by = {}
    for _, s in ipairs(r.result) do by[s.metric.env] = s.value end
    assert.eq(by.prod[2], 3)
    assert.eq(by.dev[2], 1)
    assert.eq(by.prod[1], NOW)
  end)

  test("rate gives fractional numbers", function()
    local r = c:query('rate({app="db"}[1m])', {time = NOW})
    assert.eq(r.result[1].value[2], 1 / 60)
  end)

  test("no time: Loki's now", function()
    c:query('count_over_time({app="web"}[5m])')
    assert.eq(last_query(), {query = 'count_over_time({app="web"}[5m])'})
  end)

  test("a bad option raises", function()
    assert.raises(function() c:query('{a="b"}', {start = 1}) end, "unknown option 'start'; expected time, limit, direction")
  end)
end)

describe("labels, label_values, series", function()
  test("labels: the names, without the envelope", function()
    assert.eq(c:labels(), {"app", "env"})
    assert.eq(fake:last().path, "/loki/api/v1/labels")
    assert.eq(fake:last().query, {})
    assert.eq(c:labels{since = "1h", query = '{app="db"}'}, {"app", "env"})
    assert.eq(fake:last().query, {since = "1h", query = '{app="db"}'})
    c:labels{start = NOW - 60, stop = NOW}
    assert.eq(fake:last().query, {start = ("%d000000000"):format(NOW - 60), ["end"] = ("%d000000000"):format(NOW)})
  end)

  test("label_values: one label's values", function()
    assert.eq(c:label_values("app"), {"db", "web"})
    assert.eq(fake:last().path, "/loki/api/v1/label/app/values")
    assert.eq(c:label_values("env", {query = '{app="web"}', since = 600}), {"dev", "prod"})
    assert.eq(fake:last().query, {query = '{app="web"}', since = "600s"})
    assert.eq(#c:label_values("nothing"), 0)
  end)

  test("series: match[] repeated, label sets back", function()
    local s = c:series('{app="db"}')
    assert.eq(s, {{app = "db", env = "prod"}})
    assert.eq(fake:last().path, "/loki/api/v1/series")
    assert.eq(fake:last().query, {["match[]"] = '{app="db"}'})
    s = c:series({'{app="db"}', '{env="dev"}'}, {since = "1h"})
    assert.eq(#s, 2)
    assert.eq(fake:last().query, {["match[]"] = {'{app="db"}', '{env="dev"}'}, since = "1h"})
    c:series('{app="db"}', {start = NOW - 60, stop = NOW})
    assert.eq(fake:last().query, {["match[]"] = '{app="db"}', start = ("%d000000000"):format(NOW - 60),
      ["end"] = ("%d000000000"):format(NOW)})
    c:label_values("app", {stop = "1700000000000000001"})
    assert.eq(fake:last().query, {["end"] = "1700000000000000001"})
  end)

  test("bad arguments raise", function()
    assert.raises(function() c:series({}) end, [[loki\.series: bad argument #1 'match']])
    assert.raises(function() c:series({'{a="b"}', 3}) end, "item 2")
    assert.raises(function() c:label_values("") end, [[loki\.label_values: bad argument #1 'name']])
    assert.raises(function() c:labels{match = "x"} end, "unknown option 'match'")
    assert.raises(function() c:series('{a="b"}', {query = "x"}) end, "unknown option 'query'")
    assert.raises(function() c:labels{["end"] = 1} end, "unknown option 'end'; expected start, stop, since, query")
    assert.raises(function() c:label_values("app", {["end"] = 1}) end, "unknown option 'end'")
    assert.raises(function() c:series('{a="b"}', {["end"] = 1}) end, "unknown option 'end'; expected start, stop, since")
  end)
end)

describe("ready", function()
  test("true and Loki's text when ready", function()
    local ok, text = c:ready()
    assert.eq(ok, true)
    assert.eq(text, "ready")
    assert.eq(fake:last().path, "/ready")
  end)

  test("false and the reason on 503", function()
    fake.not_ready = true
    local ok, text = c:ready()
    assert.eq(ok, false)
    assert.eq(text, "Ingester not ready: waiting for 15s after being ready")
  end)
end)

describe("wait_ready", function()
  test("returns once Loki turns ready", function()
    fake.not_ready = true
    local flip = async.spawn(function() sleep(0.3); fake.not_ready = false end)
    local t0 = time.monotonic()
    assert.eq(c:wait_ready{timeout = 5, interval = 0.1}, "ready")
    assert.ge(time.monotonic() - t0, 0.25)
    flip:await()
  end)

  test("times out with the last state in the message", function()
    fake.not_ready = true
    local t0 = time.monotonic()
    assert.raises(function() c:wait_ready{timeout = 0.5, interval = 0.1} end,
      [[^loki\.wait_ready: http://127\.0\.0\.1:\d+ not ready after 0\.5s: Ingester not ready: waiting for 15s after being ready$]])
    assert.lt(time.monotonic() - t0, 2)
  end)

  test("an unreachable Loki: the connection error is the last state", function()
    local dead = loki.client{url = "http://127.0.0.1:1", timeout = 1}
    assert.raises(function() dead:wait_ready{timeout = 0.3, interval = 0.1} end,
      [[^loki\.wait_ready: http://127\.0\.0\.1:1 not ready after 0\.3s: http\.Client:request: cannot connect]])
  end)

  test("each poll is bounded by the time left: a Loki that never answers", function()
    local silent = http.server({GET = {["/ready"] = function() sleep(10); return "ready" end}},
      {host = "127.0.0.1", port = 0})
    local s = loki.client{url = "http://127.0.0.1:" .. silent.port}   -- the client's timeout: 60 s
    local t0 = time.monotonic()
    assert.raises(function() s:wait_ready{timeout = 0.5, interval = 0.1} end,
      [[^loki\.wait_ready: http://127\.0\.0\.1:\d+ not ready after 0\.5s: http\.Client:request: timed out after 0\.]])
    assert.lt(time.monotonic() - t0, 1.5)
    -- a shorter client timeout still bounds each poll
    local short = loki.client{url = "http://127.0.0.1:" .. silent.port, timeout = 0.2}
    assert.raises(function() short:wait_ready{timeout = 0.5, interval = 0.1} end, [[timed out after 0\.(2|[01]\d*)s]])
    silent:stop()
  end)

  test("bad options raise", function()
    assert.raises(function() c:wait_ready{timeout = "1m"} end,
      [[^.*query_test\.lua:\d+: loki\.wait_ready: bad argument #1 'opts' \(field 'timeout': non-negative number of seconds expected, got string\)$]])
    assert.raises(function() c:wait_ready{timeout = -1} end, "field 'timeout': non-negative number of seconds expected, got -1")
    assert.raises(function() c:wait_ready{timeout = math.huge} end, "field 'timeout'")
    assert.raises(function() c:wait_ready{timeout = 0 / 0} end, "field 'timeout'")
    assert.raises(function() c:wait_ready{interval = 0} end,
      [[loki\.wait_ready: bad argument #1 'opts' \(field 'interval': positive number of seconds expected, got 0\)]])
    assert.raises(function() c:wait_ready{interval = "1s"} end, "field 'interval'")
    assert.raises(function() c:wait_ready{every = 1} end, "unknown option 'every'; expected timeout, interval")
  end)
end)

test("argument errors name the argument's position and point at the caller", function()
  local ok, err = pcall(function() c:label_values("app", {bogus = 1}) end)
  assert.eq(ok, false)
  assert.matches(err, [[query_test\.lua:\d+: loki\.label_values: bad argument #2 'opts' \(unknown option 'bogus']])
  assert.raises(function() c:labels{bogus = 1} end, [[loki\.labels: bad argument #1 'opts']])
  assert.raises(function() c:series('{a="b"}', {bogus = 1}) end, [[loki\.series: bad argument #2 'opts']])
end)
