local api = require("assay.apiclient")

test("raise: at the caller's line, past the registered package files", function()
  local ok, err = pcall(function() api.raise("x.f: bad argument #1 'a' (string expected, got nil)") end)
  assert.eq(ok, false)
  assert.contains(err, "apiclient_test.lua:4: x.f: bad argument #1 'a'")
end)

test("check_options: nil gives {}, known keys pass, the builtins' wording otherwise", function()
  assert.eq(next(api.check_options("p", "f", 1, nil, {"a"})), nil)
  local t = {a = 1}
  assert.eq(api.check_options("p", "f", 1, t, {"a", "b"}), t)
  local _, e1 = pcall(api.check_options, "p", "f", 2, {zz = 1}, {"b", "a"})
  assert.contains(e1, "p.f: bad argument #2 'opts' (unknown option 'zz'; expected b, a)")
  local _, e2 = pcall(api.check_options, "p", "f", 1, {zz = 1}, {b = true, a = true}, "spec")
  assert.contains(e2, "p.f: bad argument #1 'spec' (unknown option 'zz'; expected a, b)")
  local _, e3 = pcall(api.check_options, "p", "f", 1, "x", {"a"}, nil, "table or nil")
  assert.contains(e3, "p.f: bad argument #1 'opts' (table or nil expected, got string)")
end)

test("network_error: the prefix and the http client's message unchanged, no position", function()
  local _, e = pcall(api.network_error, "p", "get", "x.lua:3: http.Client:request: connection refused")
  assert.eq(e, "p.get: http.Client:request: connection refused")
  local _, e2 = pcall(api.network_error, "p", "get", "some/file.lua:9: timed out")
  assert.eq(e2, "p.get: timed out")
end)

test("mask_url and strip_userinfo: no password shows", function()
  assert.eq(api.mask_url("http://u:hunter2@h:1/x"), "http://u:***@h:1/x")
  assert.eq(api.mask_url("u:hun/ter2@h"), "u:***@h")
  assert.eq(api.mask_url("http://user@h"), "http://user@h")
  assert.eq(api.mask_url("http://tok@h", true), "http://***@h")
  assert.eq(api.mask_url("http://h:1/x"), "http://h:1/x")
  assert.eq(api.strip_userinfo("https://u:p@h:1/a@b"), "https://h:1/a@b")
  assert.eq(api.strip_userinfo("http://h/x"), "http://h/x")
end)

test("env: the first variable set and not empty", function()
  assert.eq(api.env("ASSAY_APICLIENT_SURELY_UNSET_1", "ASSAY_APICLIENT_SURELY_UNSET_2"), nil)
  assert.eq(api.env("ASSAY_APICLIENT_SURELY_UNSET_1", "PATH"), env.get("PATH"))
end)

test("poll: the result on success, the last state on timeout, tries bounded by the time left", function()
  local n = 0
  local ok, v = api.poll{timeout = 5, interval = 0.01, try = function() n = n + 1; return n == 3, n end}
  assert.eq(ok, true); assert.eq(v, 3)
  local limits = {}
  local t0 = time.monotonic()
  local ok2, last = api.poll{timeout = 0.1, interval = 0.03, per_request = 0.05,
    try = function(limit) limits[#limits + 1] = limit; return false, "state " .. #limits end}
  assert.eq(ok2, false)
  assert.eq(last, "state " .. #limits)
  assert.eq(time.monotonic() - t0 < 1, true)
  for _, l in ipairs(limits) do assert.eq(l <= 0.05, true) end
end)

test("poll: a try cut short at the deadline is the wait timing out; other failures raise", function()
  -- The second try runs out of time (as a request given the time left would): the wait ends
  -- with the state seen before, not the try's error. (CI caught argocd's app_wait raising
  -- the request's timeout instead, under load.)
  local tries = 0
  local ok, last = api.poll{timeout = 0.05, interval = 0.01, try = function()
    tries = tries + 1
    if tries == 1 then return false, "not found" end
    sleep(0.06)
    error("timed out after 0.001s", 0)
  end}
  assert.eq(ok, false)
  assert.eq(last, "not found")
  -- A failure before the deadline, or before any state was seen, is raised as it is.
  assert.raises(function()
    api.poll{timeout = 5, interval = 0.01, try = function() error("refused", 0) end}
  end, "^refused$")
  assert.raises(function()
    api.poll{timeout = 0.01, interval = 0.01, try = function() sleep(0.02); error("late", 0) end}
  end, "^late$")
end)

test("split_url: parts without credentials, the credentials apart; nil for what is no http(s) URL", function()
  local parts, cred = api.split_url("https://ops:p%40ss@h:8/x")
  assert.eq(parts.host, "h"); assert.eq(parts.user, nil); assert.eq(parts.password, nil)
  assert.eq(cred, {user = "ops", password = "p@ss"})
  local p2, c2 = api.split_url("http://:only@h")
  assert.eq(p2.host, "h"); assert.eq(c2, nil)
  assert.eq(api.split_url("ftp://h"), nil)
  assert.eq(api.split_url(42), nil)
end)

test("wait_times: defaults 60 and 1, checked numbers", function()
  local t, i = api.wait_times("p", "wait", 1, {})
  assert.eq(t, 60); assert.eq(i, 1)
  local _, e = pcall(api.wait_times, "p", "wait", 2, {timeout = "1m"})
  assert.contains(e, "p.wait: bad argument #2 'opts.timeout' (non-negative seconds expected, got '1m')")
  local _, e2 = pcall(api.wait_times, "p", "wait", 1, {interval = 0})
  assert.contains(e2, "p.wait: bad argument #1 'opts.interval' (positive seconds expected, got number)")
end)

test("check_name and check_field: the builtins' wording", function()
  api.check_name("p", "get", 1, "name", "web")
  local _, e = pcall(api.check_name, "p", "get", 2, "name", "")
  assert.contains(e, "p.get: bad argument #2 'name' (non-empty string expected, got an empty string)")
  local _, e2 = pcall(api.check_name, "p", "get", 1, "id", 42)
  assert.contains(e2, "p.get: bad argument #1 'id' (non-empty string expected, got number)")
  api.check_field("p", "list", 2, "limit", nil, "number")
  api.check_field("p", "list", 2, "limit", 5, "number")
  local _, e3 = pcall(api.check_field, "p", "list", 2, "limit", "5", "number")
  assert.contains(e3, "p.list: bad argument #2 'opts' (field 'limit': number expected, got string)")
end)
