--- assay.harbor: a client for the Harbor registry's API v2.0.
---
--- API followed: https://goharbor.io/docs/latest/build-customize-contribute/configure-swagger/
--- and its specification, https://github.com/goharbor/harbor/blob/main/api/v2.0/swagger.yaml
--- (base path /api/v2.0, HTTP basic auth, errors as {"errors": [{"code", "message"}]}).
---
--- local harbor = require("assay.harbor")
--- local c = harbor.client{url = "https://harbor.example.com", auth = {"admin", "Harbor12345"}}
--- c:project_create{name = "team-a"}
--- for _, a in ipairs(c:artifacts("team-a", "web")) do print(a.digest) end
--- c:scan("team-a", "web", "latest")

---@class harbor
local M = {}

---@class harbor.Client
---@field url string the server's base URL (without credentials)
local Client = {}
Client.__index = Client
Client.__tostring = function(self) return ("harbor.Client(%s)"):format(self.url) end

local DEFAULT_URL = "http://localhost"
local API = "/api/v2.0"
local CLIENT_OPTIONS = { "url", "auth", "timeout", "ca_cert", "insecure", "headers" }
local PAGE_SIZE = 100
local MAX_PAGES = 1000
-- What Harbor's scan overview is asked for (swagger: parameters.acceptVulnerabilities).
local ACCEPT_VULN = "application/vnd.security.vulnerability.report; version=1.1, " ..
  "application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0"

local api = require("assay.apiclient")
api.own_source()
local raise = api.raise

local function trim(s) return (s:gsub("^%s+", ""):gsub("%s+$", "")) end

