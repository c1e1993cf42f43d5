--- assay.traefik: a client for Traefik's API (read-only: the runtime configuration).
---
--- API followed: https://doc.traefik.io/traefik/operations/api/ (endpoints) and
--- https://doc.traefik.io/traefik/operations/ping/ (`/ping`).
---
--- local traefik = require("assay.traefik")
--- local c = traefik.client{url = "http://traefik:8080"}
--- for _, r in ipairs(c:routers()) do print(r.name, r.rule, r.status) end
--- local svc = c:service("whoami@docker")

---@class traefik
local M = {}

---@class traefik.Client
---@field url string the API's base URL (without credentials)
local Client = {}
Client.__index = Client
Client.__tostring = function(self) return ("traefik.Client(%s)"):format(self.url) end

local DEFAULT_URL = "http://localhost:8080"
local CLIENT_OPTIONS = { "url", "auth", "timeout", "ca_cert", "insecure", "headers" }
local MAX_PAGES = 1000

local api = require("assay.apiclient")
api.own_source()
local raise = api.raise

local function trim(s) return (s:gsub("^%s+", ""):gsub("%s+$", "")) end

-- Traefik's own error text: its API answers {"message": "..."}; middlewares in front of it
-- (basicAuth, ipAllowList) answer plain text.
local function error_text(resp)
  local body = resp.body or ""
  if body:match("^%s*{") then
    local ok, d = pcall(json.parse, body)
    if ok and type(d) == "table" and type(d.message) == "string" then return d.message end
  end
  body = trim(body)
  if #body > 512 then body = body:sub(1, 512) .. "..." end
  return body
end

---@private
function Client:_request(fname, path, query, timeout)
  local ropts = { query = query, auth = self._auth }
  if timeout then ropts.timeout = timeout end
  local ok, resp = pcall(self._http.request, self._http, "GET", self._prefix .. path, ropts)
  if not ok then api.network_error("traefik", fname, resp) end
  return resp
end

---@private
function Client:_fail(fname, path, resp)
  error(("traefik.%s: GET %s: %d %s"):format(fname, self._prefix .. path, resp.status, error_text(resp)), 0)
end

---@private
function Client:_json(fname, path, query)
  local resp = self:_request(fname, path, query)
  if resp.status == 404 then return nil, resp.body end
  if resp.status ~= 200 then self:_fail(fname, path, resp) end
  local ok, body = pcall(resp.json, resp)
  if not ok then
    error(("traefik.%s: GET %s: %d answer is not JSON: %s"):format(fname, self._prefix .. path,
      resp.status, error_text(resp)), 0)
  end
  return body, resp
end

-- One object: the decoded answer, or nil and the body on 404.
---@private
function Client:_one(fname, path)
  local body, resp = self:_json(fname, path)
  if body == nil then return nil, resp end
  return body
end

-- A document that is always there: a 404 means the URL is not Traefik's API.
---@private
function Client:_must(fname, path)
  local body, text = self:_json(fname, path)
  if body == nil then self:_fail(fname, path, { status = 404, body = text }) end
  return body
end

