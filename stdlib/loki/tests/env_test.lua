-- loki.client's defaults from the environment. The environment cannot change once the http
-- plugin runs, so each case runs a child assay (this same binary, with this run's lib path)
-- with the variables set.

local function lib_path() return env.get("ASSAY_LIB_PATH") end  -- --lib-path is exported there

local LIB = lib_path()

-- Runs `code` in a child assay with exactly these LOKI_* variables; returns its stdout or raises
-- with its stderr.
local function child(code, vars)
  local e = {LOKI_URL = "", LOKI_ADDR = "", LOKI_ORG_ID = "", LOKI_USERNAME = "", LOKI_PASSWORD = "",
    LOKI_BEARER_TOKEN = ""}
  for k, v in pairs(vars) do e[k] = v end
  local argv = {"/proc/self/exe"}
  if LIB then argv[#argv + 1] = "--lib-path"; argv[#argv + 1] = LIB end
  argv[#argv + 1] = "-e"
  argv[#argv + 1] = 'local loki = require("assay.loki")\n' .. code
  local r = process.run(argv, {env = e, timeout = 20})
  if r.status ~= 0 then error("child failed: " .. r.stderr, 0) end
  return r.stdout
end

test("without url, LOKI_URL nor LOKI_ADDR (or with them empty): Loki's usual local address", function()
  assert.eq(child("print(loki.client().url)", {}), "http://localhost:3100\n")
  assert.eq(child("print(loki.client{tenant = 't'}.url)", {LOKI_URL = "", LOKI_ADDR = ""}), "http://localhost:3100\n")
end)

test("LOKI_URL, LOKI_ORG_ID and LOKI_USERNAME/LOKI_PASSWORD are the defaults", function()
  local out = child([[
    local c = loki.client()
    print(c.url, c.tenant, c._auth.user, c._auth.password)
  ]], {LOKI_URL = "http://127.0.0.1:1/loki", LOKI_ORG_ID = "team-env", LOKI_USERNAME = "envuser",
    LOKI_PASSWORD = "envpw"})
  assert.eq(out, "http://127.0.0.1:1/loki\tteam-env\tenvuser\tenvpw\n")
end)

test("LOKI_ADDR (logcli's) when LOKI_URL is unset; LOKI_BEARER_TOKEN", function()
  local out = child([[
    local c = loki.client()
    print(c.url, c._auth.bearer)
  ]], {LOKI_ADDR = "http://127.0.0.1:2", LOKI_BEARER_TOKEN = "tok"})
  assert.eq(out, "http://127.0.0.1:2\ttok\n")
end)

test("explicit options win over the environment", function()
  local out = child([[
    local c = loki.client{url = "http://127.0.0.1:3", tenant = "explicit", auth = {bearer = "t"}}
    print(c.url, c.tenant, c._auth.bearer, c._auth.user)
  ]], {LOKI_URL = "http://127.0.0.1:1", LOKI_ORG_ID = "env", LOKI_USERNAME = "u"})
  assert.eq(out, "http://127.0.0.1:3\texplicit\tt\tnil\n")
end)

test("the package works under --sandbox (check-mode scripts run there)", function()
  local fake = dofile((arg[0]:match("^(.*)/") or ".") .. "/fake_loki.lua").start{tenant = "t"}
  local argv = {"/proc/self/exe", "--sandbox"}
  if LIB then argv[#argv + 1] = "--lib-path"; argv[#argv + 1] = LIB end
  argv[#argv + 1] = "-e"
  argv[#argv + 1] = ([[
    local loki = require("assay.loki")
    local c = loki.client{url = %q, tenant = "t"}
    c:push({app = "sandboxed"}, "hello")
    local r = c:query_range(loki.selector{app = "sandboxed"}, {since = "5m"})
    print(r.result[1].values[1][2])
    print(select(2, pcall(loki.selector, {})))
  ]]):format(fake.url)
  local r = process.run(argv, {timeout = 20})
  assert.eq(r.stderr, "")
  assert.eq(r.stdout, "hello\nloki.selector: bad argument #1 'labels' (non-empty table expected, got an empty table)\n")
  assert.eq(fake.violations, {})
  fake:stop()
end)
