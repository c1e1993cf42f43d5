-- assay.healthcheck against an http.server started by each test (and stopped, whatever
-- happens, before the test ends).

local healthcheck = require("assay.healthcheck")

local HEALTH = {
  status = "up", replicas = 3, ready = true, version = "v1.4.2",
  items = {{name = "db", ok = true}, {name = "cache", ok = false}},
  labels = {["app.kubernetes.io/name"] = "web"},
}

-- Runs fn(base_url, hits) with a server up; stops it afterwards and re-raises fn's error.
local function with_server(fn)
  local hits = {flaky = 0}
  local server = http.server({
    GET = {
      ["/health"] = function() return {json = HEALTH} end,
      ["/text"] = function()
        return {status = 200, headers = {["x-version"] = "1.2", ["content-type"] = "text/plain"},
          body = "all systems go, build 42"}
      end,
      ["/down"] = function() return {status = 503, body = "database unreachable"} end,
      ["/slow"] = function() sleep(0.3) return "ok" end,
      ["/hang"] = function() sleep(3) return "late" end,
      ["/flaky"] = function()
        hits.flaky = hits.flaky + 1
        if hits.flaky < 3 then return {status = 503, body = "starting"} end
        return {json = {status = "up"}}
      end,
      ["/notjson"] = function() return "<html>hi</html>" end,
      ["/headers"] = function(req) return {json = {auth = req.headers["authorization"], x = req.headers["x-probe"]}} end,
    },
    POST = {
      ["/echo"] = function(req) return {json = {method = req.method, body = req:json()}} end,
    },
  }, {host = "127.0.0.1", port = 0})
  local ok, err = pcall(fn, "http://127.0.0.1:" .. server.port, hits)
  server:stop()
  if not ok then error(err, 0) end
end

test("status: the default (200-399), numbers, lists, 2xx and ranges", function()
  with_server(function(base)
    local r = healthcheck.http(base .. "/health"):run()
    assert.eq(r.ok, true)
    assert.eq(r.name, base .. "/health")
    assert.eq(r.status, 200)
    assert.eq(r.failures, {})
    assert.is_nil(r.message)
    assert.gt(r.latency_ms, 0)
    assert.eq(healthcheck.http({url = base .. "/down", expect = {status = 503}}):run().ok, true)
    assert.eq(healthcheck.http({url = base .. "/down", expect = {status = {200, 503}}}):run().ok, true)
    assert.eq(healthcheck.http({url = base .. "/down", expect = {status = "5xx"}}):run().ok, true)
    assert.eq(healthcheck.http({url = base .. "/down", expect = {status = "500-599"}}):run().ok, true)
    local down = healthcheck.http({url = base .. "/down", name = "db"}):run()
    assert.eq(down.ok, false)
    assert.eq(down.name, "db")
    assert.eq(down.status, 503)
    assert.eq(down.message, "status 503, expected 200-399: database unreachable")
    local r2 = healthcheck.http({url = base .. "/health", expect = {status = {"2xx", 304}}}):run()
    assert.eq(r2.ok, true)
    local r3 = healthcheck.http({url = base .. "/health", expect = {status = 204}}):run()
    assert.eq(r3.message, 'status 200, expected 204: ' .. r3.body)
  end)
end)

test("body substring and pattern, headers", function()
  with_server(function(base)
    local ok = healthcheck.http({url = base .. "/text", expect = {
      body_contains = {"systems go", "build"}, body_matches = [[build \d+$]],
      headers = {["X-Version"] = "1.2"},
    }}):run()
    assert.eq(ok.ok, true, ok.message)
    assert.eq(ok.body, "all systems go, build 42")
    local bad = healthcheck.http({url = base .. "/text", expect = {
      body_contains = "healthy", body_matches = [[^ok$]], headers = {["x-version"] = "2.0", ["x-missing"] = "1"},
    }}):run()
    assert.eq(bad.ok, false)
    table.sort(bad.failures)
    assert.eq(bad.failures, {
      "header x-missing is absent, expected '1'",
      "header x-version is '1.2', expected '2.0'",
      "the body does not contain 'healthy': all systems go, build 42",
      "the body does not match /^ok$/: all systems go, build 42",
    })
  end)
end)

