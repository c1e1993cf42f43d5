-- alertmanager.client() reads ALERTMANAGER_URL. The environment cannot change once the http
-- plugin has started (and other test files start it in this process), so a child assay reads it.

local URL = env.get("ASSAY_TEST_ALERTMANAGER_URL")
-- The child finds this package (and apiclient) on the lib path: the stdlib root of this file.
local ROOT = arg[0]:gsub("/?[^/]*/tests/[^/]*$", "")
-- This run's lib path (`assay test --lib-path ...`, else ASSAY_LIB_PATH): the plugins are there.
local function lib_path() return env.get("ASSAY_LIB_PATH") end  -- --lib-path is exported there
local function child_env()
  local vars = env.list()
  local root = ROOT ~= "" and ROOT or "."
  local inherited = lib_path()
  vars.ASSAY_LIB_PATH = root .. (inherited and (":" .. inherited) or "")
  return vars
end

test("the default URL comes from ALERTMANAGER_URL, without its trailing slash", function()
  if not URL then
    error("ASSAY_TEST_ALERTMANAGER_URL is not set: start the servers with "
      .. "`scripts/obs-servers start DIR` and source DIR/env", 0)
  end
  local code = ([[
    local alertmanager = require("assay.alertmanager")
    local c = alertmanager.client()
    print(c.url, c:ready())
  ]])
  local env_vars = child_env()
  env_vars.ALERTMANAGER_URL = URL .. "//"
  local r = process.run({arg[-1], "-e", code}, {env = env_vars, timeout = 20})
  assert.eq(r.stderr, "")
  assert.eq(r.stdout, URL .. "\ttrue\n")
end)

test("an empty ALERTMANAGER_URL counts as unset: the default http://localhost:9093", function()
  local code = ([[
    local alertmanager = require("assay.alertmanager")
    print(alertmanager.client().url)
  ]])
  local env_vars = child_env()
  env_vars.ALERTMANAGER_URL = ""
  local r = process.run({arg[-1], "-e", code}, {env = env_vars, timeout = 20})
  assert.eq(r.stderr, "")
  assert.eq(r.stdout, "http://localhost:9093\n")
end)