-- Harbor's own error text: {"errors": [{"code": "NOT_FOUND", "message": "..."}]}.
local function error_text(resp)
  local body = resp.body or ""
  if body:match("^%s*{") then
    local ok, d = pcall(json.parse, body)
    if ok and type(d) == "table" and type(d.errors) == "table" then
      local parts = {}
      for _, e in ipairs(d.errors) do
        if type(e) == "table" then
          local m = e.message or ""
          parts[#parts + 1] = (e.code and (e.code .. ": ") or "") .. tostring(m)
        end
      end
      if #parts > 0 then return table.concat(parts, "; ") end
    end
    if ok and type(d) == "table" and type(d.message) == "string" then return d.message end
  end
  body = trim(body)
  if #body > 512 then body = body:sub(1, 512) .. "..." end
  return body
end

---@private
function Client:_request(fname, method, path, opts)
  opts = opts or {}
  local ropts = { query = opts.query, auth = self._auth, headers = opts.headers }
  if opts.body ~= nil then ropts.body = opts.body end
  if opts.timeout then ropts.timeout = opts.timeout end
  local ok, resp = pcall(self._http.request, self._http, method, self._prefix .. API .. path, ropts)
  if not ok then api.network_error("harbor", fname, resp) end
  return resp
end

---@private
function Client:_fail(fname, method, path, resp)
  error(("harbor.%s: %s %s: %d %s"):format(fname, method, self._prefix .. API .. path, resp.status,
    error_text(resp)), 0)
end

---@private
function Client:_get(fname, path, query, headers)
  local body, resp = self:_get_page(fname, path, query, headers)
  if body == nil then return nil, resp end
  return body
end

-- The decoded answer and the response (for its headers); nil and the body on 404.
---@private
function Client:_get_page(fname, path, query, headers)
  local resp = self:_request(fname, "GET", path, { query = query, headers = headers })
  if resp.status == 404 then return nil, resp.body end
  if resp.status ~= 200 then self:_fail(fname, "GET", path, resp) end
  local ok, body = pcall(resp.json, resp)
  if not ok then
    error(("harbor.%s: GET %s: %d answer is not JSON: %s"):format(fname, self._prefix .. API .. path,
      resp.status, error_text(resp)), 0)
  end
  return body, resp
end

-- A list: every page fetched (page, page_size), until Harbor's Link header has no rel="next".
---@private
function Client:_list(fname, path, query, headers)
  local out = {}
  local size = tonumber(query.page_size) or PAGE_SIZE
  for page = 1, MAX_PAGES do
    local q = {}
    for k, v in pairs(query) do q[k] = v end
    q.page, q.page_size = tostring(page), tostring(size)
    local body, resp = self:_get_page(fname, path, q, headers)
    if body == nil then self:_fail(fname, "GET", path, { status = 404, body = resp }) end
    for _, item in ipairs(body) do out[#out + 1] = item end
    local link = resp.headers.link or ""
    if not link:find('rel="next"', 1, true) or #body == 0 then return out end
  end
  error(("harbor.%s: GET %s: more than %d pages"):format(fname, self._prefix .. API .. path, MAX_PAGES), 0)
end

-- A write: `ok` statuses return true (or `answer(resp)`); 404 on a delete returns nil, body.
---@private
function Client:_write(fname, method, path, body, okstatus, nil_on_404)
  local resp = self:_request(fname, method, path, { body = body })
  if resp.status == 404 and nil_on_404 then return nil, resp.body end
  if resp.status ~= okstatus then self:_fail(fname, method, path, resp) end
  return true
end

---@class harbor.ClientOptions
---@field url? string base URL (default: $HARBOR_URL, then http://localhost); user:password@ in it becomes basic auth
---@field auth? table `{user, password}` (a user or a robot account: `{"robot$ci", secret}`); default $HARBOR_USERNAME/$HARBOR_PASSWORD
---@field timeout? number|false seconds for each request
---@field ca_cert? string PEM file path or PEM text added to the system roots
---@field insecure? boolean skip TLS verification
---@field headers? table<string,string> extra headers sent with every request

--- Creates a client; one pooled HTTP client per Harbor client.
---@param opts? harbor.ClientOptions
---@return harbor.Client
function M.client(opts)
  opts = api.check_options("harbor", "client", 1, opts, CLIENT_OPTIONS)
  if opts.url ~= nil and type(opts.url) ~= "string" then
    raise(("harbor.client: bad argument #1 'opts' (field 'url': string expected, got %s)"):format(type(opts.url)))
  end
  local raw = opts.url or api.env("HARBOR_URL") or DEFAULT_URL
  local parts, cred = api.split_url(raw)
  if not parts then
    raise(("harbor.client: bad url (an http(s) URL expected, got %q)"):format(api.mask_url(raw)))
  end
  local auth = opts.auth
  if auth == nil and cred then auth = { cred.user, cred.password or "" } end
  if auth == nil and api.env("HARBOR_USERNAME") then
    auth = { api.env("HARBOR_USERNAME"), api.env("HARBOR_PASSWORD") or "" }
  end
  if auth ~= nil and type(auth) ~= "table" then
    raise(("harbor.client: bad argument #1 'opts' (field 'auth': {user, password} expected, got %s)"):format(type(auth)))
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
  if not hok then raise("harbor.client: " .. api.strip_position(hc)) end
  return setmetatable({ url = base .. prefix, _http = hc, _prefix = prefix, _auth = auth }, Client)
end

-- Arguments ------------------------------------------------------------------------------------

local function check_str(fname, argn, argname, v)
  if type(v) ~= "string" or v == "" then
    raise(("harbor.%s: bad argument #%d '%s' (non-empty string expected, got %s)"):format(fname, argn,
      argname, type(v) == "string" and "an empty string" or type(v)))
  end
end

local function seg(s) return url.encode(s) end

-- Repository names may hold slashes; Harbor wants them URL-encoded twice ("a/b" -> "a%252Fb").
local function repo_seg(s) return url.encode(url.encode(s)) end

local function repo_path(fname, project, repo, argn)
  check_str(fname, argn, "project", project)
  check_str(fname, argn + 1, "repository", repo)
  return ("/projects/%s/repositories/%s"):format(seg(project), repo_seg(repo))
end

local function artifact_path(fname, project, repo, ref)
  local p = repo_path(fname, project, repo, 1)
  check_str(fname, 3, "reference", ref)
  return p .. "/artifacts/" .. seg(ref)
end

local function list_query(fname, argn, opts, allowed)
  opts = api.check_options("harbor", fname, argn, opts, allowed)
  local q = {}
  for k, v in pairs(opts) do
    if k == "page_size" then
      if math.type(v) ~= "integer" or v < 1 or v > 100 then
        raise(("harbor.%s: bad argument #%d 'opts' (field 'page_size': integer from 1 to 100 expected, got %s)"):format(
          fname, argn, tostring(v)))
      end
    end
    q[k] = tostring(v)
  end
  return q
end

-- System ---------------------------------------------------------------------------------------

--- `GET /api/v2.0/ping`: Harbor's "Pong", or raises.
---@return string
function Client:ping()
  local resp = self:_request("ping", "GET", "/ping")
  if resp.status ~= 200 then self:_fail("ping", "GET", "/ping", resp) end
  return trim(resp.body or "")
end

--- `GET /api/v2.0/health`: `{status = "healthy", components = {{name, status}, ...}}`.
---@return table
function Client:health()
  local h, body = self:_get("health", "/health")
  if h == nil then self:_fail("health", "GET", "/health", { status = 404, body = body }) end
  return h
end

-- Projects -------------------------------------------------------------------------------------

--- Projects (`GET /projects`), every page.
---@param opts? {name?: string, public?: boolean, owner?: string, q?: string, sort?: string, with_detail?: boolean, page_size?: integer}
---@return table[]
function Client:projects(opts)
  return self:_list("projects", "/projects", list_query("projects", 1, opts,
    { "name", "public", "owner", "q", "sort", "with_detail", "page_size" }))
end

--- One project by name (sent with `X-Is-Resource-Name: true`) or numeric id; nil and the body
--- when absent.
---@param name_or_id string|integer
---@return table|nil, string|nil
function Client:project(name_or_id)
  if math.type(name_or_id) == "integer" then
    return self:_get("project", "/projects/" .. name_or_id)
  end
  check_str("project", 1, "name_or_id", name_or_id)
  return self:_get("project", "/projects/" .. seg(name_or_id), nil, { ["X-Is-Resource-Name"] = "true" })
end

--- Whether a project of that name exists (`HEAD /projects?project_name=`).
---@param name string
---@return boolean
function Client:project_exists(name)
  check_str("project_exists", 1, "name", name)
  local resp = self:_request("project_exists", "HEAD", "/projects", { query = { project_name = name } })
  if resp.status == 200 then return true end
  if resp.status == 404 then return false end
  self:_fail("project_exists", "HEAD", "/projects", resp)
end

---@class harbor.ProjectCreate
---@field name string
---@field public? boolean default false
---@field storage_limit? integer bytes; -1 for unlimited
---@field metadata? table<string,string> Harbor's project metadata (`auto_scan = "true"`, ...)
---@field registry_id? integer for a proxy-cache project

--- Creates a project (`POST /projects`, 201); returns its id (from the Location header).
---@param spec harbor.ProjectCreate
---@return integer|true id
function Client:project_create(spec)
  spec = api.check_options("harbor", "project_create", 1, spec,
    { "name", "public", "storage_limit", "metadata", "registry_id" }, "spec")
  check_str("project_create", 1, "spec.name", spec.name)
  local metadata = {}
  for k, v in pairs(spec.metadata or {}) do metadata[k] = tostring(v) end
  if spec.public ~= nil then metadata.public = tostring(spec.public == true) end
  local body = { project_name = spec.name, storage_limit = spec.storage_limit,
    registry_id = spec.registry_id }
  if next(metadata) then body.metadata = metadata end
  if spec.public ~= nil then body.public = spec.public == true end
  local resp = self:_request("project_create", "POST", "/projects", { body = body })
  if resp.status ~= 201 then self:_fail("project_create", "POST", "/projects", resp) end
  local id = (resp.headers.location or ""):match("/projects/(%d+)$")
  return id and math.tointeger(tonumber(id)) or true
end

--- Deletes a project (it must hold no repositories: Harbor answers 412 otherwise); nil and the
--- body when absent.
---@param name string
---@return true|nil, string|nil
function Client:project_delete(name)
  check_str("project_delete", 1, "name", name)
  local resp = self:_request("project_delete", "DELETE", "/projects/" .. seg(name),
    { headers = { ["X-Is-Resource-Name"] = "true" } })
  if resp.status == 404 then return nil, resp.body end
  if resp.status ~= 200 then self:_fail("project_delete", "DELETE", "/projects/" .. seg(name), resp) end
  return true
end

-- Repositories, artifacts, tags ----------------------------------------------------------------

--- A project's repositories (`GET /projects/{project}/repositories`), every page.
---@param project string
---@param opts? {q?: string, sort?: string, page_size?: integer}
---@return table[]
function Client:repositories(project, opts)
  check_str("repositories", 1, "project", project)
  return self:_list("repositories", ("/projects/%s/repositories"):format(seg(project)),
    list_query("repositories", 2, opts, { "q", "sort", "page_size" }))
end

--- One repository (`"library/nginx"`'s repository is `"nginx"`; names with `/` are encoded as
--- Harbor asks); nil and the body when absent.
---@param project string
---@param repository string
---@return table|nil, string|nil
function Client:repository(project, repository)
  return self:_get("repository", repo_path("repository", project, repository, 1))
end

--- Deletes a repository and its artifacts; nil and the body when absent.
---@param project string
---@param repository string
---@return true|nil, string|nil
function Client:repository_delete(project, repository)
  return self:_write("repository_delete", "DELETE", repo_path("repository_delete", project, repository, 1),
    nil, 200, true)
end

local ARTIFACT_FLAGS = { "with_tag", "with_label", "with_scan_overview", "with_signature",
  "with_immutable_status", "with_accessory" }

local function artifact_query(fname, argn, opts, extra)
  local allowed = {}
  for _, k in ipairs(ARTIFACT_FLAGS) do allowed[#allowed + 1] = k end
  for _, k in ipairs(extra) do allowed[#allowed + 1] = k end
  local q = list_query(fname, argn, opts, allowed)
  local headers
  if q.with_scan_overview == "true" then headers = { ["X-Accept-Vulnerabilities"] = ACCEPT_VULN } end
  return q, headers
end

--- A repository's artifacts (`GET .../artifacts`), every page.
---@param project string
---@param repository string
---@param opts? {q?: string, sort?: string, page_size?: integer, with_tag?: boolean, with_label?: boolean, with_scan_overview?: boolean, with_signature?: boolean, with_immutable_status?: boolean, with_accessory?: boolean}
---@return table[]
function Client:artifacts(project, repository, opts)
  local path = repo_path("artifacts", project, repository, 1) .. "/artifacts"
  local q, headers = artifact_query("artifacts", 3, opts, { "q", "sort", "page_size" })
  return self:_list("artifacts", path, q, headers)
end

--- One artifact by tag or digest; nil and the body when absent.
---@param project string
---@param repository string
---@param reference string a tag or a digest (`sha256:...`)
---@param opts? {with_tag?: boolean, with_label?: boolean, with_scan_overview?: boolean, with_signature?: boolean, with_immutable_status?: boolean, with_accessory?: boolean}
---@return table|nil, string|nil
function Client:artifact(project, repository, reference, opts)
  local path = artifact_path("artifact", project, repository, reference)
  local q, headers = artifact_query("artifact", 4, opts, {})
  return self:_get("artifact", path, next(q) and q or nil, headers)
end

--- Deletes an artifact; nil and the body when absent.
---@return true|nil, string|nil
function Client:artifact_delete(project, repository, reference)
  return self:_write("artifact_delete", "DELETE", artifact_path("artifact_delete", project, repository, reference),
    nil, 200, true)
end

--- An artifact's tags (`GET .../artifacts/{reference}/tags`), every page.
---@param project string
---@param repository string
---@param reference string
---@return table[]
function Client:tags(project, repository, reference)
  return self:_list("tags", artifact_path("tags", project, repository, reference) .. "/tags", {})
end

--- Tags an artifact (`POST .../tags`, `{"name": tag}`, 201).
---@param project string
---@param repository string
---@param reference string
---@param tag string
---@return true
function Client:tag_create(project, repository, reference, tag)
  local path = artifact_path("tag_create", project, repository, reference) .. "/tags"
  check_str("tag_create", 4, "tag", tag)
  return (self:_write("tag_create", "POST", path, { name = tag }, 201))
end

--- Deletes a tag; nil and the body when absent.
---@return true|nil, string|nil
function Client:tag_delete(project, repository, reference, tag)
  local path = artifact_path("tag_delete", project, repository, reference)
  check_str("tag_delete", 4, "tag", tag)
  return self:_write("tag_delete", "DELETE", path .. "/tags/" .. seg(tag), nil, 200, true)
end

--- Starts a vulnerability scan (`POST .../scan`, 202 Accepted); poll `artifact(...,
--- {with_scan_overview = true})` for its `scan_overview`.
---@return true
function Client:scan(project, repository, reference)
  local path = artifact_path("scan", project, repository, reference) .. "/scan"
  return (self:_write("scan", "POST", path, nil, 202))
end

--- The vulnerability report (`GET .../additions/vulnerabilities`): by report MIME type.
---@return table|nil, string|nil
function Client:vulnerabilities(project, repository, reference)
  local path = artifact_path("vulnerabilities", project, repository, reference) .. "/additions/vulnerabilities"
  return self:_get("vulnerabilities", path, nil, { ["X-Accept-Vulnerabilities"] = ACCEPT_VULN })
end

-- Robot accounts -------------------------------------------------------------------------------

--- Robot accounts (`GET /robots`), every page; `q = "Level=project,ProjectID=3"` filters.
---@param opts? {q?: string, sort?: string, page_size?: integer}
---@return table[]
function Client:robots(opts)
  return self:_list("robots", "/robots", list_query("robots", 1, opts, { "q", "sort", "page_size" }))
end

--- One robot account by id; nil and the body when absent.
---@param id integer
---@return table|nil, string|nil
function Client:robot(id)
  if math.type(id) ~= "integer" then
    raise(("harbor.robot: bad argument #1 'id' (integer expected, got %s)"):format(math.type(id) or type(id)))
  end
  return self:_get("robot", "/robots/" .. id)
end

---@class harbor.RobotCreate
---@field name string
---@field level "system"|"project"
---@field permissions table[] `{{kind = "project", namespace = "team-a", access = {{resource = "repository", action = "pull"}}}}`
---@field duration? integer days; -1 (default) never expires
---@field description? string
---@field disable? boolean

--- Creates a robot account (`POST /robots`, 201). Returns Harbor's answer, the only time the
--- secret is shown: `{id, name = "robot$...", secret, creation_time, expires_at}`.
---@param spec harbor.RobotCreate
---@return table
function Client:robot_create(spec)
  spec = api.check_options("harbor", "robot_create", 1, spec,
    { "name", "level", "permissions", "duration", "description", "disable" }, "spec")
  check_str("robot_create", 1, "spec.name", spec.name)
  local level = spec.level or "project"
  if level ~= "system" and level ~= "project" then
    raise(("harbor.robot_create: bad argument #1 'spec' (field 'level': \"system\" or \"project\" expected, got %s)"):format(tostring(level)))
  end
  if type(spec.permissions) ~= "table" or #spec.permissions == 0 then
    raise("harbor.robot_create: bad argument #1 'spec' (field 'permissions': non-empty list expected)")
  end
  local body = { name = spec.name, level = level, permissions = spec.permissions,
    duration = spec.duration or -1, description = spec.description, disable = spec.disable == true }
  local resp = self:_request("robot_create", "POST", "/robots", { body = body })
  if resp.status ~= 201 then self:_fail("robot_create", "POST", "/robots", resp) end
  local ok, created = pcall(resp.json, resp)
  if not ok or type(created) ~= "table" then
    error(("harbor.robot_create: POST %s: %d answer is not JSON"):format(self._prefix .. API .. "/robots", resp.status), 0)
  end
  return created
end

--- Deletes a robot account; nil and the body when absent.
---@param id integer
---@return true|nil, string|nil
function Client:robot_delete(id)
  if math.type(id) ~= "integer" then
    raise(("harbor.robot_delete: bad argument #1 'id' (integer expected, got %s)"):format(math.type(id) or type(id)))
  end
  return self:_write("robot_delete", "DELETE", "/robots/" .. id, nil, 200, true)
end

return M
