-- assay.traefik against a real Traefik (scripts/traefik-server: routers, services and
-- middlewares for HTTP, TCP and UDP from a file provider; the API also routed on the "web"
-- entry point behind basicAuth assay/assay-pass). A missing server fails every test.
local traefik = require("assay.traefik")

local URL = env.get("ASSAY_TEST_TRAEFIK_URL")
local SECURED = env.get("ASSAY_TEST_TRAEFIK_SECURED_URL")

local function client(opts)
  if not URL or not SECURED then
    error("ASSAY_TEST_TRAEFIK_URL is not set: start the server with "
      .. "`scripts/traefik-server start DIR` and source DIR/env", 0)
  end
  opts = opts or {}
  opts.url = opts.url or URL
  return traefik.client(opts)
end

local function names(list)
  local out = {}
  for _, it in ipairs(list) do out[#out + 1] = it.name end
  table.sort(out)
  return out
end

test("real: ping, wait_ready, version, overview", function()
  local c = client()
  assert.eq(c:ping(), true)
  assert.eq(c:wait_ready{timeout = 10}, "OK")
  assert.matches(c:version().Version, [[^3\.]])
  local o = c:overview()
  assert.eq(o.http.routers.errors, 1)
  assert.eq(o.tcp.routers.total, 1)
end)

test("real: http routers, filters, pages", function()
  local c = client()
  assert.eq(names(c:routers()), {"api@internal", "broken@file", "ping@internal", "secured-api@file", "secured-ping@file", "whoami@file"})
  assert.eq(names(c:routers{per_page = 2}), names(c:routers()))
  assert.eq(names(c:routers{status = "disabled"}), {"broken@file"})
  assert.eq(names(c:routers{search = "whoami"}), {"whoami@file"})
  assert.eq(names(c:routers{service = "whoami@file"}), {"whoami@file"})
  assert.eq(names(c:routers{middleware = "auth@file"}), {"secured-api@file", "secured-ping@file"})
  assert.eq(c:router("broken@file").error[1], 'the service "missing@file" does not exist')
end)

test("real: services, middlewares, entrypoints; 404 -> nil with Traefik's message", function()
  local c = client()
  assert.eq(c:service("whoami@file").type, "loadbalancer")
  assert.eq(c:middleware("auth@file").type, "basicauth")
  assert.eq(names(c:entrypoints()), {"dns", "pg", "traefik", "web"})
  assert.matches(c:entrypoint("dns").address, [[^127\.0\.0\.1:\d+\/udp$]])
  local none, body = c:router("nope@file")
  assert.eq(none, nil)
  assert.eq(json.parse(body).message, "router not found: nope@file")
  assert.eq((c:service("nope@file")), nil)
  assert.eq((c:entrypoint("nope")), nil)
end)

test("real: tcp and udp", function()
  local c = client()
  assert.eq(names(c:routers{protocol = "tcp"}), {"postgres@file"})
  assert.eq(names(c:services{protocol = "tcp"}), {"postgres@file"})
  assert.eq(c:middleware("lan@file", {protocol = "tcp"}).type, "ipallowlist")
  assert.eq(names(c:routers{protocol = "udp"}), {"dns@file"})
  assert.eq(c:service("dns@file", {protocol = "udp"}).status, "enabled")
end)

test("real: the API behind basicAuth: 401 with Traefik's text, then in with credentials", function()
  local c = client{url = SECURED, auth = {"assay", "wrong-pass"}}
  local ok, err = pcall(c.overview, c)
  assert.eq(ok, false)
  assert.eq(err, "traefik.overview: GET /api/overview: 401 401 Unauthorized")
  assert.eq(err:find("wrong-pass", 1, true), nil)
  local good = client{url = SECURED:gsub("^http://", "http://assay:assay-pass@")}
  assert.eq(good.url, SECURED)
  assert.eq(good:overview().http.routers.total, 6)
  assert.eq(good:ping(), true)
end)
