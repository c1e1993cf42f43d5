-- prometheus.client() reads PROMETHEUS_URL (set here before any plugin call: the
-- environment cannot change once the http plugin has started).

local URL = env.get("ASSAY_TEST_PROMETHEUS_URL")
if URL then env.set("PROMETHEUS_URL", URL .. "/") end

local prometheus = require("assay.prometheus")

test("the default URL comes from PROMETHEUS_URL, without its trailing slash", function()
  if not URL then
    error("ASSAY_TEST_PROMETHEUS_URL is not set: start the servers with "
      .. "`scripts/obs-servers start DIR` and source DIR/env", 0)
  end
  local c = prometheus.client()
  assert.eq(c.url, URL)
  assert.eq(c:query_scalar("1"), 1)
  assert.eq(prometheus.client({url = "http://other:9090"}).url, "http://other:9090")
end)
