-- alertmanager.client() reads ALERTMANAGER_URL. The environment cannot change once the http
-- plugin has started (and other test files start it in this process), so a child assay reads it.

local URL = env.get("ASSAY_TEST_ALERTMANAGER_URL")
local INIT = arg[0]:gsub("tests/[^/]*$", "init.lua")

test("the default URL comes from ALERTMANAGER_URL, without its trailing slash", function()
  if not URL then
    error("ASSAY_TEST_ALERTMANAGER_URL is not set: start the servers with "
      .. "`scripts/obs-servers start DIR` and source DIR/env", 0)
  end
  local code = ([[
    local alertmanager = dofile(%q)
    local c = alertmanager.client()
    print(c.url, c:ready())
  ]]):format(INIT)
  local env_vars = env.list()
  env_vars.ALERTMANAGER_URL = URL .. "//"
  local r = process.run({arg[-1], "-e", code}, {env = env_vars, timeout = 20})
  assert.eq(r.stderr, "")
  assert.eq(r.stdout, URL .. "\ttrue\n")
end)

test("an empty ALERTMANAGER_URL counts as unset: the default http://localhost:9093", function()
  local code = ([[
    local alertmanager = dofile(%q)
    print(alertmanager.client().url)
  ]]):format(INIT)
  local env_vars = env.list()
  env_vars.ALERTMANAGER_URL = ""
  local r = process.run({arg[-1], "-e", code}, {env = env_vars, timeout = 20})
  assert.eq(r.stderr, "")
  assert.eq(r.stdout, "http://localhost:9093\n")
end)