-- A list endpoint: every page followed through X-Next-Page (Traefik pages by `page`/`per_page`).
---@private
function Client:_list(fname, path, query)
  local out, page = {}, 1
  for _ = 1, MAX_PAGES do
    local q = {}
    for k, v in pairs(query) do q[k] = v end
    if page > 1 then q.page = tostring(page) end
    local body, resp = self:_json(fname, path, next(q) and q or nil)
    if body == nil then
      self:_fail(fname, path, { status = 404, body = resp })
    end
    for _, item in ipairs(body) do out[#out + 1] = item end
    local nxt = tonumber(resp.headers["x-next-page"] or "")
    if not nxt or nxt <= page then return out end
    page = nxt
  end
  error(("traefik.%s: GET %s: more than %d pages"):format(fname, self._prefix .. path, MAX_PAGES), 0)
end

---@class traefik.ClientOptions
---@field url? string base URL of the API (default: $TRAEFIK_URL, then http://localhost:8080); user:password@ in it becomes basic auth
---@field auth? table `{user, password}` (basic, e.g. a basicAuth middleware) or `{bearer = token}`
---@field timeout? number|false seconds for each request
---@field ca_cert? string PEM file path or PEM text added to the system roots
---@field insecure? boolean skip TLS verification
---@field headers? table<string,string> extra headers sent with every request

--- Creates a client; one pooled HTTP client per Traefik client.
---@param opts? traefik.ClientOptions
---@return traefik.Client
function M.client(opts)
  opts = api.check_options("traefik", "client", 1, opts, CLIENT_OPTIONS)
  if opts.url ~= nil and type(opts.url) ~= "string" then
    raise(("traefik.client: bad argument #1 'opts' (field 'url': string expected, got %s)"):format(type(opts.url)))
  end
  local raw = opts.url or api.env("TRAEFIK_URL") or DEFAULT_URL
  local parts, cred = api.split_url(raw)
  if not parts then
    raise(("traefik.client: bad url (an http(s) URL expected, got %q)"):format(api.mask_url(raw)))
  end
  local auth = opts.auth
  if auth == nil and cred then auth = { cred.user, cred.password or "" } end
  if auth ~= nil and type(auth) ~= "table" then
    raise(("traefik.client: bad argument #1 'opts' (field 'auth': {user, password} or {bearer = token} expected, got %s)"):format(type(auth)))
  end
  local prefix = (parts.path or ""):gsub("/+$", "")
  parts.path, parts.query, parts.fragment = nil, nil, nil
  local base = url.build(parts):gsub("/+$", "")
  local headers = { accept = "application/json" }
  for k, v in pairs(opts.headers or {}) do headers[k] = v end
  local hopts = { base_url = base, headers = headers }
  if opts.timeout ~= nil then hopts.timeout = opts.timeout end
  if opts.ca_cert ~= nil then hopts.ca_cert = opts.ca_cert end
  if opts.insecure ~= nil then hopts.insecure = opts.insecure end
  local hok, hc = pcall(http.client, hopts)
  if not hok then raise("traefik.client: " .. api.strip_position(hc)) end
  return setmetatable({ url = base .. prefix, _http = hc, _prefix = prefix, _auth = auth,
    _timeout = opts.timeout }, Client)
end

-- Names such as "whoami@docker" go in the path as one segment ('@' is allowed there).
local function segment(name)
  return (url.encode(name):gsub("%%40", "@"))
end

local function check_name(fname, name)
  api.check_name("traefik", fname, 1, "name", name)
end

local PROTOCOLS = { http = true, tcp = true, udp = true }

local function check_protocol(fname, argn, opts, kind)
  local p = opts.protocol or "http"
  if not PROTOCOLS[p] then
    raise(("traefik.%s: bad argument #%d 'opts' (field 'protocol': \"http\", \"tcp\" or \"udp\" expected, got %s)"):format(
      fname, argn, tostring(p)))
  end
  if kind == "middlewares" and p == "udp" then
    raise(("traefik.%s: bad argument #%d 'opts' (field 'protocol': UDP has no middlewares)"):format(fname, argn))
  end
  return p
end

-- The filters Traefik's list endpoints take, by our option name.
local FILTERS = { search = "search", status = "status",
  service = "serviceName", middleware = "middlewareName", per_page = "per_page" }

local function list_query(fname, opts)
  local q = {}
  for k, v in pairs(opts) do
    if FILTERS[k] then
      if k == "status" and v ~= "enabled" and v ~= "disabled" and v ~= "warning" then
        raise(("traefik.%s: bad argument #1 'opts' (field 'status': \"enabled\", \"disabled\" or \"warning\" expected, got %s)"):format(
          fname, tostring(v)))
      end
      q[FILTERS[k]] = tostring(v)
    end
  end
  return q
end

local LIST_OPTIONS = { "protocol", "search", "status", "service", "middleware", "per_page" }

local function lister(kind, fname)
  return function(self, opts)
    opts = api.check_options("traefik", fname, 1, opts, LIST_OPTIONS)
    local p = check_protocol(fname, 1, opts, kind)
    return self:_list(fname, ("/api/%s/%s"):format(p, kind), list_query(fname, opts))
  end
end

local function getter(kind, fname)
  return function(self, name, opts)
    check_name(fname, name)
    opts = api.check_options("traefik", fname, 2, opts, { "protocol" })
    local p = check_protocol(fname, 2, opts, kind)
    return self:_one(fname, ("/api/%s/%s/%s"):format(p, kind, segment(name)))
  end
end

---@class traefik.ListOptions
---@field protocol? "http"|"tcp"|"udp" default "http"
---@field search? string Traefik's `search` filter (name or rule contains)
---@field status? "enabled"|"disabled"|"warning"
---@field service? string routers using this service (`serviceName`)
---@field middleware? string routers using this middleware (`middlewareName`)
---@field per_page? integer page size (every page is fetched)

--- Routers (`GET /api/{http,tcp,udp}/routers`), every page followed.
---@type fun(self: traefik.Client, opts?: traefik.ListOptions): table[]
Client.routers = lister("routers", "routers")
--- One router by name (`"whoami@docker"`); nil and the body when absent.
---@type fun(self: traefik.Client, name: string, opts?: {protocol?: string}): table|nil, string|nil
Client.router = getter("routers", "router")
--- Services (`GET /api/{http,tcp,udp}/services`).
---@type fun(self: traefik.Client, opts?: traefik.ListOptions): table[]
Client.services = lister("services", "services")
--- One service by name; nil and the body when absent.
---@type fun(self: traefik.Client, name: string, opts?: {protocol?: string}): table|nil, string|nil
Client.service = getter("services", "service")
--- Middlewares (`GET /api/{http,tcp}/middlewares`; UDP has none).
---@type fun(self: traefik.Client, opts?: traefik.ListOptions): table[]
Client.middlewares = lister("middlewares", "middlewares")
--- One middleware by name; nil and the body when absent.
---@type fun(self: traefik.Client, name: string, opts?: {protocol?: string}): table|nil, string|nil
Client.middleware = getter("middlewares", "middleware")

--- The overview (`GET /api/overview`): counts per protocol, features, providers.
---@return table
function Client:overview() return self:_must("overview", "/api/overview") end

--- The version (`GET /api/version`): `{Version, Codename, startDate}`.
---@return table
function Client:version() return self:_must("version", "/api/version") end

--- The whole runtime configuration (`GET /api/rawdata`).
---@return table
function Client:rawdata() return self:_must("rawdata", "/api/rawdata") end

--- Entry points (`GET /api/entrypoints`), every page followed.
---@param opts? {search?: string, per_page?: integer}
---@return table[]
function Client:entrypoints(opts)
  opts = api.check_options("traefik", "entrypoints", 1, opts, { "search", "per_page" })
  return self:_list("entrypoints", "/api/entrypoints", list_query("entrypoints", opts))
end

--- One entry point by name; nil and the body when absent.
---@param name string
---@return table|nil, string|nil
function Client:entrypoint(name)
  check_name("entrypoint", name)
  return self:_one("entrypoint", "/api/entrypoints/" .. segment(name))
end

--- `GET /ping` (the ping must be enabled, on this URL's entry point): true when Traefik answers
--- 200 "OK"; raises with the status and text otherwise.
---@return true
function Client:ping()
  local resp = self:_request("ping", "/ping")
  if resp.status ~= 200 then self:_fail("ping", "/ping", resp) end
  return true
end

--- Waits until `/ping` answers 200; returns its text ("OK"), raises with the last state after
--- `timeout` seconds.
---@param opts? {timeout?: number, interval?: number}
---@return string
function Client:wait_ready(opts)
  opts = api.check_options("traefik", "wait_ready", 1, opts, { "timeout", "interval" })
  local timeout, interval = api.wait_times("traefik", "wait_ready", 1, opts)
  local ok, answer = api.poll{ timeout = timeout, interval = interval, per_request = self._timeout,
    floor = 0.05, try = function(limit)
      local rok, resp = pcall(self._http.request, self._http, "GET", self._prefix .. "/ping",
        { timeout = limit, auth = self._auth })
      if rok and resp.status == 200 then return true, trim(resp.body or "") end
      return false, rok and ("%d %s"):format(resp.status, error_text(resp)) or api.strip_position(resp)
    end }
  if ok then return answer end
  error(("traefik.wait_ready: %s not ready after %gs: %s"):format(self.url, timeout, tostring(answer)), 0)
end

return M
