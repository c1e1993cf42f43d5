-- assay.alertmanager against a real Alertmanager (scripts/obs-servers: two receivers,
-- "default" and "team-db" for team="db", and a Prometheus sending AssayTestAlwaysFiring).
-- A missing server fails every test. Each run labels its own alerts and silences with a
-- fresh `run` id, so runs against one server do not see each other.

local alertmanager = require("assay.alertmanager")

local URL = env.get("ASSAY_TEST_ALERTMANAGER_URL")
local RUN = uuid.v4()

local function client(opts)
  if not URL then
    error("ASSAY_TEST_ALERTMANAGER_URL is not set: start the servers with "
      .. "`scripts/obs-servers start DIR` and source DIR/env", 0)
  end
  opts = opts or {}
  opts.url = opts.url or URL
  return alertmanager.client(opts)
end

-- Polls fn until it returns a truthy value (5 s at most); returns it, or fails with `what`
-- and the last value seen.
local function eventually(what, fn)
  local last
  for _ = 1, 50 do
    local v, seen = fn()
    if v then return v end
    last = seen
    sleep(0.1)
  end
  error(what .. " within 5 s; last seen: " .. json.encode(last), 2)
end

test("status, receivers, health, reload", function()
  local c = client()
  local s = c:status()
  assert.eq(s.cluster.status, "disabled")
  assert.matches(s.config.original, [[team-db]])
  assert.matches(s.versionInfo.version, [[^0\.]])
  local names = {}
  for _, r in ipairs(c:receivers()) do names[#names + 1] = r.name end
  table.sort(names)
  assert.eq(names, {"default", "team-db"})
  assert.eq(c:healthy(), true)
  assert.eq(c:ready(), true)
  assert.eq(c:wait_ready({timeout = 5}), "OK")
  assert.eq(c:reload(), true)
end)

test("the alert Prometheus sends is listed, with Prometheus' external labels", function()
  local alerts = client():alerts({filter = {alertname = "AssayTestAlwaysFiring"}})
  assert.eq(#alerts, 1)
  assert.eq(alerts[1].labels.assay, "test")
  assert.eq(alerts[1].labels.severity, "none")
  assert.eq(alerts[1].receivers, {{name = "default"}})
  -- The same through a string matcher and a regex one.
  assert.eq(#client():alerts({filter = 'alertname="AssayTestAlwaysFiring"'}), 1)
  assert.eq(#client():alerts({filter = {'alertname=~"AssayTestAlw.+"', 'severity!="page"'}}), 1)
end)

test("post an alert, silence it, see it silenced, expire the silence", function()
  local c = client()
  local started = time() - 60
  assert.eq(c:alerts_post({
    labels = {alertname = "AssayTestPosted", run = RUN, team = "db", severity = "critical"},
    annotations = {summary = "posted by the alertmanager package's tests"},
    startsAt = started, endsAt = started + 660,
    generatorURL = "http://example.test/graph",
  }), true)
  local mine = {run = RUN}

  -- Active, routed to team-db by its team label.
  local alert = eventually("the posted alert active", function()
    local list = c:alerts({filter = mine})
    return #list == 1 and list[1].status.state == "active" and list[1], list
  end)
  assert.eq(alert.labels.alertname, "AssayTestPosted")
  assert.eq(alert.annotations.summary, "posted by the alertmanager package's tests")
  assert.eq(alert.receivers, {{name = "team-db"}})
  assert.eq(alert.generatorURL, "http://example.test/graph")
  assert.eq(alert.startsAt, time.iso(started, {precision = 3}))
  local groups = c:alert_groups({filter = mine})
  assert.eq(#groups, 1)
  assert.eq(groups[1].receiver.name, "team-db")
  assert.eq(groups[1].labels, {alertname = "AssayTestPosted"})
  assert.eq(#c:alert_groups({filter = mine, receiver = "^default$"}), 0)

  -- Silence it.
  local id = c:silence_create({matchers = {run = RUN, alertname = "AssayTestPosted"},
    comment = "assay test " .. RUN, duration = "10m"})
  assert.matches(id, [[^[0-9a-f-]{36}$]])
  local s = c:silence_get(id)
  assert.eq(s.id, id)
  assert.eq(s.status.state, "active")
  assert.eq(s.createdBy, "assay")
  assert.eq(s.comment, "assay test " .. RUN)
  assert.eq(s.matchers, {
    {name = "alertname", value = "AssayTestPosted", isRegex = false, isEqual = true},
    {name = "run", value = RUN, isRegex = false, isEqual = true},
  })
  -- endsAt is startsAt + 10 minutes. Alertmanager moves a startsAt already past (the
  -- milliseconds the request took) to its own now, so the span may be a little shorter.
  local span = time.parse(s.endsAt) - time.parse(s.startsAt)
  assert(span > 599 and span <= 600, ("endsAt - startsAt is %s s, not 600"):format(span))
  local listed = c:silences({filter = {run = RUN}})
  assert.eq(#listed, 1)
  assert.eq(listed[1].id, id)

  -- Silenced: suppressed, silencedBy the silence; gone when silenced ones are left out.
  alert = eventually("the alert silenced", function()
    local list = c:alerts({filter = mine})
    return list[1] and list[1].status.state == "suppressed" and list[1], list
  end)
  assert.eq(alert.status.silencedBy, {id})
  assert.eq(c:alerts({filter = mine, silenced = false}), {})
  assert.eq(#c:alerts({filter = mine, active = false}), 1)

  -- Expire the silence: the silence is expired, the alert active again.
  assert.eq(c:silence_expire(id), true)
  assert.eq(c:silence_get(id).status.state, "expired")
  alert = eventually("the alert active again", function()
    local list = c:alerts({filter = mine})
    return list[1] and list[1].status.state == "active" and list[1], list
  end)
  assert.eq(alert.status.silencedBy, {})
  assert.eq(#c:alerts({filter = mine, silenced = false}), 1)

  -- Resolve it: an endsAt in the past; resolved alerts leave the list.
  c:alerts_post({{labels = alert.labels, startsAt = started, endsAt = time() - 1}})
  eventually("the alert resolved", function()
    local list = c:alerts({filter = mine})
    return #list == 0, list
  end)
end)

test("silences from matcher strings, regex and negative matchers; updating by id", function()
  local c = client()
  local id = c:silence_create({
    matchers = {('run="%s"'):format(RUN), 'severity=~"crit.*|page"', 'team!="web"', [[note!~"a\"b"]]},
    comment = "regex", createdBy = "tests", startsAt = time(), endsAt = time() + 300,
  })
  local s = c:silence_get(id)
  assert.eq(s.createdBy, "tests")
  assert.eq(s.matchers, {
    {name = "run", value = RUN, isRegex = false, isEqual = true},
    {name = "severity", value = "crit.*|page", isRegex = true, isEqual = true},
    {name = "team", value = "web", isRegex = false, isEqual = false},
    {name = "note", value = 'a"b', isRegex = true, isEqual = false},
  })
  -- The API's own matcher objects pass as they are; an id updates that silence.
  local same = c:silence_create({id = id, comment = "regex, updated", duration = 120,
    matchers = {{name = "run", value = RUN}}})
  assert.eq(type(same), "string")
  local updated = c:silence_get(same)
  assert.eq(updated.comment, "regex, updated")
  assert.eq(updated.matchers, {{name = "run", value = RUN, isRegex = false, isEqual = true}})
  for _, sil in ipairs(c:silences({filter = {run = RUN}})) do
    if sil.status.state ~= "expired" then c:silence_expire(sil.id) end
  end
  for _, sil in ipairs(c:silences({filter = {run = RUN}})) do
    assert.eq(sil.status.state, "expired")
  end
end)

test("absence and Alertmanager's errors", function()
  local c = client()
  local missing = "6f0f4e8e-2a0c-4c3b-9c6e-5b6a0c1e0d11"
  assert.is_nil(c:silence_get(missing))
  -- An absent silence: nil and Alertmanager's answer, as a get.
  assert.eq({c:silence_expire(missing)}, {nil, "silence not found"})
  assert.raises(function() c:silence_get("nope") end,
    [[alertmanager\.silence_get: GET /api/v2/silence/nope: 422 silenceID in path must be of type uuid]])
  assert.raises(function() c:alerts_post({labels = {}}) end,
    [[alertmanager\.alerts_post: POST /api/v2/alerts: 400 at least one label pair required]])
  assert.raises(function() c:alerts({filter = 'job=~"("'}) end,
    [[alertmanager\.alerts: GET /api/v2/alerts: 400 error parsing regexp: missing closing \)]])
  assert.raises(function()
    c:silence_create({matchers = {run = RUN}, comment = "x", startsAt = time(), endsAt = time() - 60})
  end, [[alertmanager\.silence_create: POST /api/v2/silences: 400 .*start time must be before end time]])
end)

test("bad arguments and options raise naming them", function()
  local c = client()
  assert.raises(function() alertmanager.client({url = URL, tiemout = 1}) end,
    [[^\S+:\d+: alertmanager\.client: bad argument #1 'opts' \(unknown option 'tiemout'; expected url, timeout, ca_cert, insecure, headers\)$]])
  assert.raises(function() c:alerts({activ = true}) end,
    [[^\S+:\d+: alertmanager\.alerts: bad argument #1 'opts' \(unknown option 'activ'; expected ]])
  assert.raises(function() c:alerts({active = "yes"}) end, [[bad argument #1 'opts\.active' \(boolean expected]])
  assert.raises(function() c:alerts({filter = "no operator"}) end, [[bad argument #1 'opts\.filter']])
  assert.raises(function() c:silence_create({matchers = {run = RUN}}) end, [[bad argument #1 'spec\.comment']])
  assert.raises(function() c:silence_create({comment = "x"}) end, [[bad argument #1 'spec\.matchers']])
  assert.raises(function() c:silence_create({matchers = {run = RUN}, comment = "x", duration = "2 hours"}) end,
    [[bad argument #1 'spec\.duration']])
  assert.raises(function() c:silence_create({matchers = {run = RUN}, comment = "x", duration = 1, endsAt = 1}) end,
    [[endsAt or duration expected, not both]])
  assert.raises(function() c:silence_create({matchers = {run = RUN}, comment = "x", startsAt = "tomorrow"}) end,
    [[bad argument #1 'spec\.startsAt' \(epoch seconds or an RFC 3339 string expected, got 'tomorrow'\)]])
  assert.raises(function() c:silence_create({matchers = {run = RUN}, comment = "x", mathcers = 1}) end,
    [[bad argument #1 'spec' \(unknown option 'mathcers']])
  assert.raises(function() c:alerts_post({labels = {a = "b"}, ends = 1}) end,
    [[bad argument #1 'alerts\[1\]' \(unknown field 'ends']])
  assert.raises(function() c:alerts_post({labels = {a = "b"}, endsAt = "1700000000"}) end,
    [[bad argument #1 'alerts\[1\]\.endsAt']])
  assert.raises(function() c:silence_get(nil) end, [[bad argument #1 'id']])
  assert.raises(function() c:wait_ready({timeout = "1m"}) end,
    [[^\S+:\d+: alertmanager\.wait_ready: bad argument #1 'opts\.timeout' \(non-negative seconds expected, got '1m'\)]])
  assert.raises(function() c:wait_ready({interval = -1}) end, [[bad argument #1 'opts\.interval']])
end)

test("network failures keep the http client's message", function()
  local c = alertmanager.client({url = "http://127.0.0.1:1", timeout = 2})
  -- No position: the error of a call, not of the caller's line.
  assert.raises(function() c:alerts() end,
    [[^alertmanager\.alerts: http\.Client:request: cannot connect to 127\.0\.0\.1:1: connection refused$]])
  assert.raises(function() c:wait_ready({timeout = 0.3, interval = 0.1}) end,
    [[^alertmanager\.wait_ready: http://127\.0\.0\.1:1 not ready after 0\.3s: http\.Client:request: cannot connect]])
end)

-- An Alertmanager still starting (or a load balancer in front of none) answers /-/ready with
-- 503: wait_ready polls until its timeout and names that last answer; each poll is bounded by
-- the time left even when the server never answers.
test("wait_ready: a timeout while the server answers 503, and a server that never answers", function()
  local polls = 0
  local server = http.server({GET = {
    ["/-/ready"] = function(req)
      polls = polls + 1
      assert.eq(req.headers.authorization, "Basic YWxpY2U6aHVudGVyMg==")
      return {status = 503, body = "Service Unavailable\n"}
    end,
    ["/slow/-/ready"] = function()
      sleep(3)
      return {status = 200, body = "OK"}
    end,
  }}, {host = "127.0.0.1", port = 0})
  local base = "http://127.0.0.1:" .. server.port
  local c = alertmanager.client({url = "http://alice:hunter2@127.0.0.1:" .. server.port})
  local t0 = time.monotonic()
  local ok, err = pcall(c.wait_ready, c, {timeout = 0.4, interval = 0.1})
  local took = time.monotonic() - t0
  local slow = alertmanager.client({url = base .. "/slow"})
  local t1 = time.monotonic()
  local ok2, err2 = pcall(slow.wait_ready, slow, {timeout = 0.5, interval = 0.1})
  local took2 = time.monotonic() - t1
  server:stop()
  assert.eq({ok, err}, {false, ("alertmanager.wait_ready: %s not ready after 0.4s: 503 Service Unavailable"):format(base)})
  assert.ge(polls, 3)
  assert.lt(took, 1.5)
  assert.eq(ok2, false)
  assert.matches(err2, [[^alertmanager\.wait_ready: http://127\.0\.0\.1:\d+/slow not ready after 0\.5s: ]])
  assert.lt(took2, 1.5)
end)

-- An authenticating proxy in front of Alertmanager answers 401/403 with its own text, not JSON.
test("an auth proxy's 401 and 403 in plain text; credentials never shown", function()
  local server = http.server({
    GET = {["/api/v2/alerts"] = function()
      return {status = 401, headers = {["www-authenticate"] = 'Basic realm="am"'}, body = "Unauthorized\n"}
    end},
    POST = {["/api/v2/silences"] = function()
      return {status = 403, body = "<html><body>403 Forbidden</body></html>"}
    end},
  }, {host = "127.0.0.1", port = 0})
  local c = alertmanager.client({url = "http://bob:s3cret@127.0.0.1:" .. server.port})
  local ok, err = pcall(c.alerts, c)
  local ok2, err2 = pcall(c.silence_create, c, {matchers = {a = "b"}, comment = "x"})
  server:stop()
  assert.eq({ok, err}, {false, "alertmanager.alerts: GET /api/v2/alerts: 401 Unauthorized"})
  assert.eq({ok2, err2}, {false, "alertmanager.silence_create: POST /api/v2/silences: 403 <html><body>403 Forbidden</body></html>"})
  assert.eq(c.url, "http://127.0.0.1:" .. server.port)
  local ok3, err3 = pcall(alertmanager.client, {url = "bob:s3cret@host:9093"})
  assert.eq(ok3, false)
  assert.contains(err3, "got 'bob:***@host:9093'")
  assert.eq(err3:find("s3cret", 1, true), nil, err3)
end)

-- Behind a reverse proxy under a path (https://host/alertmanager): the prefix stays.
test("a path prefix in the URL is kept", function()
  local seen
  local server = http.server({GET = {["/am/api/v2/receivers"] = function(req)
    seen = req.path
    return {json = {{name = "default"}}}
  end}}, {host = "127.0.0.1", port = 0})
  local c = alertmanager.client({url = "http://127.0.0.1:" .. server.port .. "/am"})
  local ok, v = pcall(c.receivers, c)
  server:stop()
  assert.eq({ok, v, seen}, {true, {{name = "default"}}, "/am/api/v2/receivers"})
end)
