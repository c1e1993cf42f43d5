-- A fake Argo CD API server for the argocd package's tests, written with Assay's http.server.
--
-- It follows the Argo CD API as documented at
--   https://argo-cd.readthedocs.io/en/stable/developer-guide/api-docs/
-- and its Swagger (https://github.com/argoproj/argo-cd/blob/master/assets/swagger.json):
--   POST   /api/v1/session                               {username, password} -> {token}
--   GET    /api/v1/session/userinfo                      -> {loggedIn, username}
--   GET    /api/v1/applications            ?projects&selector&repo&appNamespace -> {items, metadata}
--   GET    /api/v1/applications/{name}     ?refresh=normal|hard&appNamespace&project
--   POST   /api/v1/applications            ?upsert&validate   body: v1alpha1Application
--   DELETE /api/v1/applications/{name}     ?cascade&propagationPolicy&appNamespace -> {}
--   POST   /api/v1/applications/{name}/sync      ApplicationSyncRequest {name, revision, prune, dryRun, syncOptions{items}}
--   POST   /api/v1/applications/{name}/rollback  ApplicationRollbackRequest {name, id, prune, dryRun}
--   GET    /api/v1/applications/{applicationName}/resource-tree -> {nodes, hosts}
--   GET    /api/v1/projects, /api/v1/projects/{name}
-- Errors are the gRPC gateway's {"error", "code", "message"} (16 unauthenticated -> 401,
-- 7 permission denied -> 403, 5 not found -> 404, 3 invalid argument -> 400).
--
-- It CHECKS every request (method, path, query parameters and their values, bearer token,
-- JSON body fields and types) and records what the real API would not take in
-- `fake.violations`; the tests assert it empty after each case. A sync starts an operation
-- that Succeeds (health Healthy, sync Synced) after `sync_polls` reads of the application.

local fake = {}

local function rpc_error(status, code, msg)
  return { status = status, json = { error = msg, code = code, message = msg } }
end

local function copy(v)
  if type(v) ~= "table" then return v end
  local c = {}
  for k, x in pairs(v) do c[k] = copy(x) end
  return c
end

