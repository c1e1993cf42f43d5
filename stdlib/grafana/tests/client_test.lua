-- grafana.client: options, authentication, X-Grafana-Org-Id, environment defaults.
local grafana = require("assay.grafana")
local here = arg[0]:match("^(.*)/") or "."
local fake = dofile(here .. "/fake_grafana.lua").start{token = "admin-token", basic = {"admin", "pw"}, orgs = {1, 2}}

after_each(function()
  local seen = fake.violations
  fake:reset()
  assert.eq(seen, {}, "requests the real Grafana API would not take")
end)

test("a service account token is sent as a bearer token", function()
  local c = grafana.client{url = fake.url, token = "admin-token"}
  assert.eq(#c:datasources(), 2)
  assert.eq(fake:last().headers.authorization, "Bearer admin-token")
  assert.eq(fake:last().headers.accept, "application/json")
end)

test("user and password are basic auth", function()
  local c = grafana.client{url = fake.url, user = "admin", password = "pw"}
  c:folders()
  assert.eq(fake:last().headers.authorization, "Basic " .. base64.encode("admin:pw"))
end)

test("credentials in the url become basic auth and leave the url", function()
  local c = grafana.client{url = fake.url:gsub("http://", "http://admin:pw@")}
  assert.eq(c.url, fake.url)
  c:folders()
  assert.eq(fake:last().headers.authorization, "Basic " .. base64.encode("admin:pw"))
end)

test("org_id goes in X-Grafana-Org-Id; headers pass through", function()
  local c = grafana.client{url = fake.url, token = "admin-token", org_id = 2, headers = {["x-team"] = "sre"},
    timeout = 5, insecure = false}
  assert.eq(c.org_id, 2)
  c:search()
  assert.eq(fake:last().headers["x-grafana-org-id"], "2")
  assert.eq(fake:last().headers["x-team"], "sre")
end)

test("a path in the url is kept (Grafana under a sub-path)", function()
  local srv = http.server({GET = {["/grafana/api/health"] = function()
    return {json = {database = "ok", version = "11.3.0", commit = "x"}}
  end}}, {host = "127.0.0.1", port = 0})
  local c = grafana.client{url = "http://127.0.0.1:" .. srv.port .. "/grafana/"}
  assert.eq(c.url, "http://127.0.0.1:" .. srv.port .. "/grafana")
  assert.eq(c:health().database, "ok")
  srv:stop()
end)

test("no _VERSION: the manifest's version is the only one", function()
  assert.eq(rawget(grafana, "_VERSION"), nil)
end)

test("bad options raise naming them", function()
  assert.raises(function() grafana.client{url = fake.url, tokn = "x"} end,
    [[grafana\.client: bad argument #1 'opts' \(unknown option 'tokn'; expected url, token, user, password, org_id]])
  assert.raises(function() grafana.client{url = fake.url, token = "t", user = "u"} end,
    [[grafana\.client: bad argument #1 'opts' \(either 'token' or 'user'/'password', not both\)]])
  assert.raises(function() grafana.client{url = fake.url, password = "p"} end,
    [[grafana\.client: bad argument #1 'opts' \(field 'password' without 'user'\)]])
  assert.raises(function() grafana.client{url = fake.url, org_id = "main"} end,
    [[grafana\.client: bad argument #1 'opts' \(field 'org_id': positive integer expected, got main\)]])
  assert.raises(function() grafana.client{url = fake.url, token = 42} end, [[bad argument #1 'opts' \(field 'token': string expected, got number\)]])
  assert.raises(function() grafana.client{url = "not a url"} end, "bad url")
  assert.raises(function() grafana.client(true) end, "table expected, got boolean")
end)

test("a password never shows: bad url messages mask it, the url drops it", function()
  for _, raw in ipairs{"user:hunter2@host:3000", "http://user:hunter2@host:notaport", "http://u:hun/ter2@host",
      "ftp://user:hunter2@host"} do
    local ok, err = pcall(grafana.client, {url = raw})
    assert.eq(ok, false)
    assert.matches(err, [[grafana\.client: bad url \(an http\(s\) URL expected, got ".*:\*\*\*@]])
    assert.eq(err:find("hunter2", 1, true) or err:find("hun/ter2", 1, true), nil, err)
  end
  assert.raises(function() grafana.client{url = "http://user@host:notaport"} end, [[got "http://user@host:notaport"]])
  local c = grafana.client{url = "http://:hunter2@127.0.0.1:1/grafana"}
  assert.eq(c.url, "http://127.0.0.1:1/grafana")
end)

test("ca_cert passes through to http.client", function()
  assert.raises(function() grafana.client{url = fake.url, ca_cert = "/nonexistent/ca.pem"} end,
    [[grafana\.client: http\.client: ca_cert: cannot read /nonexistent/ca\.pem]])
end)

test("a network failure keeps the http client's message after the prefix", function()
  local c = grafana.client{url = "http://127.0.0.1:1", token = "t", timeout = 2}
  assert.raises(function() c:health() end, [[^grafana\.health: http\.Client:request: cannot connect to 127\.0\.0\.1:1]])
  assert.raises(function() c:dashboard_get("x") end, [[^grafana\.dashboard_get: .*cannot connect]])
end)

-- The environment cannot change once the http plugin runs: these run a child assay.
local function lib_path() return env.get("ASSAY_LIB_PATH") end  -- --lib-path is exported there

local function child(code, vars)
  local e = {GRAFANA_URL = "", GRAFANA_TOKEN = "", GRAFANA_ORG_ID = ""}
  for k, v in pairs(vars) do e[k] = v end
  local argv = {"/proc/self/exe"}
  local lib = lib_path()
  if lib then argv[#argv + 1] = "--lib-path"; argv[#argv + 1] = lib end
  argv[#argv + 1] = "-e"
  argv[#argv + 1] = 'local grafana = require("assay.grafana")\n' .. code
  local r = process.run(argv, {env = e, timeout = 20})
  if r.status ~= 0 then error("child failed: " .. r.stderr, 0) end
  return r.stdout
end

test("GRAFANA_URL, GRAFANA_TOKEN and GRAFANA_ORG_ID are the defaults", function()
  local out = child([[
    local c = grafana.client()
    local h = c:datasource_get("prom-main")
    print(c.url, c.org_id, h.name)
  ]], {GRAFANA_URL = fake.url, GRAFANA_TOKEN = "admin-token", GRAFANA_ORG_ID = "2"})
  assert.eq(out, fake.url .. "\t2\tPrometheus Main\n")
  assert.eq(fake:last().headers.authorization, "Bearer admin-token")
  assert.eq(fake:last().headers["x-grafana-org-id"], "2")
end)

test("a bad GRAFANA_ORG_ID names the variable", function()
  local ok, err = pcall(child, "grafana.client()", {GRAFANA_ORG_ID = "main"})
  assert.eq(ok, false)
  assert.matches(err, [[grafana\.client: bad \$GRAFANA_ORG_ID \(positive integer expected, got "main"\)]])
end)

test("explicit user/password win over GRAFANA_TOKEN", function()
  child([[grafana.client{user = "admin", password = "pw"}:folders()]],
    {GRAFANA_URL = fake.url, GRAFANA_TOKEN = "admin-token"})
  assert.eq(fake:last().headers.authorization, "Basic " .. base64.encode("admin:pw"))
end)

test("without url nor GRAFANA_URL (or with it empty): Grafana's usual local address", function()
  assert.eq(child("print(grafana.client().url)", {}), "http://localhost:3000\n")
  assert.eq(child("print(grafana.client{token = 't'}.url)", {GRAFANA_URL = ""}), "http://localhost:3000\n")
end)

test("a url that is not a string is a bad argument", function()
  assert.raises(function() grafana.client{url = 3000} end,
    [[grafana\.client: bad argument #1 'opts' \(field 'url': string expected, got number\)]])
end)

test("the package works under --sandbox (check-mode scripts run there)", function()
  local argv = {"/proc/self/exe", "--sandbox"}
  local lib = lib_path()
  if lib then argv[#argv + 1] = "--lib-path"; argv[#argv + 1] = lib end
  argv[#argv + 1] = "-e"
  argv[#argv + 1] = ([[
    local grafana = require("assay.grafana")
    local c = grafana.client{url = %q, token = "admin-token"}
    print(c:datasource_health("prom-main").status)
    print(select(2, pcall(c.dashboard_get, c, "")))
  ]]):format(fake.url)
  local r = process.run(argv, {timeout = 20})
  assert.eq(r.stderr, "")
  assert.eq(r.stdout, "OK\ngrafana.dashboard_get: bad argument #1 'uid' (non-empty string expected, got an empty string)\n")
end)
