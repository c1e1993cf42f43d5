-- A fake Traefik API for the traefik package's tests, written with Assay's own http.server.
--
-- It follows Traefik's API as documented at https://doc.traefik.io/traefik/operations/api/
-- (GET /api/overview, /api/version, /api/rawdata, /api/entrypoints[/{name}],
-- /api/{http,tcp}/{routers,services,middlewares}[/{name}], /api/udp/{routers,services}[/{name}])
-- and https://doc.traefik.io/traefik/operations/ping/ (GET /ping -> 200 "OK"), with the
-- behaviour of Traefik's pkg/api: list filters `search`, `status`, `serviceName`,
-- `middlewareName`; pagination by `page`/`per_page` (default 100) with the X-Next-Page header
-- (1 on the last page); `{"message": "router not found: <name>"}` with 404; 400
-- "invalid request: page: 3, per_page: 2" past the end.
--
-- It CHECKS every request (method GET, known path, known query parameters, each once, valid
-- integers) and records what Traefik would not take in `fake.violations`; the tests assert it
-- empty. With `auth`, it answers 401 "401 Unauthorized" as a basicAuth middleware does, and 403
-- "Forbidden" for `forbidden_user` as an ipAllowList would.

local fake = {}

local function router(name, provider, rule, service, extra)
  local r = { entryPoints = { "web" }, rule = rule, service = service, status = "enabled",
    using = { "web" }, name = name .. "@" .. provider, provider = provider }
  for k, v in pairs(extra or {}) do r[k] = v end
  return r
end

local DATA = {
  http = {
    routers = {
      router("api", "internal", "PathPrefix(`/api`)", "api@internal", { priority = 9223372036854775806 }),
      router("whoami", "docker", "Host(`whoami.localhost`)", "whoami", { middlewares = { "auth@file" } }),
      router("blog", "file", "Host(`blog.localhost`)", "blog", { status = "disabled", error = { "the service \"blog@file\" does not exist" } }),
      router("shop", "file", "Host(`shop.localhost`)", "shop"),
      router("ping", "internal", "PathPrefix(`/ping`)", "ping@internal"),
    },
    services = {
      { name = "api@internal", provider = "internal", status = "enabled", usedBy = { "api@internal" } },
      { name = "whoami@docker", provider = "docker", status = "enabled", type = "loadbalancer",
        loadBalancer = { servers = { { url = "http://172.17.0.3:80" } }, passHostHeader = true },
        serverStatus = { ["http://172.17.0.3:80"] = "UP" }, usedBy = { "whoami@docker" } },
    },
    middlewares = {
      { name = "auth@file", provider = "file", status = "enabled", type = "basicauth",
        basicAuth = { users = { "admin:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/" } }, usedBy = { "whoami@docker" } },
    },
  },
  tcp = {
    routers = { router("db", "file", "HostSNI(`*`)", "db", { entryPoints = { "postgres" } }) },
    services = { { name = "db@file", provider = "file", status = "enabled", type = "loadbalancer",
      loadBalancer = { servers = { { address = "10.0.0.5:5432" } } } } },
    middlewares = { { name = "allow@file", provider = "file", status = "enabled", type = "ipallowlist",
      ipAllowList = { sourceRange = { "10.0.0.0/8" } } } },
  },
  udp = {
    routers = { { entryPoints = { "dns" }, service = "dns", status = "enabled", using = { "dns" },
      name = "dns@file", provider = "file" } },
    services = { { name = "dns@file", provider = "file", status = "enabled", type = "loadbalancer",
      loadBalancer = { servers = { { address = "10.0.0.53:53" } } } } },
  },
  entrypoints = {
    { name = "traefik", address = ":8080", transport = {}, http = {} },
    { name = "web", address = ":80", transport = {}, http = {} },
    { name = "postgres", address = ":5432", transport = {} },
    { name = "dns", address = ":53/udp", transport = {} },
  },
}

