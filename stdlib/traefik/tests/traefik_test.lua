-- traefik against a fake Traefik API that checks every request (fake_traefik.lua cites the docs).
local traefik = require("assay.traefik")
local here = arg[0]:match("^(.*)/") or "."
local Fake = dofile(here .. "/fake_traefik.lua")
local fake = Fake.start()
local locked = Fake.start{auth = {"admin", "s3cret"}}

after_each(function()
  local seen = {}
  for _, f in ipairs({fake, locked}) do
    for _, v in ipairs(f.violations) do seen[#seen + 1] = v end
    f:reset()
  end
  assert.eq(seen, {}, "requests Traefik's API would not take")
end)

local function names(list)
  local out = {}
  for _, it in ipairs(list) do out[#out + 1] = it.name end
  return out
end

test("overview, version, rawdata", function()
  local c = traefik.client{url = fake.url}
  local o = c:overview()
  assert.eq(o.http.routers.total, 5)
  assert.eq(o.providers, {"Docker", "File"})
  assert.eq(c:version().Version, "3.3.4")
  assert.eq(c:rawdata().routers["whoami@docker"].service, "whoami")
end)

test("http routers: every page followed through X-Next-Page", function()
  local c = traefik.client{url = fake.url}
  assert.eq(#c:routers(), 5)
  local all = c:routers{per_page = 2}
  assert.eq(#all, 5)
  local pages = {}
  for _, r in ipairs(fake.requests) do pages[#pages + 1] = r.query.page or "1" end
  assert.eq(pages, {"1", "1", "2", "3"})
end)

test("router filters: search, status, service, middleware", function()
  local c = traefik.client{url = fake.url}
  assert.eq(names(c:routers{search = "WHOAMI"}), {"whoami@docker"})
  assert.eq(names(c:routers{status = "disabled"}), {"blog@file"})
  assert.eq(fake:last().query.status, "disabled")
  assert.eq(names(c:routers{service = "shop@file"}), {"shop@file"})
  assert.eq(fake:last().query.serviceName, "shop@file")
  assert.eq(names(c:routers{middleware = "auth@file"}), {"whoami@docker"})
  assert.eq(fake:last().query.middlewareName, "auth@file")
end)

test("one router, service, middleware by name; 404 -> nil, body", function()
  local c = traefik.client{url = fake.url}
  local r = c:router("whoami@docker")
  assert.eq(r.rule, "Host(`whoami.localhost`)")
  assert.eq(fake:last().path, "/api/http/routers/whoami@docker")
  assert.eq(c:service("whoami@docker").serverStatus["http://172.17.0.3:80"], "UP")
  assert.eq(c:middleware("auth@file").type, "basicauth")
  local none, body = c:router("nope@file")
  assert.eq(none, nil)
  assert.matches(body, [[router not found: nope@file]])
  assert.eq((c:service("nope@file")), nil)
  assert.eq((c:middleware("nope@file")), nil)
end)

test("tcp and udp variants", function()
  local c = traefik.client{url = fake.url}
  assert.eq(names(c:routers{protocol = "tcp"}), {"db@file"})
  assert.eq(fake:last().path, "/api/tcp/routers")
  assert.eq(c:service("db@file", {protocol = "tcp"}).loadBalancer.servers[1].address, "10.0.0.5:5432")
  assert.eq(names(c:middlewares{protocol = "tcp"}), {"allow@file"})
  assert.eq(c:middleware("allow@file", {protocol = "tcp"}).type, "ipallowlist")
  assert.eq(names(c:routers{protocol = "udp"}), {"dns@file"})
  assert.eq(names(c:services{protocol = "udp"}), {"dns@file"})
  assert.eq(c:router("dns@file", {protocol = "udp"}).service, "dns")
  assert.raises(function() c:middlewares{protocol = "udp"} end, "UDP has no middlewares")
  assert.raises(function() c:routers{protocol = "grpc"} end, [[field 'protocol']])
end)

test("entrypoints", function()
  local c = traefik.client{url = fake.url}
  assert.eq(names(c:entrypoints()), {"traefik", "web", "postgres", "dns"})
  assert.eq(c:entrypoint("web").address, ":80")
  assert.eq((c:entrypoint("nope")), nil)
end)

test("ping and wait_ready", function()
  local c = traefik.client{url = fake.url}
  assert.eq(c:ping(), true)
  fake.terminating = 2
  fake.pings = 0
  assert.raises(function() c:ping() end, [[^traefik\.ping: GET /ping: 503 Service Unavailable$]])
  assert.eq(c:wait_ready{timeout = 5, interval = 0.05}, "OK")
  fake.terminating, fake.pings = 1000, 0
  assert.raises(function() c:wait_ready{timeout = 0.3, interval = 0.05} end,
    [[^traefik\.wait_ready: .* not ready after 0\.3s: 503 Service Unavailable$]])
end)

test("401 and 403 from the middlewares in front, with their text; no password in messages", function()
  local c = traefik.client{url = locked.url, auth = {"admin", "wrong-pass"}}
  local ok, err = pcall(c.routers, c)
  assert.eq(ok, false)
  assert.eq(err, "traefik.routers: GET /api/http/routers: 401 401 Unauthorized")
  assert.eq(err:find("wrong-pass", 1, true), nil)
  local v = traefik.client{url = locked.url, auth = {"viewer", "viewer"}}
  assert.raises(function() v:overview() end, [[^traefik\.overview: GET /api/overview: 403 Forbidden$]])
  -- credentials in the URL become basic auth and leave client.url
  local u = locked.url:gsub("^http://", "http://admin:s3cret@")
  local cu = traefik.client{url = u}
  assert.eq(cu.url, locked.url)
  assert.eq(#cu:routers(), 5)
  assert.eq(tostring(cu):find("s3cret", 1, true), nil)
end)

test("400 from Traefik with its message", function()
  local c = traefik.client{url = fake.url}
  local resp = c._http:get("/api/http/routers", {query = {page = "9", per_page = "2"}})
  assert.eq(resp.status, 400)
  assert.matches(resp.body, [[invalid request: page: 9, per_page: 2]])
end)

test("bad arguments and unknown options", function()
  assert.raises(function() traefik.client{tiemout = 1} end, "unknown option 'tiemout'")
  assert.raises(function() traefik.client{url = "ftp://x"} end, "bad url")
  local c = traefik.client{url = fake.url}
  assert.raises(function() c:router(nil) end, [[bad argument #1 'name']])
  assert.raises(function() c:routers{provider = "x"} end, "unknown option 'provider'")
  assert.raises(function() c:routers{status = "up"} end, [[field 'status']])
end)

test("network errors name the method", function()
  local c = traefik.client{url = "http://127.0.0.1:1", timeout = 2}
  assert.raises(function() c:overview() end, [[^traefik\.overview: ]])
end)

test("the fake records what Traefik would refuse (its checks are live)", function()
  local c = traefik.client{url = fake.url}
  c._http:get("/api/http/routers", {query = {provider = "docker"}})
  c._http:get("/api/http/routes")
  c._http:post("/api/http/routers", {})
  local seen = fake.violations
  fake.violations = {}
  assert.eq(#seen, 3, table.concat(seen, "\n"))
end)

test("a get returns one value on success; a 404 on the overview raises (not Traefik's API)", function()
  local c = traefik.client{url = fake.url}
  assert.eq(select("#", c:router("whoami@docker")), 1)
  assert.eq(select("#", c:entrypoint("web")), 1)
  local other = traefik.client{url = fake.url .. "/prefix"}
  assert.raises(function() other:overview() end, [[^traefik\.overview: GET /prefix/api/overview: 404 ]])
  fake.violations = {} -- the fake records the unknown path too; here it was the point
end)
