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
  assert.eq(c:wait_ready({timeout = 5}), true)
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
  assert.eq(c:post_alerts({
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
  local id = c:create_silence({matchers = {run = RUN, alertname = "AssayTestPosted"},
    comment = "assay test " .. RUN, duration = "10m"})
  assert.matches(id, [[^[0-9a-f-]{36}$]])
  local s = c:get_silence(id)
  assert.eq(s.id, id)
  assert.eq(s.status.state, "active")
  assert.eq(s.createdBy, "assay")
  assert.eq(s.comment, "assay test " .. RUN)
  assert.eq(s.matchers, {
    {name = "alertname", value = "AssayTestPosted", isRegex = false, isEqual = true},
    {name = "run", value = RUN, isRegex = false, isEqual = true},
  })
  -- endsAt is startsAt + 10 minutes.
  assert.eq(time.parse(s.endsAt) - time.parse(s.startsAt), 600)
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
  assert.eq(c:expire_silence(id), true)
  assert.eq(c:get_silence(id).status.state, "expired")
  alert = eventually("the alert active again", function()
    local list = c:alerts({filter = mine})
    return list[1] and list[1].status.state == "active" and list[1], list
  end)
  assert.eq(alert.status.silencedBy, {})
  assert.eq(#c:alerts({filter = mine, silenced = false}), 1)

  -- Resolve it: an endsAt in the past; resolved alerts leave the list.
  c:post_alerts({{labels = alert.labels, startsAt = started, endsAt = time() - 1}})
  eventually("the alert resolved", function()
    local list = c:alerts({filter = mine})
    return #list == 0, list
  end)
end)

test("silences from matcher strings, regex and negative matchers; updating by id", function()
  local c = client()
  local id = c:create_silence({
    matchers = {('run="%s"'):format(RUN), 'severity=~"crit.*|page"', 'team!="web"', [[note!~"a\"b"]]},
    comment = "regex", createdBy = "tests", startsAt = time(), endsAt = time() + 300,
  })
  local s = c:get_silence(id)
  assert.eq(s.createdBy, "tests")
  assert.eq(s.matchers, {
    {name = "run", value = RUN, isRegex = false, isEqual = true},
    {name = "severity", value = "crit.*|page", isRegex = true, isEqual = true},
    {name = "team", value = "web", isRegex = false, isEqual = false},
    {name = "note", value = 'a"b', isRegex = true, isEqual = false},
  })
  -- The API's own matcher objects pass as they are; an id updates that silence.
  local same = c:create_silence({id = id, comment = "regex, updated", duration = 120,
    matchers = {{name = "run", value = RUN}}})
  assert.eq(type(same), "string")
  local updated = c:get_silence(same)
  assert.eq(updated.comment, "regex, updated")
  assert.eq(updated.matchers, {{name = "run", value = RUN, isRegex = false, isEqual = true}})
  for _, sil in ipairs(c:silences({filter = {run = RUN}})) do
    if sil.status.state ~= "expired" then c:expire_silence(sil.id) end
  end
  for _, sil in ipairs(c:silences({filter = {run = RUN}})) do
    assert.eq(sil.status.state, "expired")
  end
end)

test("absence and Alertmanager's errors", function()
  local c = client()
  local missing = "6f0f4e8e-2a0c-4c3b-9c6e-5b6a0c1e0d11"
  assert.is_nil(c:get_silence(missing))
  assert.raises(function() c:expire_silence(missing) end,
    "alertmanager\\.expire_silence: DELETE /api/v2/silence/" .. missing .. ": 500 silence not found")
  assert.raises(function() c:get_silence("nope") end,
    [[alertmanager\.get_silence: GET /api/v2/silence/nope: 422 silenceID in path must be of type uuid]])
  assert.raises(function() c:post_alerts({labels = {}}) end,
    [[alertmanager\.post_alerts: POST /api/v2/alerts: 400 at least one label pair required]])
  assert.raises(function() c:alerts({filter = 'job=~"("'}) end,
    [[alertmanager\.alerts: GET /api/v2/alerts: 400 error parsing regexp: missing closing \)]])
  assert.raises(function()
    c:create_silence({matchers = {run = RUN}, comment = "x", startsAt = time(), endsAt = time() - 60})
  end, [[alertmanager\.create_silence: POST /api/v2/silences: 400 .*start time must be before end time]])
end)

test("bad arguments and options raise naming them", function()
  local c = client()
  assert.raises(function() alertmanager.client({url = URL, tiemout = 1}) end,
    [[alertmanager\.client: unknown option 'tiemout']])
  assert.raises(function() c:alerts({activ = true}) end, [[alertmanager\.alerts: unknown option 'activ']])
  assert.raises(function() c:alerts({active = "yes"}) end, [[bad argument 'active' \(boolean expected]])
  assert.raises(function() c:alerts({filter = "no operator"}) end, [[bad argument 'filter']])
  assert.raises(function() c:create_silence({matchers = {run = RUN}}) end, [[bad argument 'comment']])
  assert.raises(function() c:create_silence({comment = "x"}) end, [[bad argument 'matchers']])
  assert.raises(function() c:create_silence({matchers = {run = RUN}, comment = "x", duration = "2 hours"}) end,
    [[bad argument 'duration']])
  assert.raises(function() c:create_silence({matchers = {run = RUN}, comment = "x", duration = 1, endsAt = 1}) end,
    [[endsAt or duration, not both]])
  assert.raises(function() c:post_alerts({labels = {a = "b"}, ends = 1}) end, [[unknown field 'ends']])
  assert.raises(function() c:get_silence(nil) end, [[bad argument 'id']])
end)

test("network failures keep the http client's message", function()
  local c = alertmanager.client({url = "http://127.0.0.1:1", timeout = 2})
  assert.raises(function() c:alerts() end,
    [[^\S+:\d+: alertmanager\.alerts: GET /api/v2/alerts: cannot connect to 127\.0\.0\.1:1]])
  assert.raises(function() c:wait_ready({timeout = 0.3, interval = 0.1}) end,
    [[alertmanager\.wait_ready: http://127\.0\.0\.1:1 not ready after 0\.3s: cannot connect]])
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
