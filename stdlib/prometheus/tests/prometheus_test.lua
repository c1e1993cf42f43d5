-- assay.prometheus against a real Prometheus (scripts/obs-servers: it scrapes itself and an
-- Alertmanager every second, and one rule always fires). A missing server fails every test.

local prometheus = require("assay.prometheus")

local URL = env.get("ASSAY_TEST_PROMETHEUS_URL")

local function client(opts)
  if not URL then
    error("ASSAY_TEST_PROMETHEUS_URL is not set: start the servers with "
      .. "`scripts/obs-servers start DIR` and source DIR/env", 0)
  end
  opts = opts or {}
  opts.url = opts.url or URL
  return prometheus.client(opts)
end

local function by_job(result)
  local jobs = {}
  for _, series in ipairs(result) do jobs[series.metric.job] = series end
  return jobs
end

test("an instant query gives a vector whose sample values are numbers", function()
  local r = client():query('up{job="prometheus"}')
  assert.eq(r.resultType, "vector")
  assert.eq(#r.result, 1)
  assert.eq(r.result[1].metric.__name__, "up")
  assert.eq(r.result[1].metric.job, "prometheus")
  assert.eq(math.type(r.result[1].value[2]), "integer")
  assert.eq(r.result[1].value[2], 1)
  assert.eq(type(r.result[1].value[1]), "number")
end)

test("the PromQL reaches the server intact: braces, quotes, =~, +, spaces, & and %", function()
  local c = client()
  -- label_replace copies its replacement into a label: what the server parsed comes back.
  local text = [[a+b {c=~"d.+"} e&f=g%20h #i]]
  local promql = ([[label_replace(vector(1), "echo", "%s", "", "")]]):format(text:gsub('"', '\\"'))
  local r = c:query(promql)
  assert.eq(r.resultType, "vector")
  assert.eq(r.result[1].metric.echo, text)
  -- A regex with + and | selects both jobs (a + read as a space would select none).
  local both = c:query([[up{job=~"prom.+|alert.+", instance =~ ".+"} + 0]])
  local jobs = by_job(both.result)
  assert.not_nil(jobs.prometheus)
  assert.not_nil(jobs.alertmanager)
end)

test("a scalar at a given time; NaN and infinities as numbers", function()
  local c = client()
  local r = c:query("1 + 2", {time = 1700000000})
  assert.eq(r, {resultType = "scalar", result = {1700000000, 3}})
  local r2 = c:query("1.5", {time = 1700000000.25, timeout = 10})
  assert.eq(r2.result, {1700000000.25, 1.5})
  assert.eq(c:query("scalar(vector(1)) / 0").result[2], math.huge)
  assert.eq(c:query("-1 / 0").result[2], -math.huge)
  local nan = c:query("0 / 0").result[2]
  assert.ne(nan, nan)
  -- RFC 3339 times pass as they are.
  assert.eq(c:query("time()", {time = "2023-11-14T22:13:20Z"}).result[2], 1700000000)
  -- A string result keeps its string.
  assert.eq(c:query('"hello"').result[2], "hello")
end)

test("a bad PromQL raises Prometheus' 400 with its parse error", function()
  local ok, err = pcall(client().query, client(), "sum(")
  assert.eq(ok, false)
  assert.contains(err, 'prometheus.query: POST /api/v1/query: 400 bad_data: invalid parameter "query": '
    .. "1:5: parse error: unclosed left parenthesis")
  assert.raises(function() client():query_range("up", {start = 10, stop = 5, step = 1}) end,
    [[prometheus\.query_range: POST /api/v1/query_range: 400 bad_data: .*end timestamp must not be before start time]])
end)

test("query_range gives a matrix of numbers", function()
  local now = time()
  local r = client():query_range('up{job="prometheus"}', {start = now - 5, stop = now, step = 1})
  assert.eq(r.resultType, "matrix")
  assert.eq(#r.result, 1)
  assert.ge(#r.result[1].values, 2)
  for _, pair in ipairs(r.result[1].values) do
    assert.eq(pair[2], 1)
    assert.le(pair[1], now + 1)
  end
  -- step as a duration string, times as RFC 3339.
  local r2 = client():query_range("vector(2)",
    {start = "2023-11-14T22:13:20Z", stop = "2023-11-14T22:14:20Z", step = "30s"})
  assert.eq(r2.result[1].values, {{1700000000, 2}, {1700000030, 2}, {1700000060, 2}})
  -- time strings are read by time.parse: a digit string is not a time, a fraction is kept.
  assert.raises(function() client():query_range("vector(2)", {start = "1700000000", stop = 1700000060, step = 30}) end,
    [[^\S+:\d+: prometheus\.query_range: bad argument #2 'opts\.start' \(epoch seconds or an RFC 3339 string expected, got '1700000000'\)]])
  assert.raises(function() client():query("1", {time = "yesterday"}) end,
    [[prometheus\.query: bad argument #2 'opts\.time' \(epoch seconds or an RFC 3339 string expected, got 'yesterday'\)]])
  assert.eq(client():query("time()", {time = "2023-11-14T22:13:20.5Z"}).result[2], 1700000000.5)
end)

test("query_scalar: a number, nil for no series, an error for several", function()
  local c = client()
  assert.eq(c:query_scalar('count(up{job=~"prometheus|alertmanager"})'), 2)
  assert.eq(c:query_scalar('up{job="prometheus"}'), 1)
  assert.eq(c:query_scalar("scalar(vector(4.5))"), 4.5)
  assert.is_nil(c:query_scalar('up{job="nope"}'))
  assert.raises(function() c:query_scalar('up{job=~"prometheus|alertmanager"}') end,
    [[prometheus\.query_scalar: up\{job=~"prometheus\|alertmanager"\} gave 2 series, expected at most one]])
  assert.raises(function() c:query_scalar("up[5s]") end, [[gave a matrix]])
end)

test("series, labels and label_values", function()
  local c = client()
  local series = c:series('up{job="prometheus"}', {start = time() - 60})
  assert.eq(#series, 1)
  assert.eq(series[1].job, "prometheus")
  assert.eq(#c:series({'up{job="prometheus"}', 'up{job="alertmanager"}'}), 2)
  assert.raises(function() c:series(nil) end, [[prometheus\.series: bad argument #1 'match']])

  local labels = c:labels()
  assert.contains(labels, "job")
  assert.contains(labels, "__name__")
  assert.eq(c:labels({match = 'up{job="prometheus"}'}), {"__name__", "instance", "job"})

  local jobs = c:label_values("job")
  assert.contains(jobs, "prometheus")
  assert.contains(jobs, "alertmanager")
  assert.eq(c:label_values("job", {match = {'up{job="alertmanager"}'}}), {"alertmanager"})
  assert.eq(c:label_values("no_such_label"), {})
end)

test("alerts and rules: the always-firing rule and the recording rule", function()
  local c = client()
  local alerts = c:alerts()
  local found
  for _, a in ipairs(alerts) do
    if a.labels.alertname == "AssayTestAlwaysFiring" then found = a end
  end
  assert.not_nil(found, "AssayTestAlwaysFiring among " .. json.encode(alerts))
  assert.eq(found.state, "firing")
  assert.eq(found.labels.severity, "none")

  local groups = c:rules()
  assert.eq(#groups, 1)
  assert.eq(groups[1].name, "assay-test")
  assert.eq(#groups[1].rules, 2)
  local alerting = c:rules({type = "alert"})[1].rules
  assert.eq(#alerting, 1)
  assert.eq(alerting[1].name, "AssayTestAlwaysFiring")
  assert.eq(alerting[1].state, "firing")
  local recording = c:rules({type = "record"})[1].rules
  assert.eq(recording[1].name, "assay:up:count")
  assert.eq(recording[1].health, "ok")
end)

test("targets, targets_metadata and metadata", function()
  local c = client()
  local t = c:targets()
  local jobs = {}
  for _, target in ipairs(t.activeTargets) do jobs[target.labels.job] = target.health end
  assert.eq(jobs.prometheus, "up")
  assert.eq(jobs.alertmanager, "up")
  assert.eq(t.droppedTargets, {})
  assert.eq(c:targets({state = "dropped"}).activeTargets, {})

  local meta = c:targets_metadata({metric = "prometheus_build_info", match_target = '{job="prometheus"}'})
  assert.eq(#meta, 1)
  assert.eq(meta[1].type, "gauge")
  assert.eq(meta[1].target.job, "prometheus")

  local m = c:metadata({metric = "prometheus_build_info"})
  assert.eq(m.prometheus_build_info[1].type, "gauge")
  assert.eq(c:metadata({metric = "no_such_metric"}), {})
end)

test("status: config, flags, buildinfo, runtimeinfo, tsdb", function()
  local c = client()
  assert.matches(c:status("config").yaml, [[job_name: alertmanager]])
  assert.eq(c:status("flags")["web.enable-lifecycle"], "true")
  assert.matches(c:status("buildinfo").version, [[^2\.]])
  assert.eq(type(c:status("runtimeinfo").storageRetention), "string")
  assert.gt(c:status("tsdb").headStats.numSeries, 0)
  assert.raises(function() c:status("nope") end,
    [[prometheus\.status: bad argument #1 'kind' \(config, flags, .* got 'nope'\)]])
end)

test("healthy, ready, wait_ready and reload", function()
  local c = client()
  assert.eq(c:healthy(), true)
  assert.eq(c:ready(), true)
  assert.eq(c:wait_ready({timeout = 5}), "Prometheus Server is Ready.")
  assert.eq(c:reload(), true)
  -- Still answering after the reload.
  assert.eq(c:query_scalar('count(up{job=~"prometheus|alertmanager"})'), 2)
end)

test("Prometheus scrapes an http.server exposing metrics; its series, labels, metadata", function()
  local c = client()
  local dir = env.get("ASSAY_TEST_PROMETHEUS_TARGETS")
  assert.not_nil(dir, "ASSAY_TEST_PROMETHEUS_TARGETS is not set (scripts/obs-servers start DIR)")
  local run = uuid.v4()
  local scrapes = 0
  local server = http.server({GET = {["/metrics"] = function()
    scrapes = scrapes + 1
    return {headers = {["content-type"] = "text/plain; version=0.0.4"}, body = table.concat({
      "# HELP assay_test_widgets_total Widgets made, by colour.",
      "# TYPE assay_test_widgets_total counter",
      'assay_test_widgets_total{color="blue"} 7',
      'assay_test_widgets_total{color="red \\"quoted\\""} 2.5',
      "# TYPE assay_test_temperature gauge",
      "assay_test_temperature NaN",
      "",
    }, "\n")}
  end}}, {host = "127.0.0.1", port = 0})
  local file = ("%s/%s.json"):format(dir, run)
  local ok, err = pcall(function()
    fs.write(file, json.encode({{targets = {"127.0.0.1:" .. server.port}, labels = {run = run}}}))
    local blue = ('assay_test_widgets_total{run="%s", color="blue"}'):format(run)
    local value
    for _ = 1, 150 do
      value = c:query_scalar(blue)
      if value then break end
      sleep(0.1)
    end
    assert.eq(value, 7, "the http.server's metric within 15 s")
    assert.gt(scrapes, 0)
    local red = c:query(('assay_test_widgets_total{run="%s", color=~"red.*"}'):format(run))
    assert.eq(red.result[1].metric.color, 'red "quoted"')
    assert.eq(red.result[1].value[2], 2.5)
    local temp = c:query_scalar(('assay_test_temperature{run="%s"}'):format(run))
    assert.ne(temp, temp)
    -- Its 3 series, and the 5 Prometheus adds per target: up, scrape_duration_seconds, ...
    assert.eq(#c:series(('{run="%s"}'):format(run)), 8)
    assert.eq(c:label_values("color", {match = ('{run="%s"}'):format(run)}), {"blue", 'red "quoted"'})
    local meta = c:targets_metadata({match_target = ('{run="%s"}'):format(run), metric = "assay_test_widgets_total"})
    assert.eq(#meta, 1)
    assert.eq({meta[1].type, meta[1].help}, {"counter", "Widgets made, by colour."})
    local found
    for _, t in ipairs(c:targets().activeTargets) do
      if t.labels.run == run then found = t end
    end
    assert.eq({found.labels.job, found.health}, {"assay", "up"})
  end)
  server:stop()
  fs.remove(file)
  if not ok then error(err, 0) end
end)

test("client options: unknown options, bad arguments", function()
  local c = client()
  assert.raises(function() prometheus.client({url = URL, tiemout = 5}) end,
    [[^\S+:\d+: prometheus\.client: bad argument #1 'opts' \(unknown option 'tiemout'; expected url, timeout, ca_cert, insecure, headers\)$]])
  assert.raises(function() prometheus.client({url = "localhost:9090"}) end,
    [[prometheus\.client: bad argument #1 'opts' \(url: an http:// or https:// URL expected, got 'localhost:9090'\)]])
  assert.raises(function() c:query(nil) end, [[^\S+:\d+: prometheus\.query: bad argument #1 'promql']])
  assert.raises(function() c:query("up", {tme = 1}) end,
    [[prometheus\.query: bad argument #2 'opts' \(unknown option 'tme'; expected time, timeout\)]])
  assert.raises(function() c:query("up", {time = true}) end, [[bad argument #2 'opts\.time']])
  assert.raises(function() c:query_range("up", {start = 1, stop = 2}) end, [[bad argument #2 'opts\.step']])
  assert.raises(function() c:query_range("up", 1, 2, 3) end, [[bad argument #2 'opts' \(table or nil expected, got number\)]])
  assert.raises(function() c:labels({stop = {}}) end, [[prometheus\.labels: bad argument #1 'opts\.stop']])
  -- headers and timeout reach the http client.
  local h = client({headers = {["x-scope-orgid"] = "t1"}, timeout = 5})
  assert.eq(h:query_scalar("1"), 1)
end)

test("network failures keep the http client's message, wait_ready reports the last state", function()
  local c = prometheus.client({url = "http://127.0.0.1:1", timeout = 2})
  -- No position: the error of a call, not of the caller's line.
  assert.raises(function() c:query("up") end,
    [[^prometheus\.query: http\.Client:request: cannot connect to 127\.0\.0\.1:1: connection refused$]])
  assert.raises(function() c:healthy() end, [[^prometheus\.healthy: http\.Client:request: cannot connect]])
  local t0 = time.monotonic()
  assert.raises(function() c:wait_ready({timeout = 0.5, interval = 0.1}) end,
    [[^prometheus\.wait_ready: http://127\.0\.0\.1:1 not ready after 0\.5s: http\.Client:request: cannot connect]])
  assert.lt(time.monotonic() - t0, 3)
  -- Its options are checked.
  assert.raises(function() c:wait_ready({timeout = "1m"}) end,
    [[^\S+:\d+: prometheus\.wait_ready: bad argument #1 'opts\.timeout' \(non-negative seconds expected, got '1m'\)]])
  assert.raises(function() c:wait_ready({interval = 0}) end, [[bad argument #1 'opts\.interval']])
  assert.raises(function() c:wait_ready({timeuot = 1}) end, [[unknown option 'timeuot']])
end)

test("wait_ready bounds each poll by the time left (a server that never answers)", function()
  local server = http.server({GET = {["/-/ready"] = function()
    sleep(3)
    return {status = 200, body = "late"}
  end}}, {host = "127.0.0.1", port = 0})
  local c = prometheus.client({url = "http://127.0.0.1:" .. server.port})
  local t0 = time.monotonic()
  local ok, err = pcall(c.wait_ready, c, {timeout = 0.5, interval = 0.1})
  local took = time.monotonic() - t0
  server:stop()
  assert.eq(ok, false)
  assert.matches(err, [[^prometheus\.wait_ready: http://127\.0\.0\.1:\d+ not ready after 0\.5s: ]])
  assert.lt(took, 1.5)
end)

-- An authenticating proxy in front of Prometheus answers 401/403 with its own text, not JSON.
test("an auth proxy's 401 and 403 in plain text", function()
  local seen = {}
  local server = http.server({
    POST = {["/api/v1/query"] = function(req)
      seen[#seen + 1] = req.headers.authorization or "none"
      return {status = 401, headers = {["www-authenticate"] = 'Basic realm="prom"'},
        body = "401 Unauthorized\n"}
    end},
    GET = {["/api/v1/alerts"] = function(req)
      seen[#seen + 1] = req.headers.authorization or "none"
      return {status = 403, body = "<html><body>Forbidden</body></html>"}
    end},
  }, {host = "127.0.0.1", port = 0})
  local c = prometheus.client({url = "http://alice:hunter2@127.0.0.1:" .. server.port})
  local ok, err = pcall(c.query, c, "up")
  local ok2, err2 = pcall(c.alerts, c)
  server:stop()
  assert.eq({ok, err}, {false, "prometheus.query: POST /api/v1/query: 401 401 Unauthorized"})
  assert.eq({ok2, err2}, {false, "prometheus.alerts: GET /api/v1/alerts: 403 <html><body>Forbidden</body></html>"})
  -- The URL's credentials went as basic authorization.
  assert.eq(seen, {"Basic YWxpY2U6aHVudGVyMg==", "Basic YWxpY2U6aHVudGVyMg=="})
end)

-- What the real server cannot show here: a proxy refusing POST (client_golang falls back to
-- GET) and a Prometheus without --web.enable-lifecycle. The fake checks every request.
test("POST refused with 405: the query is sent again as a GET; reload's 403", function()
  local seen = {}
  local server = http.server({
    POST = {
      ["/api/v1/query"] = function(req)
        seen[#seen + 1] = "POST " .. req.path
        assert.eq(req.headers["content-type"], "application/x-www-form-urlencoded")
        assert.eq(url.query_decode(req.body), {query = 'up{job=~"a+"}', time = "12.500"})
        return {status = 405, body = "Method Not Allowed"}
      end,
      ["/-/reload"] = function(req)
        seen[#seen + 1] = "POST " .. req.path
        return {status = 403, body = "Lifecycle API is not enabled.\n"}
      end,
    },
    GET = {
      ["/api/v1/query"] = function(req)
        seen[#seen + 1] = "GET " .. req.path
        assert.eq(req.query, {query = 'up{job=~"a+"}', time = "12.500"})
        return {json = {status = "success", warnings = {"w1"},
          data = {resultType = "vector", result = {{metric = {job = "a"}, value = {12.5, "+Inf"}}}}}}
      end,
    },
  }, {host = "127.0.0.1", port = 0})
  local c = prometheus.client({url = "http://127.0.0.1:" .. server.port})
  local ok, r = pcall(c.query, c, 'up{job=~"a+"}', {time = 12.5})
  local ok2, err = pcall(c.reload, c)
  server:stop()
  assert.eq(ok, true, r)
  assert.eq(r.result[1].value, {12.5, math.huge})
  assert.eq(r.warnings, {"w1"})
  assert.eq(ok2, false)
  assert.contains(err, "prometheus.reload: POST /-/reload: 403 Lifecycle API is not enabled.")
  assert.eq(seen, {"POST /api/v1/query", "GET /api/v1/query", "POST /-/reload"})
end)

test("a password in the URL is never in a message", function()
  local c = prometheus.client({url = "http://admin:s3cret@127.0.0.1:1", timeout = 1})
  local ok, err = pcall(c.wait_ready, c, {timeout = 0.2, interval = 0.1})
  assert.eq(ok, false)
  assert.contains(err, "http://127.0.0.1:1 not ready")
  assert.eq(err:find("s3cret", 1, true), nil)
  local ok2, err2 = pcall(c.query, c, "up")
  assert.eq(ok2, false)
  assert.eq(err2:find("s3cret", 1, true), nil, err2)
  -- client.url (and so tostring of it) holds no credentials.
  assert.eq(c.url, "http://127.0.0.1:1")
  -- A malformed URL is shown with its password masked.
  local ok3, err3 = pcall(prometheus.client, {url = "admin:s3cret@host:9090"})
  assert.eq(ok3, false)
  assert.contains(err3, "got 'admin:***@host:9090'")
  assert.eq(err3:find("s3cret", 1, true), nil, err3)
end)

-- Behind a reverse proxy under a path (https://host/prometheus): the prefix stays.
test("a path prefix in the URL is kept", function()
  local seen
  local server = http.server({POST = {["/prom/api/v1/query"] = function(req)
    seen = req.path
    return {json = {status = "success", data = {resultType = "scalar", result = {1, "5"}}}}
  end}}, {host = "127.0.0.1", port = 0})
  local c = prometheus.client({url = "http://127.0.0.1:" .. server.port .. "/prom/"})
  local ok, v = pcall(c.query_scalar, c, "x")
  server:stop()
  assert.eq({ok, v, seen}, {true, 5, "/prom/api/v1/query"})
end)
