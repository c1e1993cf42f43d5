-- A fake Harbor for the harbor package's tests, written with Assay's own http.server.
--
-- It follows Harbor's API v2.0 as specified in
--   https://github.com/goharbor/harbor/blob/main/api/v2.0/swagger.yaml
-- (documented at https://goharbor.io/docs/latest/build-customize-contribute/configure-swagger/):
-- base path /api/v2.0; basic auth; GET/HEAD/POST /projects, GET/DELETE
-- /projects/{project_name_or_id} (X-Is-Resource-Name), /projects/{p}/repositories[/{r}] with
-- the repository name URL-encoded twice when it holds '/', .../artifacts[/{reference}] with the
-- with_* flags, .../tags[/{tag}], POST .../scan (202), .../additions/vulnerabilities,
-- GET/POST /robots, GET/DELETE /robots/{id}, /ping ("Pong"), /health. Lists page with
-- page/page_size (at most 100) and answer X-Total-Count and Link (rel="next"/"prev"); creations
-- answer 201 with Location; errors are {"errors": [{"code", "message"}]}.
--
-- It CHECKS every request (method, path, query parameters per endpoint, content type and body
-- fields per the swagger's schemas, auth) and records what Harbor would not take in
-- `fake.violations`, which the tests assert empty. Users: admin/Harbor12345 (all),
-- dev/dev12345 (reads only: writes get 403).

local fake = {}

local API = "/api/v2.0"

function fake.start()
  local self = { violations = {}, requests = {} }
  local function violation(req, text)
    self.violations[#self.violations + 1] = ("%s %s: %s"):format(req.method, req.path, text)
  end
  local function err(status, code, msg)
    return { status = status, headers = { ["content-type"] = "application/json" },
      body = json.encode({ errors = { { code = code, message = msg } } }) }
  end

  local next_id = 1
  local projects, robots = {}, {}
  local function new_id() next_id = next_id + 1; return next_id end

  function self:reset()
    self.violations, self.requests = {}, {}
    projects, robots = {}, {}
    -- "library" with two repositories, as a fresh Harbor with pushed images would be.
    local lib = { project_id = 1, name = "library", metadata = { public = "true" }, repo_count = 2,
      owner_name = "admin", creation_time = "2026-12-01T10:00:00.000Z", repos = {} }
    projects.library = lib
    local function artifact(digest, tags)
      local tl = {}
      for i, t in ipairs(tags) do tl[i] = { id = new_id(), name = t, repository_id = 1, push_time = "2026-12-01T10:00:00.000Z" } end
      return { id = new_id(), digest = digest, type = "IMAGE", media_type = "application/vnd.oci.image.manifest.v1+json",
        size = 3210, tags = tl, project_id = 1, push_time = "2026-12-01T10:00:00.000Z" }
    end
    lib.repos["nginx"] = { id = 1, name = "library/nginx", project_id = 1, artifact_count = 2,
      artifacts = { artifact("sha256:" .. ("a"):rep(64), { "1.27", "latest" }), artifact("sha256:" .. ("b"):rep(64), { "1.26" }) } }
    lib.repos["tools/curl"] = { id = 2, name = "library/tools/curl", project_id = 1, artifact_count = 1,
      artifacts = { artifact("sha256:" .. ("c"):rep(64), { "8.5" }) } }
    for i = 1, 3 do
      local id = new_id()
      robots[id] = { id = id, name = "robot$library+bot" .. i, level = "project", duration = -1, disable = false,
        permissions = { { kind = "project", namespace = "library", access = { { resource = "repository", action = "pull" } } } } }
    end
  end
  self:reset()

  local function user(req)
    local h = req.headers.authorization or ""
    if h == "Basic " .. base64.encode("admin:Harbor12345") then return "admin" end
    if h == "Basic " .. base64.encode("dev:dev12345") then return "dev" end
  end

  -- Common checks; returns a response to stop with, or nil.
  local function guard(req, allowed_query, write)
    self.requests[#self.requests + 1] = req
    for k, v in pairs(req.query) do
      if not (allowed_query and allowed_query[k]) then violation(req, "unexpected query parameter " .. k) end
      if type(v) == "table" then violation(req, "query parameter " .. k .. " given more than once") end
    end
    if req.query.page_size then
      local n = tonumber(req.query.page_size)
      if not n or n < 1 or n > 100 then violation(req, "page_size " .. req.query.page_size) end
    end
    for _, b in ipairs({ "public", "with_detail", "with_tag", "with_label", "with_scan_overview", "with_signature",
        "with_immutable_status", "with_accessory" }) do
      local v = req.query[b]
      if v ~= nil and v ~= "true" and v ~= "false" then violation(req, b .. " must be a boolean, got " .. tostring(v)) end
    end
    if req.query.with_scan_overview == "true" and not req.headers["x-accept-vulnerabilities"] then
      violation(req, "with_scan_overview without X-Accept-Vulnerabilities")
    end
    local u = user(req)
    if not u then return err(401, "UNAUTHORIZED", "unauthorized") end
    if write and u ~= "admin" then return err(403, "FORBIDDEN", "forbidden") end
    if req.body and req.body ~= "" then
      if not (req.headers["content-type"] or ""):find("application/json", 1, true) then
        violation(req, "body without content type application/json")
      end
    end
  end

  local function json_body(req, allowed, required)
    local ok, b = pcall(json.parse, req.body or "")
    if not ok or type(b) ~= "table" then
      violation(req, "body is not a JSON object")
      return nil, err(400, "BAD_REQUEST", "invalid request body")
    end
    for k in pairs(b) do
      if not allowed[k] then violation(req, "unexpected body field " .. k) end
    end
    for _, k in ipairs(required or {}) do
      if b[k] == nil then
        violation(req, "missing body field " .. k)
        return nil, err(422, "UNPROCESSABLE_ENTITY", "validation failure list:\n" .. k .. " in body is required")
      end
    end
    return b
  end

  local function paged(req, items)
    local page = tonumber(req.query.page or "1") or 1
    local size = tonumber(req.query.page_size or "10") or 10
    local out = json.array()
    for i = (page - 1) * size + 1, math.min(page * size, #items) do out[#out + 1] = items[i] end
    local links = {}
    local base = req.path
    if page > 1 then links[#links + 1] = ('<%s?page=%d&page_size=%d>; rel="prev"'):format(base, page - 1, size) end
    if page * size < #items then links[#links + 1] = ('<%s?page=%d&page_size=%d>; rel="next"'):format(base, page + 1, size) end
    local headers = { ["content-type"] = "application/json", ["x-total-count"] = tostring(#items) }
    if #links > 0 then headers.link = table.concat(links, " , ") end
    return { status = 200, headers = headers, body = json.encode(out) }
  end

  local function project_of(req, name)
    local p = projects[name]
    if not p and name:match("^%d+$") and req.headers["x-is-resource-name"] ~= "true" then
      for _, q in pairs(projects) do if tostring(q.project_id) == name then p = q end end
    end
    return p
  end

  local function project_view(p)
    local v = {}
    for k, x in pairs(p) do if k ~= "repos" then v[k] = x end end
    return v
  end

  -- The repository path parameter: decoded once by the router, Harbor decodes it again.
  local function repo_name(req)
    local once = req.params.repo
    if once:find("/", 1, true) then violation(req, "repository name with '/' not URL-encoded twice") end
    return url.decode(once)
  end

  local function find_repo(req)
    local p = project_of(req, req.params.project)
    if not p then return nil, err(404, "NOT_FOUND", ("project %s not found"):format(req.params.project)) end
    local name = repo_name(req)
    local r = p.repos[name]
    if not r then return nil, err(404, "NOT_FOUND", ("repository %s/%s not found"):format(p.name, name)) end
    return r, nil, p
  end

  local function find_artifact(req)
    local r, e = find_repo(req)
    if not r then return nil, e end
    local ref = req.params.ref
    for i, a in ipairs(r.artifacts) do
      if a.digest == ref then return a, nil, r, i end
      for _, t in ipairs(a.tags) do if t.name == ref then return a, nil, r, i end end
    end
    return nil, err(404, "NOT_FOUND", ("artifact %s:%s not found"):format(r.name, ref)), r
  end

  local LIST = { q = true, sort = true, page = true, page_size = true }
  local function with(t) local o = {} for k in pairs(LIST) do o[k] = true end for _, k in ipairs(t) do o[k] = true end return o end
  local FLAGS = { "with_tag", "with_label", "with_scan_overview", "with_signature", "with_immutable_status", "with_accessory" }

  local routes = { GET = {}, POST = {}, DELETE = {} }
  local P = API .. "/projects/:project"
  local R = P .. "/repositories/:repo"
  local A = R .. "/artifacts/:ref"

  routes.GET[API .. "/ping"] = function(req)
    self.requests[#self.requests + 1] = req
    return { status = 200, headers = { ["content-type"] = "text/plain" }, body = "Pong" }
  end
  routes.GET[API .. "/health"] = function(req)
    local d = guard(req, {}); if d and d.status ~= 401 then return d end
    return { status = 200, json = { status = "healthy", components = {
      { name = "core", status = "healthy" }, { name = "registry", status = "healthy" }, { name = "trivy", status = "healthy" } } } }
  end

  routes.GET[API .. "/projects"] = function(req)
    if req.method == "HEAD" then
      local d = guard(req, { project_name = true }); if d then return d end
      if not req.query.project_name then violation(req, "HEAD /projects without project_name") end
      return { status = projects[req.query.project_name or ""] and 200 or 404, body = "" }
    end
    local d = guard(req, with{ "name", "public", "owner", "with_detail" }); if d then return d end
    local list = {}
    local names = {}
    for n in pairs(projects) do names[#names + 1] = n end
    table.sort(names)
    for _, n in ipairs(names) do
      local p = projects[n]
      if (not req.query.name or p.name:find(req.query.name, 1, true)) and
         (not req.query.public or p.metadata.public == req.query.public) then
        list[#list + 1] = project_view(p)
      end
    end
    return paged(req, list)
  end
  routes.POST[API .. "/projects"] = function(req)
    local d = guard(req, {}, true); if d then return d end
    local b, e = json_body(req, { project_name = true, public = true, metadata = true, storage_limit = true,
      registry_id = true, cve_allowlist = true }, { "project_name" })
    if not b then return e end
    if type(b.metadata) == "table" then
      for k, v in pairs(b.metadata) do
        if type(v) ~= "string" then violation(req, "metadata." .. k .. " must be a string (ProjectMetadata)") end
      end
    end
    if projects[b.project_name] then
      return err(409, "CONFLICT", ("The project named %s already exists"):format(b.project_name))
    end
    local id = new_id()
    local md = b.metadata or {}
    md.public = md.public or "false"
    projects[b.project_name] = { project_id = id, name = b.project_name, metadata = md, repo_count = 0,
      owner_name = "admin", creation_time = "2026-12-06T10:00:00.000Z", repos = {} }
    return { status = 201, headers = { location = API .. "/projects/" .. id }, body = "" }
  end
  routes.GET[P] = function(req)
    local d = guard(req, {}); if d then return d end
    local p = project_of(req, req.params.project)
    if not p then return err(404, "NOT_FOUND", ("project %s not found"):format(req.params.project)) end
    return { status = 200, json = project_view(p) }
  end
  routes.DELETE[P] = function(req)
    local d = guard(req, {}, true); if d then return d end
    local p = project_of(req, req.params.project)
    if not p then return err(404, "NOT_FOUND", ("project %s not found"):format(req.params.project)) end
    if next(p.repos) then
      return err(412, "PRECONDITION", ("the project %s contains repositories, cannot be deleted"):format(p.name))
    end
    projects[p.name] = nil
    return { status = 200, body = "" }
  end

  routes.GET[P .. "/repositories"] = function(req)
    local d = guard(req, LIST); if d then return d end
    local p = project_of(req, req.params.project)
    if not p then return err(404, "NOT_FOUND", ("project %s not found"):format(req.params.project)) end
    local names = {}
    for n in pairs(p.repos) do names[#names + 1] = n end
    table.sort(names)
    local list = {}
    for _, n in ipairs(names) do
      local r = p.repos[n]
      list[#list + 1] = { id = r.id, name = r.name, project_id = r.project_id, artifact_count = #r.artifacts }
    end
    return paged(req, list)
  end
  routes.GET[R] = function(req)
    local d = guard(req, {}); if d then return d end
    local r, e = find_repo(req)
    if not r then return e end
    return { status = 200, json = { id = r.id, name = r.name, project_id = r.project_id, artifact_count = #r.artifacts } }
  end
  routes.DELETE[R] = function(req)
    local d = guard(req, {}, true); if d then return d end
    local r, e, p = find_repo(req)
    if not r then return e end
    p.repos[repo_name(req)] = nil
    return { status = 200, body = "" }
  end

  local function artifact_view(req, a)
    local v = {}
    for k, x in pairs(a) do if k ~= "tags" and k ~= "scanned" then v[k] = x end end
    if req.query.with_tag ~= "false" then v.tags = a.tags end
    if req.query.with_scan_overview == "true" and a.scanned then
      v.scan_overview = { ["application/vnd.security.vulnerability.report; version=1.1"] = {
        scan_status = "Success", severity = "High", summary = { total = 2, fixable = 1, summary = { High = 1, Low = 1 } } } }
    end
    return v
  end

  routes.GET[R .. "/artifacts"] = function(req)
    local d = guard(req, with(FLAGS)); if d then return d end
    local r, e = find_repo(req)
    if not r then return e end
    local list = {}
    for _, a in ipairs(r.artifacts) do list[#list + 1] = artifact_view(req, a) end
    return paged(req, list)
  end
  routes.GET[A] = function(req)
    local allowed = { page = true, page_size = true }
    for _, f in ipairs(FLAGS) do allowed[f] = true end
    local d = guard(req, allowed); if d then return d end
    local a, e = find_artifact(req)
    if not a then return e end
    return { status = 200, json = artifact_view(req, a) }
  end
  routes.DELETE[A] = function(req)
    local d = guard(req, {}, true); if d then return d end
    local a, e, r, i = find_artifact(req)
    if not a then return e end
    table.remove(r.artifacts, i)
    return { status = 200, body = "" }
  end
  routes.GET[A .. "/tags"] = function(req)
    local d = guard(req, with{ "with_signature", "with_immutable_status" }); if d then return d end
    local a, e = find_artifact(req)
    if not a then return e end
    return paged(req, a.tags)
  end
  routes.POST[A .. "/tags"] = function(req)
    local d = guard(req, {}, true); if d then return d end
    local b, e = json_body(req, { id = true, repository_id = true, artifact_id = true, name = true,
      push_time = true, pull_time = true, immutable = true }, { "name" })
    if not b then return e end
    local a, e2, r = find_artifact(req)
    if not a then return e2 end
    for _, x in ipairs(r.artifacts) do
      for _, t in ipairs(x.tags) do
        if t.name == b.name then return err(409, "CONFLICT", ("the tag %s already exists under the repository %s"):format(b.name, r.name)) end
      end
    end
    a.tags[#a.tags + 1] = { id = new_id(), name = b.name, repository_id = r.id, push_time = "2026-12-06T10:00:00.000Z" }
    return { status = 201, headers = { location = req.path .. "/" .. b.name }, body = "" }
  end
  routes.DELETE[A .. "/tags/:tag"] = function(req)
    local d = guard(req, {}, true); if d then return d end
    local a, e = find_artifact(req)
    if not a then return e end
    for i, t in ipairs(a.tags) do
      if t.name == req.params.tag then table.remove(a.tags, i); return { status = 200, body = "" } end
    end
    return err(404, "NOT_FOUND", ("tag %s not found"):format(req.params.tag))
  end
  routes.POST[A .. "/scan"] = function(req)
    local d = guard(req, {}, true); if d then return d end
    if req.body and req.body ~= "" then
      local b = json_body(req, { scan_type = true })
      if b and b.scan_type and b.scan_type ~= "vulnerability" and b.scan_type ~= "sbom" then
        violation(req, "scan_type " .. tostring(b.scan_type))
      end
    end
    local a, e = find_artifact(req)
    if not a then return e end
    if self.no_scanner then
      return err(400, "BAD_REQUEST", "no scanner is configured and it is not possible to scan")
    end
    a.scanned = true
    return { status = 202, body = "" }
  end
  routes.GET[A .. "/additions/vulnerabilities"] = function(req)
    local d = guard(req, {}); if d then return d end
    local a, e = find_artifact(req)
    if not a then return e end
    if not req.headers["x-accept-vulnerabilities"] then violation(req, "no X-Accept-Vulnerabilities") end
    local report = { generated_at = "2026-12-06T10:00:00Z", severity = "High", vulnerabilities = {
      { id = "CVE-2026-0001", package = "openssl", version = "3.0.1", fix_version = "3.0.2", severity = "High" },
      { id = "CVE-2026-0002", package = "zlib", version = "1.2.13", severity = "Low" } } }
    return { status = 200, json = { ["application/vnd.security.vulnerability.report; version=1.1"] = a.scanned and report or {} } }
  end

  routes.GET[API .. "/robots"] = function(req)
    local d = guard(req, LIST); if d then return d end
    local ids = {}
    for id in pairs(robots) do ids[#ids + 1] = id end
    table.sort(ids)
    local list = {}
    for _, id in ipairs(ids) do list[#list + 1] = robots[id] end
    return paged(req, list)
  end
  routes.POST[API .. "/robots"] = function(req)
    local d = guard(req, {}, true); if d then return d end
    local b, e = json_body(req, { name = true, description = true, expires_at = true, duration = true,
      level = true, disable = true, secret = true, permissions = true }, { "name", "level", "permissions", "duration" })
    if not b then return e end
    if b.level ~= "system" and b.level ~= "project" then violation(req, "level " .. tostring(b.level)) end
    for i, p in ipairs(b.permissions) do
      if type(p) ~= "table" or type(p.kind) ~= "string" or type(p.namespace) ~= "string" or type(p.access) ~= "table" then
        violation(req, ("permissions[%d] is not a RobotPermission {kind, namespace, access}"):format(i))
      end
    end
    local id = new_id()
    local prefix = b.level == "project" and ("robot$" .. (b.permissions[1].namespace or "") .. "+") or "robot$"
    robots[id] = { id = id, name = prefix .. b.name, level = b.level, duration = b.duration,
      description = b.description, disable = b.disable == true, permissions = b.permissions }
    return { status = 201, headers = { location = API .. "/robots/" .. id }, json = {
      id = id, name = prefix .. b.name, secret = "s3cr3t-robot-" .. id, creation_time = "2026-12-06T10:00:00.000Z",
      expires_at = -1 } }
  end
  routes.GET[API .. "/robots/:id"] = function(req)
    local d = guard(req, {}); if d then return d end
    local r = robots[tonumber(req.params.id)]
    if not r then return err(404, "NOT_FOUND", ("robot %s not found"):format(req.params.id)) end
    return { status = 200, json = r }
  end
  routes.DELETE[API .. "/robots/:id"] = function(req)
    local d = guard(req, {}, true); if d then return d end
    local id = tonumber(req.params.id)
    if not robots[id] then return err(404, "NOT_FOUND", ("robot %s not found"):format(req.params.id)) end
    robots[id] = nil
    return { status = 200, body = "" }
  end

  local server = http.server(routes, {
    host = "127.0.0.1", port = 0,
    after = function(req, resp)
      if resp.status == 404 and not (resp.body or ""):find("NOT_FOUND", 1, true) and req.method ~= "HEAD" then
        violation(req, "no such endpoint in Harbor's API")
      elseif resp.status == 405 then
        violation(req, "method not allowed")
      end
    end,
  })
  self.url = "http://127.0.0.1:" .. server.port
  function self:stop() server:stop() end
  function self:last() return self.requests[#self.requests] end
  return self
end

return fake
