-- prometheus.client() reads PROMETHEUS_URL. The environment cannot change once the http plugin
-- has started (and other test files start it in this process), so a child assay reads it.

local URL = env.get("ASSAY_TEST_PROMETHEUS_URL")
local INIT = arg[0]:gsub("tests/[^/]*$", "init.lua")

test("the default URL comes from PROMETHEUS_URL, without its trailing slash", function()
  if not URL then
    error("ASSAY_TEST_PROMETHEUS_URL is not set: start the servers with "
      .. "`scripts/obs-servers start DIR` and source DIR/env", 0)
  end
  local code = ([[
    local prometheus = dofile(%q)
    local c = prometheus.client()
    print(c.url, c:query_scalar("1 + 1"))
  ]]):format(INIT)
  local env_vars = env.list()
  env_vars.PROMETHEUS_URL = URL .. "/"
  local r = process.run({arg[-1], "-e", code}, {env = env_vars, timeout = 20})
  assert.eq(r.stderr, "")
  assert.eq(r.stdout, URL .. "\t2\n")
end)

test("an empty PROMETHEUS_URL counts as unset: the default http://localhost:9090", function()
  local code = ([[
    local prometheus = dofile(%q)
    print(prometheus.client().url)
  ]]):format(INIT)
  local env_vars = env.list()
  env_vars.PROMETHEUS_URL = ""
  local r = process.run({arg[-1], "-e", code}, {env = env_vars, timeout = 20})
  assert.eq(r.stderr, "")
  assert.eq(r.stdout, "http://localhost:9090\n")
end)