test("JSON path values: equality, comparisons, exists, matches, indexes and quoted names", function()
  with_server(function(base)
    local r = healthcheck.http({url = base .. "/health", expect = {json = {
      ["$.status"] = "up",
      ["$.replicas"] = {[">="] = 2},
      ["$.ready"] = true,
      ["$.version"] = {matches = [[^v1\.\d+]]},
      ["$.items[0].name"] = "db",
      ["$.items[-1].ok"] = false,
      ["$.items[1]"] = {name = "cache", ok = false},
      ["$.labels['app.kubernetes.io/name']"] = "web",
      ["$.nope"] = {exists = false},
      ["$.items"] = {exists = true},
      ["$.status"] = {["!="] = "down"},
    }}}):run()
    assert.eq(r.ok, true, r.message)
    assert.eq(r.json.replicas, 3)

    local bad = healthcheck.http({url = base .. "/health", expect = {json = {
      ["$.status"] = "down",
      ["$.replicas"] = {[">"] = 5},
      ["$.items[5].name"] = "x",
      ["$.version"] = {matches = "^v2"},
      ["$.ready"] = {exists = false},
    }}}):run()
    assert.eq(bad.ok, false)
    assert.eq(bad.failures, {
      "$.items[5].name is absent, expected \"x\"",
      "$.ready is true, expected absent",
      "$.replicas is 3, expected > 5",
      "$.status is \"up\", expected \"down\"",
      "$.version is \"v1.4.2\", expected a match of /^v2/",
    })
    assert.eq(bad.message, "$.items[5].name is absent, expected \"x\"")

    local notjson = healthcheck.http({url = base .. "/notjson", expect = {json = {["$.a"] = 1}}}):run()
    assert.eq(notjson.message, "the body is not JSON: <html>hi</html>")
  end)
end)

test("latency, request method, body, headers and auth", function()
  with_server(function(base)
    local slow = healthcheck.http({url = base .. "/slow", expect = {latency_ms = 100}}):run()
    assert.eq(slow.ok, false)
    assert.matches(slow.message, [[^latency \d+ ms, expected at most 100 ms$]])
    assert.ge(slow.latency_ms, 300)
    assert.eq(healthcheck.http({url = base .. "/slow", expect = {latency_ms = 2000}}):run().ok, true)

    local post = healthcheck.http({url = base .. "/echo", method = "post", body = {ping = 1},
      expect = {json = {["$.method"] = "POST", ["$.body.ping"] = 1}}}):run()
    assert.eq(post.ok, true, post.message)
    local h = healthcheck.http({url = base .. "/headers", headers = {["x-probe"] = "p"},
      auth = {bearer = "tok"}, expect = {json = {["$.auth"] = "Bearer tok", ["$.x"] = "p"}}}):run()
    assert.eq(h.ok, true, h.message)
  end)
end)

test("a refused connection or a timeout is a failed check, not an error", function()
  local refused = healthcheck.http({url = "http://127.0.0.1:1/health", name = "gone"}):run()
  assert.eq(refused.ok, false)
  assert.matches(refused.message, [[^cannot connect to 127\.0\.0\.1:1]])
  with_server(function(base)
    local timed_out = healthcheck.http({url = base .. "/slow", timeout = 0.1}):run()
    assert.eq(timed_out.ok, false)
    assert.matches(timed_out.message, [[(?i)timed? ?out]])
    assert.is_nil(timed_out.status)
  end)
end)

test("a password in the URL is not in the check's name", function()
  local r = healthcheck.http("http://probe:s3cret@127.0.0.1:1/health"):run()
  assert.eq(r.name, "http://probe:***@127.0.0.1:1/health")
  assert.eq(r.message:find("s3cret", 1, true), nil, r.message)
end)

test("custom checks from functions", function()
  assert.eq(healthcheck.check("yes", function() return true end):run().ok, true)
  local no = healthcheck.check("no", function() return false, "queue is 900 deep" end):run()
  assert.eq({no.ok, no.name, no.message}, {false, "no", "queue is 900 deep"})
  local raised = healthcheck.check("boom", function() error("disk full", 0) end):run()
  assert.eq({raised.ok, raised.message}, {false, "disk full"})
  assert.eq(healthcheck.check("nil", function() end):run().message, "failed")
end)

test("all: concurrent runs, aggregated, in the order given or by name", function()
  with_server(function(base)
    local t0 = time.monotonic()
    local report = healthcheck.all({
      healthcheck.http({url = base .. "/slow", name = "slow 1"}),
      healthcheck.http({url = base .. "/slow", name = "slow 2"}),
      healthcheck.http({url = base .. "/slow", name = "slow 3"}),
      healthcheck.http({url = base .. "/down", name = "db"}),
      function() return false, "custom says no" end,
    })
    local took = time.monotonic() - t0
    assert.lt(took, 0.8, "three 0.3 s checks ran one after another")
    assert.eq(report.ok, false)
    assert.eq(report.passed, 3)
    assert.eq(report.failed, 2)
    local names = {}
    for i, r in ipairs(report.results) do names[i] = r.name end
    assert.eq(names, {"slow 1", "slow 2", "slow 3", "db", "check 5"})
    assert.eq(report.message, "db: status 503, expected 200-399: database unreachable\ncheck 5: custom says no")

    local named = healthcheck.all({
      web = healthcheck.http(base .. "/health"),
      text = healthcheck.http({url = base .. "/text", expect = {body_contains = "go"}}),
    })
    assert.eq(named.ok, true)
    assert.is_nil(named.message)
    assert.eq({named.results[1].name, named.results[2].name}, {"text", "web"})
  end)
end)