function fake.start(opts)
  opts = opts or {}
  local self = { violations = {}, requests = {} }
  local function violation(req, text)
    self.violations[#self.violations + 1] = ("%s %s: %s"):format(req.method, req.path, text)
  end
  local function api_error(status, msg)
    return { status = status, headers = { ["content-type"] = "text/plain; charset=utf-8",
      ["x-content-type-options"] = "nosniff" }, body = json.encode({ message = msg }) .. "\n" }
  end
  local function guard(req, allowed)
    self.requests[#self.requests + 1] = req
    for k, v in pairs(req.query) do
      if not (allowed and allowed[k]) then violation(req, "unexpected query parameter " .. k) end
      if type(v) == "table" then violation(req, "query parameter " .. k .. " given more than once") end
    end
    if opts.auth then
      local h = req.headers.authorization
      if h == "Basic " .. base64.encode("viewer:viewer") then
        return { status = 403, headers = { ["content-type"] = "text/plain; charset=utf-8" }, body = "Forbidden" }
      end
      if h ~= "Basic " .. base64.encode(opts.auth[1] .. ":" .. opts.auth[2]) then
        return { status = 401, headers = { ["content-type"] = "text/plain; charset=utf-8",
          ["www-authenticate"] = 'Basic realm="traefik"' }, body = "401 Unauthorized\n" }
      end
    end
  end
  local LIST_Q = { search = true, status = true, serviceName = true, middlewareName = true,
    page = true, per_page = true }

  local function int_param(req, key, default)
    local raw = req.query[key]
    if raw == nil or raw == "" then return default end
    local n = tonumber(raw)
    if not n or n <= 0 or n ~= math.floor(n) then
      violation(req, "bad " .. key .. " " .. tostring(raw))
      return nil, ("invalid request: %s: %d"):format(key, 0)
    end
    return math.floor(n)
  end

  local function list(req, items, kind)
    local denied = guard(req, LIST_Q)
    if denied then return denied end
    local q = req.query
    local out = {}
    for _, it in ipairs(items) do
      local ok = true
      if q.status and q.status ~= "" and it.status:lower() ~= q.status:lower() then ok = false end
      if q.search and q.search ~= "" then
        local s = q.search:lower()
        if not (it.name:lower():find(s, 1, true) or (it.rule or ""):lower():find(s, 1, true)) then ok = false end
      end
      if q.serviceName and q.serviceName ~= "" and kind == "routers" then
        local svc = it.service:find("@", 1, true) and it.service or (it.service .. "@" .. it.provider)
        if svc ~= q.serviceName and it.service ~= q.serviceName:match("^[^@]*") then ok = false end
      end
      if q.middlewareName and q.middlewareName ~= "" then
        local found = false
        for _, m in ipairs(it.middlewares or {}) do if m == q.middlewareName then found = true end end
        if not found then ok = false end
      end
      if ok then out[#out + 1] = it end
    end
    local per_page, e1 = int_param(req, "per_page", 100)
    if not per_page then return api_error(400, e1) end
    local page, e2 = int_param(req, "page", 1)
    if not page then return api_error(400, e2) end
    local start = (page - 1) * per_page
    if start ~= 0 and start >= #out then
      return api_error(400, ("invalid request: page: %d, per_page: %d"):format(page, per_page))
    end
    local slice = json.array()
    for i = start + 1, math.min(start + per_page, #out) do slice[#slice + 1] = out[i] end
    local nxt = (page * per_page < #out) and page + 1 or 1
    return { status = 200, headers = { ["content-type"] = "application/json", ["x-next-page"] = tostring(nxt) },
      body = json.encode(slice) }
  end

  local function one(req, items, what)
    local denied = guard(req, {})
    if denied then return denied end
    local name = url.decode(req.params.name)
    for _, it in ipairs(items) do
      if it.name == name then return { status = 200, json = it } end
    end
    return api_error(404, ("%s not found: %s"):format(what, name))
  end

  local routes = { GET = {} }
  local WHAT = { routers = "router", services = "service", middlewares = "middleware" }
  for proto, kinds in pairs({ http = { "routers", "services", "middlewares" },
      tcp = { "routers", "services", "middlewares" }, udp = { "routers", "services" } }) do
    for _, kind in ipairs(kinds) do
      local items = DATA[proto][kind]
      routes.GET[("/api/%s/%s"):format(proto, kind)] = function(req) return list(req, items, kind) end
      routes.GET[("/api/%s/%s/:name"):format(proto, kind)] = function(req) return one(req, items, WHAT[kind]) end
    end
  end
  routes.GET["/api/entrypoints"] = function(req) return list(req, DATA.entrypoints, "entrypoints") end
  routes.GET["/api/entrypoints/:name"] = function(req) return one(req, DATA.entrypoints, "entry point") end
  routes.GET["/api/overview"] = function(req)
    local denied = guard(req, {})
    if denied then return denied end
    local function counts(n) return { total = n, warnings = 0, errors = 0 } end
    return { status = 200, json = {
      http = { routers = { total = 5, warnings = 0, errors = 1 }, services = counts(2), middlewares = counts(1) },
      tcp = { routers = counts(1), services = counts(1), middlewares = counts(1) },
      udp = { routers = counts(1), services = counts(1) },
      features = { tracing = "", metrics = "", accessLog = false },
      providers = { "Docker", "File" },
    } }
  end
  routes.GET["/api/version"] = function(req)
    local denied = guard(req, {})
    if denied then return denied end
    return { status = 200, json = { Version = "3.3.4", Codename = "saintnectaire", startDate = "2026-12-06T10:00:00Z" } }
  end
  routes.GET["/api/rawdata"] = function(req)
    local denied = guard(req, {})
    if denied then return denied end
    local function by_name(items) local m = {} for _, it in ipairs(items) do m[it.name] = it end return m end
    return { status = 200, json = { routers = by_name(DATA.http.routers), services = by_name(DATA.http.services),
      middlewares = by_name(DATA.http.middlewares), tcpRouters = by_name(DATA.tcp.routers),
      tcpServices = by_name(DATA.tcp.services), udpRouters = by_name(DATA.udp.routers) } }
  end
  routes.GET["/ping"] = function(req)
    local denied = guard(req, {})
    if denied then return denied end
    self.pings = (self.pings or 0) + 1
    if self.terminating and self.pings <= self.terminating then
      return { status = 503, headers = { ["content-type"] = "text/plain; charset=utf-8" }, body = "Service Unavailable" }
    end
    return { status = 200, headers = { ["content-type"] = "text/plain; charset=utf-8" }, body = "OK" }
  end

  local server = http.server(routes, {
    host = "127.0.0.1", port = 0,
    after = function(req, resp)
      if resp.status == 404 and not (resp.body or ""):find("not found: ", 1, true) then
        violation(req, "no such endpoint in Traefik's API")
        return { status = 404, headers = { ["content-type"] = "text/plain; charset=utf-8" }, body = "404 page not found\n" }
      elseif resp.status == 405 then
        violation(req, "method not allowed")
      end
    end,
  })
  self.url = "http://127.0.0.1:" .. server.port
  function self:reset() self.violations, self.requests, self.pings, self.terminating = {}, {}, 0, nil end
  function self:stop() server:stop() end
  function self:last() return self.requests[#self.requests] end
  return self
end

return fake