--- opts: users ({name = password}), tokens ({token = {sub, role = "admin"|"reader"}}),
---       sync_polls (reads before a sync completes; default 2), fail_sync (the sync fails).
function fake.start(opts)
  opts = opts or {}
  local self = { violations = {}, requests = {}, apps = {}, projects = {}, sync_polls = opts.sync_polls or 2 }
  local tokens = copy(opts.tokens or {})
  local users = opts.users or {}
  local n_session = 0

  local function violation(req, text)
    self.violations[#self.violations + 1] = ("%s %s: %s"):format(req.method, req.path, text)
  end
  local function invalid(req, msg)
    violation(req, msg)
    return rpc_error(400, 3, msg)
  end

  -- Query parameters: only those the Swagger lists for the operation, each once unless repeatable.
  local function params(req, allowed, repeatable)
    for k, v in pairs(req.query) do
      if not allowed[k] then return nil, invalid(req, ("unexpected query parameter '%s'"):format(k)) end
      if type(v) == "table" and not (repeatable and repeatable[k]) then
        return nil, invalid(req, ("query parameter '%s' given more than once"):format(k))
      end
    end
    for _, b in ipairs { "upsert", "validate", "cascade" } do
      if req.query[b] and req.query[b] ~= "true" and req.query[b] ~= "false" then
        return nil, invalid(req, ("bad boolean for '%s': %s"):format(b, req.query[b]))
      end
    end
    return req.query
  end

  -- The session: a bearer token from POST /api/v1/session or an API token.
  local function auth(req)
    self.requests[#self.requests + 1] = req
    local h = req.headers.authorization
    if not h then return nil, rpc_error(401, 16, "no session information") end
    local tok = h:match("^Bearer (.+)$")
    if not tok then
      violation(req, "authorization is not a bearer token")
      return nil, rpc_error(401, 16, "no session information")
    end
    local who = tokens[tok]
    if not who then return nil, rpc_error(401, 16, "invalid session: token signature is invalid") end
    if req.headers.accept and not req.headers.accept:find("json", 1, true) and req.headers.accept ~= "*/*" then
      violation(req, "unexpected accept " .. req.headers.accept)
    end
    return who
  end
  local function denied(who, what, obj)
    if who.role == "admin" then return nil end
    if who.role == "reader" and (what == "get") then return nil end
    return rpc_error(403, 7, ("permission denied: applications, %s, %s, sub: %s"):format(what, obj, who.sub))
  end

  local function body_of(req, fields)
    local ok, b = pcall(json.parse, req.body or "")
    if not ok or type(b) ~= "table" then return nil, invalid(req, "invalid JSON body") end
    if not (req.headers["content-type"] or ""):find("application/json", 1, true) then
      return nil, invalid(req, "content type is not application/json")
    end
    if fields then
      for k, v in pairs(b) do
        local want = fields[k]
        if not want then return nil, invalid(req, ("unknown field %q in body"):format(k)) end
        if want ~= "any" and type(v) ~= want then
          return nil, invalid(req, ("field %q: %s expected, got %s"):format(k, want, type(v)))
        end
      end
    end
    return b
  end

  local function not_found(name)
    return rpc_error(404, 5, ('applications.argoproj.io "%s" not found'):format(name))
  end

  local function advance(app)
    local op = app.status.operationState
    if op and op.phase == "Running" then
      app._polls = app._polls + 1
      if app._polls >= self.sync_polls then
        if opts.fail_sync then
          op.phase = "Failed"
          op.message = "one or more objects failed to apply, reason: Deployment.apps \"web\" is invalid"
          app.status.health.status = "Degraded"
        else
          op.phase = "Succeeded"
          op.message = "successfully synced (all tasks run)"
          app.status.sync.status = "Synced"
          app.status.sync.revision = op.syncResult.revision
          app.status.health.status = "Healthy"
          local hist = app.status.history
          hist[#hist + 1] = { id = #hist, revision = op.syncResult.revision, deployedAt = "2026-12-06T12:00:00Z",
            source = copy(app.spec.source) }
        end
        op.finishedAt = "2026-12-06T12:00:01Z"
      end
    end
  end

  local function public(app)
    local c = copy(app)
    c._polls = nil
    return c
  end

  local function selector_matches(app, sel)
    if not sel then return true end
    for part in sel:gmatch("[^,]+") do
      local k, v = part:match("^%s*([^=!]+)=(.*)$")
      if not k then return false end
      if ((app.metadata.labels or {})[k]) ~= v then return false end
    end
    return true
  end

  local routes = { GET = {}, POST = {}, DELETE = {} }

  routes.POST["/api/v1/session"] = function(req)
    self.requests[#self.requests + 1] = req
    local b, err = body_of(req, { username = "string", password = "string", token = "string" })
    if not b then return err end
    if not b.username or users[b.username] == nil or users[b.username] ~= b.password then
      return rpc_error(401, 16, "Invalid username or password")
    end
    n_session = n_session + 1
    local tok = ("session-%d"):format(n_session)
    tokens[tok] = { sub = b.username, role = b.username == "admin" and "admin" or "reader" }
    return { status = 200, json = { token = tok } }
  end

  routes.GET["/api/v1/session/userinfo"] = function(req)
    local who, err = auth(req)
    if not who then return err end
    return { status = 200, json = { loggedIn = true, username = who.sub, iss = "argocd" } }
  end

  routes.GET["/api/v1/applications"] = function(req)
    local who, err = auth(req)
    if not who then return err end
    local q, perr = params(req, { name = true, refresh = true, projects = true, project = true, selector = true,
      repo = true, appNamespace = true, resourceVersion = true }, { projects = true, project = true })
    if not q then return perr end
    local projects = q.projects
    if type(projects) == "string" then projects = { projects } end
    local items = {}
    local names = {}
    for n in pairs(self.apps) do names[#names + 1] = n end
    table.sort(names)
    for _, n in ipairs(names) do
      local app = self.apps[n]
      local in_proj = not projects
      for _, p in ipairs(projects or {}) do if p == app.spec.project then in_proj = true end end
      if in_proj and selector_matches(app, q.selector) and (not q.repo or q.repo == app.spec.source.repoURL) then
        items[#items + 1] = public(app)
      end
    end
    return { status = 200, json = { metadata = { resourceVersion = "1" }, items = json.array(items) } }
  end

  routes.GET["/api/v1/applications/:name"] = function(req)
    local who, err = auth(req)
    if not who then return err end
    local q, perr = params(req, { refresh = true, projects = true, project = true, selector = true, repo = true,
      appNamespace = true, resourceVersion = true }, { projects = true, project = true })
    if not q then return perr end
    if q.refresh and q.refresh ~= "normal" and q.refresh ~= "hard" then
      return invalid(req, "unknown refresh type " .. q.refresh)
    end
    local app = self.apps[req.params.name]
    if not app then return not_found(req.params.name) end
    if q.refresh then
      app.metadata.annotations = app.metadata.annotations or {}
      self.last_refresh = q.refresh
    end
    advance(app)
    return { status = 200, json = public(app) }
  end

  routes.POST["/api/v1/applications"] = function(req)
    local who, err = auth(req)
    if not who then return err end
    local q, perr = params(req, { upsert = true, validate = true })
    if not q then return perr end
    local b, berr = body_of(req, { apiVersion = "string", kind = "string", metadata = "table", spec = "table",
      status = "table", operation = "table" })
    if not b then return berr end
    if b.kind ~= "Application" or b.apiVersion ~= "argoproj.io/v1alpha1" then
      return invalid(req, "kind Application, apiVersion argoproj.io/v1alpha1 expected")
    end
    local name = b.metadata.name
    if type(name) ~= "string" or type(b.spec.destination) ~= "table" or type(b.spec.source) ~= "table" then
      return invalid(req, "application spec is invalid: metadata.name, spec.source and spec.destination are required")
    end
    local d = denied(who, "create", (b.spec.project or "default") .. "/" .. name)
    if d then return d end
    b.spec.project = b.spec.project or "default"
    if not self.projects[b.spec.project] then
      return rpc_error(400, 3, ('application references project %s which does not exist'):format(b.spec.project))
    end
    if self.apps[name] and q.upsert ~= "true" then
      return rpc_error(400, 3, ("existing application spec is different, use upsert flag to force update"))
    end
    b.metadata.namespace = b.metadata.namespace or "argocd"
    b.metadata.uid = "uid-" .. name
    b.status = { health = { status = "Missing" }, sync = { status = "OutOfSync" }, history = json.array({}) }
    b._polls = 0
    self.apps[name] = b
    return { status = 200, json = public(b) }
  end

  routes.DELETE["/api/v1/applications/:name"] = function(req)
    local who, err = auth(req)
    if not who then return err end
    local q, perr = params(req, { cascade = true, propagationPolicy = true, appNamespace = true, project = true })
    if not q then return perr end
    if q.propagationPolicy and q.propagationPolicy ~= "foreground" and q.propagationPolicy ~= "background" then
      return invalid(req, "invalid propagation policy: " .. q.propagationPolicy)
    end
    local app = self.apps[req.params.name]
    if not app then return not_found(req.params.name) end
    local d = denied(who, "delete", app.spec.project .. "/" .. req.params.name)
    if d then return d end
    self.apps[req.params.name] = nil
    self.last_delete = q
    return { status = 200, json = {} }
  end

  routes.POST["/api/v1/applications/:name/sync"] = function(req)
    local who, err = auth(req)
    if not who then return err end
    if next(req.query) then return invalid(req, "sync takes no query parameters") end
    local b, berr = body_of(req, { name = "string", revision = "string", dryRun = "boolean", prune = "boolean",
      strategy = "table", resources = "table", manifests = "table", infos = "table", retryStrategy = "table",
      syncOptions = "table", appNamespace = "string", project = "string", revisions = "table",
      sourcePositions = "table" })
    if not b then return berr end
    if b.name ~= req.params.name then return invalid(req, "body name differs from the path's") end
    if b.syncOptions and type(b.syncOptions.items) ~= "table" then
      return invalid(req, "syncOptions must be {items: [...]}")
    end
    local app = self.apps[req.params.name]
    if not app then return not_found(req.params.name) end
    local d = denied(who, "sync", app.spec.project .. "/" .. req.params.name)
    if d then return d end
    if app.status.operationState and app.status.operationState.phase == "Running" then
      return rpc_error(400, 9, "another operation is already in progress")
    end
    self.last_sync = b
    local rev = b.revision or app.spec.source.targetRevision or "HEAD"
    app.operation = { sync = { revision = rev, prune = b.prune, dryRun = b.dryRun,
      syncOptions = b.syncOptions and b.syncOptions.items }, initiatedBy = { username = who.sub } }
    if not b.dryRun then
      app.status.operationState = { phase = "Running", message = "one or more tasks are running",
        operation = copy(app.operation), startedAt = "2026-12-06T12:00:00Z", syncResult = { revision = rev } }
      app.status.health.status = "Progressing"
      app._polls = 0
    end
    return { status = 200, json = public(app) }
  end

  routes.POST["/api/v1/applications/:name/rollback"] = function(req)
    local who, err = auth(req)
    if not who then return err end
    local b, berr = body_of(req, { name = "string", id = "any", dryRun = "boolean", prune = "boolean",
      appNamespace = "string", project = "string" })
    if not b then return berr end
    if math.type(b.id) ~= "integer" and not (type(b.id) == "string" and b.id:match("^%d+$")) then
      return invalid(req, "id must be an int64")
    end
    local app = self.apps[req.params.name]
    if not app then return not_found(req.params.name) end
    local d = denied(who, "sync", app.spec.project .. "/" .. req.params.name)
    if d then return d end
    if app.spec.syncPolicy and app.spec.syncPolicy.automated then
      return rpc_error(400, 9, ("rollback cannot be initiated when auto-sync is enabled"))
    end
    local entry
    for _, h in ipairs(app.status.history) do if h.id == tonumber(b.id) then entry = h end end
    if not entry then
      return rpc_error(400, 3, ("application %s does not have deployment with id %s"):format(req.params.name, tostring(b.id)))
    end
    app.status.operationState = { phase = "Running", message = "rollback", syncResult = { revision = entry.revision },
      startedAt = "2026-12-06T12:00:00Z" }
    app.status.sync.status = "OutOfSync"
    app._polls = 0
    return { status = 200, json = public(app) }
  end

  routes.GET["/api/v1/applications/:name/resource-tree"] = function(req)
    local who, err = auth(req)
    if not who then return err end
    local q, perr = params(req, { namespace = true, name = true, version = true, group = true, kind = true,
      appNamespace = true, project = true })
    if not q then return perr end
    local app = self.apps[req.params.name]
    if not app then return not_found(req.params.name) end
    return { status = 200, json = { nodes = {
      { group = "apps", version = "v1", kind = "Deployment", namespace = app.spec.destination.namespace,
        name = req.params.name, uid = "d1", health = { status = app.status.health.status } },
      { group = "apps", version = "v1", kind = "ReplicaSet", namespace = app.spec.destination.namespace,
        name = req.params.name .. "-5d8f", uid = "r1", parentRefs = { { kind = "Deployment", name = req.params.name } } },
    } } }
  end

  routes.GET["/api/v1/projects"] = function(req)
    local who, err = auth(req)
    if not who then return err end
    local q, perr = params(req, { name = true })
    if not q then return perr end
    local items = {}
    for _, p in pairs(self.projects) do items[#items + 1] = p end
    table.sort(items, function(a, b) return a.metadata.name < b.metadata.name end)
    return { status = 200, json = { metadata = {}, items = json.array(items) } }
  end

  routes.GET["/api/v1/projects/:name"] = function(req)
    local who, err = auth(req)
    if not who then return err end
    if next(req.query) then return invalid(req, "project get takes no query parameters") end
    local p = self.projects[req.params.name]
    if not p then return rpc_error(404, 5, ('appprojects.argoproj.io "%s" not found'):format(req.params.name)) end
    return { status = 200, json = p }
  end

  local server = http.server(routes, {
    host = "127.0.0.1", port = 0,
    after = function(req, resp)
      if resp.status == 404 and resp.json == nil and not tostring(resp.body or ""):find('"code"', 1, true) then
        violation(req, "no such endpoint in the Argo CD API")
        return { status = 404, body = "Not Found" }
      elseif resp.status == 405 then
        violation(req, "method not allowed on this endpoint")
      end
    end,
  })
  self.url = "http://127.0.0.1:" .. server.port

  function self:reset()
    self.violations, self.requests, self.apps = {}, {}, {}
    self.projects = { default = { metadata = { name = "default", namespace = "argocd" },
      spec = { sourceRepos = { "*" }, destinations = { { server = "*", namespace = "*" } } } } }
  end
  self:reset()
  function self:stop() server:stop() end
  function self:last() return self.requests[#self.requests] end
  return self
end

return fake