test("wait: polls until healthy, raises with the last failure after its timeout", function()
  with_server(function(base, hits)
    local r = healthcheck.wait(healthcheck.http({url = base .. "/flaky", name = "api",
      expect = {json = {["$.status"] = "up"}}}), {timeout = 5, interval = 0.05})
    assert.eq(r.ok, true)
    assert.eq(hits.flaky, 3)

    local t0 = time.monotonic()
    assert.raises(function()
      healthcheck.wait(healthcheck.http({url = base .. "/down", name = "db"}), {timeout = 0.3, interval = 0.05})
    end, [[^healthcheck\.wait: db not healthy after 0\.3s: status 503, expected 200-399: database unreachable$]])
    assert.lt(time.monotonic() - t0, 2)

    -- A list waits for all of them; a function is a check too.
    local calls = 0
    local report = healthcheck.wait({healthcheck.http(base .. "/health"), function()
      calls = calls + 1
      return calls >= 2, "not yet"
    end}, {timeout = 5, interval = 0.05})
    assert.eq(report.ok, true)
    assert.eq(report.passed, 2)
    assert.raises(function()
      healthcheck.wait({up = healthcheck.http(base .. "/health"), down = healthcheck.http(base .. "/down")},
        {timeout = 0.1, interval = 0.05})
    end, [[healthcheck\.wait: down, up not healthy after 0\.1s: down: status 503]])
  end)
end)

test("wait bounds each run's request by the time left (a server that hangs)", function()
  with_server(function(base)
    local t0 = time.monotonic()
    local ok, err = pcall(healthcheck.wait, healthcheck.http({url = base .. "/hang", name = "hang"}),
      {timeout = 0.5, interval = 0.1})
    local took = time.monotonic() - t0
    assert.eq(ok, false)
    assert.matches(err, [[^healthcheck\.wait: hang not healthy after 0\.5s: ]])
    assert.lt(took, 1.5)
    -- A list of checks too.
    local t1 = time.monotonic()
    assert.raises(function()
      healthcheck.wait({healthcheck.http(base .. "/hang")}, {timeout = 0.3, interval = 0.1})
    end, [[^healthcheck\.wait: ]])
    assert.lt(time.monotonic() - t1, 1.5)
  end)
end)

test("bad arguments raise naming them", function()
  assert.raises(function() healthcheck.http("localhost/health") end,
    [[^\S+:\d+: healthcheck\.http: bad argument #1 'opts\.url' \(an http:// or https:// URL expected, got 'localhost/health'\)$]])
  assert.raises(function() healthcheck.http("u:hunter2@localhost/health") end, [[got 'u:\*\*\*@localhost/health']])
  assert.raises(function() healthcheck.http({url = "http://x", expct = {}}) end,
    [[^\S+:\d+: healthcheck\.http: bad argument #1 'opts' \(unknown option 'expct'; expected auth, body, ]])
  assert.raises(function() healthcheck.http({url = "http://x", expect = {stauts = 200}}) end,
    [[healthcheck\.http: bad argument #1 'opts\.expect' \(unknown option 'stauts'; expected ]])
  assert.raises(function() healthcheck.http({url = "http://x", expect = {status = "2XX"}}) end,
    [[bad argument #1 'opts\.expect\.status']])
  assert.raises(function() healthcheck.http({url = "http://x", expect = {json = {status = "up"}}}) end,
    [['status' is not a JSON path: it must start with '\$']])
  assert.raises(function() healthcheck.http({url = "http://x", expect = {json = {["$.a["] = 1}}}) end,
    [[is not a JSON path: a '\[' without its '\]']])
  assert.raises(function() healthcheck.http({url = "http://x", expect = {body_matches = "("}}) end,
    [[bad argument #1 'opts\.expect\.body_matches']])
  assert.raises(function() healthcheck.http({url = "http://x", expect = {latency_ms = -1}}) end,
    [[bad argument #1 'opts\.expect\.latency_ms']])
  assert.raises(function() healthcheck.all({}) end, [[healthcheck\.all: bad argument #1 'checks']])
  assert.raises(function() healthcheck.all({1}) end, [[healthcheck\.all: bad argument #1 'checks\[1\]']])
  assert.raises(function() healthcheck.wait(function() return true end, {timout = 1}) end,
    [[healthcheck\.wait: bad argument #2 'opts' \(unknown option 'timout'; expected interval, timeout\)]])
  assert.raises(function() healthcheck.wait(function() return true end, {timeout = "1m"}) end,
    [[^\S+:\d+: healthcheck\.wait: bad argument #2 'opts\.timeout' \(non-negative seconds expected, got '1m'\)]])
  assert.raises(function() healthcheck.check("x") end, [[healthcheck\.check: bad argument #2 'fn']])
end)
