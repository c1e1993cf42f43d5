-- A fake Grafana for the grafana package's tests, written with Assay's own http.server.
--
-- It follows the Grafana HTTP API as documented at
--   https://grafana.com/docs/grafana/latest/developers/http_api/
-- and its pages:
--   auth (Authorization: Bearer <service account token | API key>, or Basic; X-Grafana-Org-Id)
--     https://grafana.com/docs/grafana/latest/developers/http_api/auth/
--   health  GET /api/health -> {commit, database, version}
--     https://grafana.com/docs/grafana/latest/developers/http_api/other/#health-api
--   search  GET /api/search ?query&tag&type=dash-db|dash-folder&dashboardUIDs&folderUIDs&starred&limit&page
--     https://grafana.com/docs/grafana/latest/developers/http_api/folder_dashboard_search/
--   dashboards  POST /api/dashboards/db {dashboard, folderUid, message, overwrite};
--     GET / DELETE /api/dashboards/uid/:uid
--     https://grafana.com/docs/grafana/latest/developers/http_api/dashboard/
--   folders  GET /api/folders ?limit&page&parentUid; GET/DELETE /api/folders/:uid; POST /api/folders
--     https://grafana.com/docs/grafana/latest/developers/http_api/folder/
--   data sources  GET /api/datasources, /uid/:uid, /name/:name, /uid/:uid/health
--     https://grafana.com/docs/grafana/latest/developers/http_api/data_source/
--   annotations  GET /api/annotations ?from&to (epoch ms)&limit&tags...; POST /api/annotations
--     https://grafana.com/docs/grafana/latest/developers/http_api/annotations/
--   alert rules  GET/POST /api/v1/provisioning/alert-rules, GET/PUT .../:uid, X-Disable-Provenance
--     https://grafana.com/docs/grafana/latest/developers/http_api/alerting_provisioning/
--   service accounts  POST /api/serviceaccounts, GET /api/serviceaccounts/search, GET/DELETE
--     /api/serviceaccounts/:id, GET/POST /api/serviceaccounts/:id/tokens, DELETE .../tokens/:tokenId
--     https://grafana.com/docs/grafana/latest/developers/http_api/serviceaccount/
-- Errors are Grafana's JSON {"message": ...}; 403 is the access-control answer
-- {accessErrorId, message, title = "Access denied"}.
--
-- It CHECKS every request: an unknown path or method, an unknown or malformed query parameter,
-- a body without application/json, an unknown or mistyped body field, a time in seconds where
-- Grafana wants milliseconds ... is answered as Grafana would (404 / 405 / 400) AND recorded in
-- `fake.violations`, which the tests assert empty after each case.

local fake = {}

local function slugify(s)
  return (s:lower():gsub("[^%w]+", "-"):gsub("^%-+", ""):gsub("%-+$", ""))
end

local function copy(t)
  if type(t) ~= "table" then return t end
  local c = {}
  for k, v in pairs(t) do c[k] = copy(v) end
  return setmetatable(c, getmetatable(t))
end

local function now_iso() return time.iso(time()) end

local ALPHANUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
local function new_uid(n)
  local out = {}
  for i = 1, n or 14 do
    local k = math.random(#ALPHANUM)
    out[i] = ALPHANUM:sub(k, k)
  end
  return table.concat(out)
end

--- Starts a fake Grafana on loopback.
--- opts: token (an Admin service account token), viewer_token (a Viewer's: reads only, writes
---       get 403), basic ({user, password} of an admin), orgs (list of org ids the credentials
---       belong to; default {1}).
function fake.start(opts)
  opts = opts or {}
  local orgs = {}
  for _, o in ipairs(opts.orgs or { 1 }) do orgs[tostring(o)] = true end

  local self = { violations = {}, requests = {} }

  function self:reset()
    self.violations, self.requests = {}, {}
    self.dashboards, self.folders, self.annotations, self.rules = {}, {}, {}, {}
    self.accounts, self.next_id = {}, 100
    self.datasources = {
      { id = 1, uid = "prom-main", orgId = 1, name = "Prometheus Main", type = "prometheus",
        typeName = "Prometheus", typeLogoUrl = "public/app/plugins/datasource/prometheus/img/prometheus_logo.svg",
        access = "proxy", url = "http://prometheus:9090", user = "", database = "", basicAuth = false,
        isDefault = true, jsonData = { httpMethod = "POST" }, readOnly = false },
      { id = 2, uid = "loki-logs", orgId = 1, name = "Loki Logs", type = "loki", typeName = "Loki",
        typeLogoUrl = "public/app/plugins/datasource/loki/img/loki_icon.svg", access = "proxy",
        url = "http://loki:3100", user = "", database = "", basicAuth = false, isDefault = false,
        jsonData = {}, readOnly = true },
    }
  end
  self:reset()

  local function id()
    self.next_id = self.next_id + 1
    return self.next_id
  end

  local function violation(req, text)
    self.violations[#self.violations + 1] = ("%s %s: %s"):format(req.method, req.path, text)
  end
  -- Every answer of a route carries x-fake-route, telling it from the server's own 404.
  local function answer(status, body)
    return { status = status, headers = { ["x-fake-route"] = "1" }, json = body }
  end
  local function msg(status, text) return answer(status, { message = text }) end
  local function bad(req, text)
    violation(req, text)
    return msg(400, text)
  end

  -- Authentication and authorization ----------------------------------------------------------
  local function guard(req, permission)
    self.requests[#self.requests + 1] = req
    local h = req.headers.authorization
    local role
    if h == nil then
      return answer(401, { message = "Unauthorized", messageId = "auth.unauthorized", statusCode = 401, traceID = "" })
    elseif h:match("^Bearer ") then
      local token = h:sub(8)
      if opts.token and token == opts.token then role = "Admin"
      elseif opts.viewer_token and token == opts.viewer_token then role = "Viewer"
      else
        return answer(401, { message = "Invalid API key", messageId = "api-keys.invalid", statusCode = 401, traceID = "" })
      end
    elseif h:match("^Basic ") then
      local ok, decoded = pcall(base64.decode, h:sub(7))
      if ok and opts.basic and decoded == opts.basic[1] .. ":" .. opts.basic[2] then role = "Admin"
      else
        return answer(401, { message = "Invalid username or password", messageId = "password-auth.failed",
          statusCode = 401, traceID = "" })
      end
    else
      violation(req, "authorization header neither Bearer nor Basic")
      return answer(401, { message = "Unauthorized", messageId = "auth.unauthorized", statusCode = 401, traceID = "" })
    end
    local org = req.headers["x-grafana-org-id"]
    if org ~= nil then
      if not org:match("^%d+$") then
        violation(req, "X-Grafana-Org-Id must be a number, got " .. org)
        return msg(400, "invalid X-Grafana-Org-Id")
      end
      if not orgs[org] then
        -- not documented; Grafana refuses credentials outside the org as unauthenticated
        return answer(401, { message = "Unauthorized", messageId = "auth.unauthorized", statusCode = 401, traceID = "" })
      end
    end
    local accept = req.headers.accept
    if accept and not (accept:find("application/json", 1, true) or accept:find("*/*", 1, true)) then
      violation(req, "unexpected accept " .. accept)
    end
    if permission and role == "Viewer" and not permission:match(":read$") then
      return answer(403, { accessErrorId = "ACE2436918027", title = "Access denied",
        message = "You'll need additional permissions to perform this action. Permissions needed: " .. permission })
    end
    return nil
  end

  local function params(req, allowed, repeatable)
    for k, v in pairs(req.query) do
      if not allowed[k] then return nil, bad(req, ("unexpected query parameter '%s'"):format(k)) end
      if type(v) == "table" and not (repeatable and repeatable[k]) then
        return nil, bad(req, ("query parameter '%s' given more than once"):format(k))
      end
    end
    return req.query
  end

  local function int_param(req, q, name, min)
    local v = q[name]
    if v == nil then return nil end
    if not v:match("^%-?%d+$") or tonumber(v) < (min or 0) then
      return nil, bad(req, ("query parameter '%s' must be an integer, got %q"):format(name, v))
    end
    return math.tointeger(tonumber(v))
  end

  local function bool_param(req, q, name)
    local v = q[name]
    if v == nil then return nil end
    if v ~= "true" and v ~= "false" then
      return nil, bad(req, ("query parameter '%s' must be true or false, got %q"):format(name, v))
    end
    return v == "true"
  end

  local function as_list(v)
    if v == nil then return {} end
    if type(v) == "string" then return { v } end
    return v
  end

  -- A JSON body: application/json, an object, only `fields` (name -> Lua type or checker).
  local function body(req, fields, required)
    local ctype = req.headers["content-type"] or ""
    if not ctype:match("^application/json") then
      return nil, bad(req, "content-type must be application/json, got " .. ctype)
    end
    local ok, b = pcall(json.parse, req.body)
    if not ok or type(b) ~= "table" then return nil, bad(req, "bad request data") end
    for k, v in pairs(b) do
      local want = fields[k]
      if want == nil then return nil, bad(req, ("unknown field %q"):format(tostring(k))) end
      if v ~= json.null then
        if type(want) == "function" then
          local err = want(v)
          if err then return nil, bad(req, ("field %q: %s"):format(k, err)) end
        elseif want ~= "any" and type(v) ~= want then
          return nil, bad(req, ("field %q: %s expected, got %s"):format(k, want, type(v)))
        end
      end
    end
    for _, k in ipairs(required or {}) do
      if b[k] == nil or b[k] == json.null or b[k] == "" then return nil, false, k, b end
    end
    return b
  end

  local function is_int(v)
    if math.type(v) ~= "integer" then return "integer expected, got " .. (math.type(v) or type(v)) end
  end
  local function is_ms(v)
    if math.type(v) ~= "integer" then return "epoch milliseconds (integer) expected" end
    if v < 100000000000 then return ("%d is not epoch milliseconds (seconds?)"):format(v) end
  end
  local function string_list(v)
    if type(v) ~= "table" then return "list of strings expected" end
    for k, s in pairs(v) do
      if math.type(k) ~= "integer" or type(s) ~= "string" then return "list of strings expected" end
    end
  end

  local routes = { GET = {}, POST = {}, PUT = {}, DELETE = {} }

  -- Health --------------------------------------------------------------------------------------
  routes.GET["/api/health"] = function(req)
    self.requests[#self.requests + 1] = req
    if next(req.query) then return bad(req, "/api/health takes no query parameters") end
    if self.database_failing then
      return answer(503, { commit = "abc1234", database = "failing", version = "11.3.0" })
    end
    return answer(200, { commit = "abc1234", database = "ok", version = "11.3.0" })
  end

  -- Search --------------------------------------------------------------------------------------
  routes.GET["/api/search"] = function(req)
    local denied = guard(req, "dashboards:read")
    if denied then return denied end
    local q, err = params(req, { query = true, tag = true, type = true, dashboardUIDs = true, folderUIDs = true,
      starred = true, limit = true, page = true, sort = true, permission = true },
      { tag = true, dashboardUIDs = true, folderUIDs = true })
    if not q then return err end
    if q.type and q.type ~= "dash-db" and q.type ~= "dash-folder" then
      return bad(req, "type must be dash-db or dash-folder, got " .. q.type)
    end
    local limit, lerr = int_param(req, q, "limit", 1)
    if lerr then return lerr end
    local page, perr = int_param(req, q, "page", 1)
    if perr then return perr end
    local _, serr = bool_param(req, q, "starred")
    if serr then return serr end
    if q.sort and q.sort ~= "alpha-asc" and q.sort ~= "alpha-desc" then
      return bad(req, "sort must be alpha-asc or alpha-desc")
    end
    if q.permission and q.permission ~= "View" and q.permission ~= "Edit" then
      return bad(req, "permission must be View or Edit")
    end
    local hits = {}
    local tags, duids, fuids = as_list(q.tag), as_list(q.dashboardUIDs), as_list(q.folderUIDs)
    local function in_list(list, v)
      if #list == 0 then return true end
      for _, x in ipairs(list) do if x == v then return true end end
      return false
    end
    local function title_ok(title)
      return not q.query or title:lower():find(q.query:lower(), 1, true) ~= nil
    end
    if q.type ~= "dash-db" and #duids == 0 and #tags == 0 then
      for _, f in pairs(self.folders) do
        if title_ok(f.title) then
          hits[#hits + 1] = { id = f.id, uid = f.uid, title = f.title, uri = "db/" .. slugify(f.title),
            url = f.url, slug = "", type = "dash-folder", tags = json.array({}), isStarred = false,
            sortMeta = 0 }
        end
      end
    end
    if q.type ~= "dash-folder" then
      for uid, d in pairs(self.dashboards) do
        local dtags = d.dashboard.tags or {}
        local has_all = true
        for _, t in ipairs(tags) do
          local found = false
          for _, x in ipairs(dtags) do if x == t then found = true end end
          if not found then has_all = false end
        end
        local folder_uid = d.meta.folderUid ~= "" and d.meta.folderUid or "general"
        if has_all and title_ok(d.dashboard.title) and in_list(duids, uid) and in_list(fuids, folder_uid) then
          local hit = { id = d.dashboard.id, uid = uid, title = d.dashboard.title,
            uri = "db/" .. d.meta.slug, url = d.meta.url, slug = "", type = "dash-db",
            tags = json.array(copy(dtags)), isStarred = false, sortMeta = 0 }
          if d.meta.folderUid ~= "" then
            hit.folderUid = d.meta.folderUid
            hit.folderTitle = d.meta.folderTitle
            hit.folderUrl = d.meta.folderUrl
          end
          hits[#hits + 1] = hit
        end
      end
    end
    table.sort(hits, function(a, b)
      if q.sort == "alpha-desc" then return a.title:lower() > b.title:lower() end
      return a.title:lower() < b.title:lower()
    end)
    limit, page = limit or 1000, page or 1
    local out = {}
    for i = (page - 1) * limit + 1, math.min(#hits, page * limit) do out[#out + 1] = hits[i] end
    return answer(200, json.array(out))
  end

  -- Dashboards ----------------------------------------------------------------------------------
  routes.POST["/api/dashboards/db"] = function(req)
    local denied = guard(req, "dashboards:write")
    if denied then return denied end
    if next(req.query) then return bad(req, "POST /api/dashboards/db takes no query parameters") end
    local b, err = body(req, { dashboard = "table", folderUid = "string", folderId = is_int, message = "string",
      overwrite = "boolean" })
    if not b then return err end
    if type(b.dashboard) ~= "table" then return bad(req, "field \"dashboard\" is required") end
    if b.folderId ~= nil then violation(req, "folderId is deprecated: use folderUid") end
    local d = b.dashboard
    if type(d.title) ~= "string" or d.title:match("^%s*$") then
      return msg(400, "Dashboard title cannot be empty")
    end
    if d.uid ~= nil and d.uid ~= json.null and (type(d.uid) ~= "string" or #d.uid > 40) then
      return msg(400, "uid too long, max 40 characters")
    end
    local folder
    if b.folderUid and b.folderUid ~= "" then
      folder = self.folders[b.folderUid]
      if not folder then return msg(400, "folder not found") end
    end
    local uid = (type(d.uid) == "string" and d.uid ~= "") and d.uid or nil
    local existing = uid and self.dashboards[uid]
    if d.id ~= nil and d.id ~= json.null then
      -- an id refers to a dashboard that exists, and must agree with the uid
      local by_id
      for _, x in pairs(self.dashboards) do if x.dashboard.id == d.id then by_id = x end end
      if not by_id then return msg(404, "Dashboard not found") end
      if existing and existing ~= by_id then
        return answer(400, { message = "Dashboard with the same uid already exists", status = "uid-exists" })
      end
      existing = by_id
    end
    local folder_uid = folder and folder.uid or ""
    for _, x in pairs(self.dashboards) do
      if x ~= existing and x.meta.folderUid == folder_uid and x.dashboard.title:lower() == d.title:lower() then
        if not b.overwrite then
          return answer(412, { message = "A dashboard with the same name in the folder already exists",
            status = "name-exists" })
        end
      end
    end
    if existing and not b.overwrite and d.version ~= existing.dashboard.version then
      return answer(412, { message = "The dashboard has been changed by someone else", status = "version-mismatch" })
    end
    local stored = copy(d)
    stored.uid = uid or (existing and existing.dashboard.uid) or new_uid(9)
    stored.id = existing and existing.dashboard.id or id()
    stored.version = existing and existing.dashboard.version + 1 or 1
    local slug = slugify(d.title)
    local meta = {
      type = "db", canSave = true, canEdit = true, canAdmin = true, canStar = true, canDelete = true,
      slug = slug, url = "/d/" .. stored.uid .. "/" .. slug, expires = "0001-01-01T00:00:00Z",
      created = existing and existing.meta.created or now_iso(), updated = now_iso(),
      updatedBy = "admin", createdBy = existing and existing.meta.createdBy or "admin",
      version = stored.version, hasAcl = false, isFolder = false, folderId = folder and folder.id or 0,
      folderUid = folder_uid, folderTitle = folder and folder.title or "General",
      folderUrl = folder and folder.url or "", provisioned = false, provisionedExternalId = "",
      isStarred = false,
    }
    self.dashboards[stored.uid] = { dashboard = stored, meta = meta, message = b.message }
    return answer(200, { id = stored.id, uid = stored.uid, url = meta.url, status = "success",
      version = stored.version, slug = slug, folderUid = folder_uid })
  end

  routes.GET["/api/dashboards/uid/:uid"] = function(req)
    local denied = guard(req, "dashboards:read")
    if denied then return denied end
    if next(req.query) then return bad(req, "takes no query parameters") end
    local d = self.dashboards[req.params.uid]
    if not d then return msg(404, "Dashboard not found") end
    return answer(200, { dashboard = d.dashboard, meta = d.meta })
  end

  routes.DELETE["/api/dashboards/uid/:uid"] = function(req)
    local denied = guard(req, "dashboards:delete")
    if denied then return denied end
    if next(req.query) then return bad(req, "takes no query parameters") end
    local d = self.dashboards[req.params.uid]
    if not d then return msg(404, "Dashboard not found") end
    self.dashboards[req.params.uid] = nil
    return answer(200, { title = d.dashboard.title, message = "Dashboard " .. d.dashboard.title .. " deleted",
      id = d.dashboard.id })
  end

  -- Folders -------------------------------------------------------------------------------------
  local function folder_json(f)
    return { id = f.id, uid = f.uid, title = f.title, url = f.url, hasAcl = false, canSave = true,
      canEdit = true, canAdmin = true, canDelete = true, createdBy = "admin", created = f.created,
      updatedBy = "admin", updated = f.created, version = 1, parentUid = f.parentUid,
      description = f.description }
  end

  routes.GET["/api/folders"] = function(req)
    local denied = guard(req, "folders:read")
    if denied then return denied end
    local q, err = params(req, { limit = true, page = true, parentUid = true, permission = true })
    if not q then return err end
    local limit, lerr = int_param(req, q, "limit", 1)
    if lerr then return lerr end
    local page, perr = int_param(req, q, "page", 1)
    if perr then return perr end
    local all = {}
    for _, f in pairs(self.folders) do
      if (f.parentUid or "") == (q.parentUid or "") then
        all[#all + 1] = { id = f.id, uid = f.uid, title = f.title, parentUid = f.parentUid }
      end
    end
    table.sort(all, function(a, b) return a.title < b.title end)
    limit, page = limit or 1000, page or 1
    local out = {}
    for i = (page - 1) * limit + 1, math.min(#all, page * limit) do out[#out + 1] = all[i] end
    return answer(200, json.array(out))
  end

  routes.GET["/api/folders/:uid"] = function(req)
    local denied = guard(req, "folders:read")
    if denied then return denied end
    if next(req.query) then return bad(req, "takes no query parameters") end
    local f = self.folders[req.params.uid]
    if not f then return msg(404, "folder not found") end
    return answer(200, folder_json(f))
  end

  routes.POST["/api/folders"] = function(req)
    local denied = guard(req, "folders:create")
    if denied then return denied end
    if next(req.query) then return bad(req, "takes no query parameters") end
    local b, err, missing = body(req, { uid = "string", title = "string", parentUid = "string",
      description = "string" }, { "title" })
    if not b then
      if err == false then return msg(400, "folder title cannot be empty") end
      return err
    end
    if b.uid and (#b.uid > 40 or not b.uid:match("^[%w%-_]+$")) then
      return msg(400, "uid contains illegal characters")
    end
    if b.parentUid and not self.folders[b.parentUid] then return msg(404, "folder not found") end
    local uid = b.uid or new_uid(14)
    if self.folders[uid] then return msg(409, "a folder with the same uid already exists") end
    for _, f in pairs(self.folders) do
      if f.title == b.title and (f.parentUid or "") == (b.parentUid or "") then
        return msg(409, "a folder with the same name already exists")
      end
    end
    local f = { id = id(), uid = uid, title = b.title, url = "/dashboards/f/" .. uid .. "/" .. slugify(b.title),
      created = now_iso(), parentUid = b.parentUid, description = b.description }
    self.folders[uid] = f
    return answer(200, folder_json(f))
  end

  routes.DELETE["/api/folders/:uid"] = function(req)
    local denied = guard(req, "folders:delete")
    if denied then return denied end
    local q, err = params(req, { forceDeleteRules = true })
    if not q then return err end
    local force, ferr = bool_param(req, q, "forceDeleteRules")
    if ferr then return ferr end
    local f = self.folders[req.params.uid]
    if not f then return msg(404, "folder not found") end
    for _, r in pairs(self.rules) do
      if r.folderUID == f.uid and not force then
        return msg(400, "folder cannot be deleted: folder contains alert rules")
      end
    end
    for uid, d in pairs(self.dashboards) do
      if d.meta.folderUid == f.uid then self.dashboards[uid] = nil end
    end
    for uid, r in pairs(self.rules) do if r.folderUID == f.uid then self.rules[uid] = nil end end
    self.folders[f.uid] = nil
    return answer(200, { message = "Folder " .. f.title .. " deleted", id = f.id, title = f.title })
  end

  -- Data sources --------------------------------------------------------------------------------
  routes.GET["/api/datasources"] = function(req)
    local denied = guard(req, "datasources:read")
    if denied then return denied end
    if next(req.query) then return bad(req, "takes no query parameters") end
    return answer(200, json.array(copy(self.datasources)))
  end

  local function find_ds(field, value)
    for _, ds in ipairs(self.datasources) do if ds[field] == value then return ds end end
  end

  routes.GET["/api/datasources/uid/:uid"] = function(req)
    local denied = guard(req, "datasources:read")
    if denied then return denied end
    if next(req.query) then return bad(req, "takes no query parameters") end
    local ds = find_ds("uid", req.params.uid)
    if not ds then return msg(404, "Data source not found") end
    return answer(200, ds)
  end

  routes.GET["/api/datasources/name/:name"] = function(req)
    local denied = guard(req, "datasources:read")
    if denied then return denied end
    if next(req.query) then return bad(req, "takes no query parameters") end
    if req.path:find(" ", 1, true) then return bad(req, "unescaped space in the path") end
    local ds = find_ds("name", req.params.name)
    if not ds then return msg(404, "Data source not found") end
    return answer(200, ds)
  end

  routes.GET["/api/datasources/uid/:uid/health"] = function(req)
    local denied = guard(req, "datasources:query")
    if denied then return denied end
    if next(req.query) then return bad(req, "takes no query parameters") end
    local ds = find_ds("uid", req.params.uid)
    if not ds then return msg(404, "Data source not found") end
    if ds.type == "loki" then
      return answer(400, { status = "ERROR",
        message = "Unable to connect with Loki. Please check the server logs for more details." })
    end
    return answer(200, { status = "OK", message = "Successfully queried the Prometheus API." })
  end

  -- Annotations ---------------------------------------------------------------------------------
  routes.GET["/api/annotations"] = function(req)
    local denied = guard(req, "annotations:read")
    if denied then return denied end
    local q, err = params(req, { from = true, to = true, limit = true, alertId = true, dashboardId = true,
      dashboardUID = true, panelId = true, userId = true, type = true, tags = true, matchAny = true },
      { tags = true })
    if not q then return err end
    for _, name in ipairs({ "from", "to" }) do
      local v, e = int_param(req, q, name, 0)
      if e then return e end
      if v and v < 100000000000 then
        return bad(req, ("'%s' must be epoch milliseconds, got %s (seconds?)"):format(name, q[name]))
      end
    end
    for _, name in ipairs({ "limit", "alertId", "dashboardId", "panelId", "userId" }) do
      local _, e = int_param(req, q, name, 0)
      if e then return e end
    end
    local match_any, merr = bool_param(req, q, "matchAny")
    if merr then return merr end
    if q.type and q.type ~= "alert" and q.type ~= "annotation" then
      return bad(req, "type must be alert or annotation")
    end
    local from, to = tonumber(q.from), tonumber(q.to)
    local tags = as_list(q.tags)
    local out = {}
    for _, a in ipairs(self.annotations) do
      local ok = true
      if from and a.timeEnd < from then ok = false end
      if to and a.time > to then ok = false end
      if q.dashboardUID and a.dashboardUID ~= q.dashboardUID then ok = false end
      if q.panelId and a.panelId ~= tonumber(q.panelId) then ok = false end
      if q.type == "alert" then ok = false end
      if #tags > 0 then
        local n = 0
        for _, t in ipairs(tags) do
          for _, x in ipairs(a.tags) do if x == t then n = n + 1; break end end
        end
        if match_any then ok = ok and n > 0 else ok = ok and n == #tags end
      end
      if ok then out[#out + 1] = copy(a) end
    end
    table.sort(out, function(x, y) return x.time > y.time end)
    local limit = tonumber(q.limit) or 100
    while #out > limit do table.remove(out) end
    return answer(200, json.array(out))
  end

  routes.POST["/api/annotations"] = function(req)
    local denied = guard(req, "annotations:write")
    if denied then return denied end
    if next(req.query) then return bad(req, "takes no query parameters") end
    local b, err = body(req, { dashboardUID = "string", dashboardId = is_int, panelId = is_int, time = is_ms,
      timeEnd = is_ms, tags = string_list, text = "string", data = "table" })
    if not b then return err end
    if b.dashboardId ~= nil then violation(req, "dashboardId is deprecated: use dashboardUID") end
    if type(b.text) ~= "string" or b.text == "" then return msg(400, "text field should not be empty") end
    if b.dashboardUID and not self.dashboards[b.dashboardUID] then
      return msg(404, "Dashboard not found")
    end
    local t = b.time or math.floor(time() * 1000)
    local a = { id = id(), alertId = 0, alertName = "", dashboardId = 0, dashboardUID = b.dashboardUID or "",
      panelId = b.panelId or 0, userId = 1, newState = "", prevState = "", created = t, updated = t,
      time = t, timeEnd = b.timeEnd or t, text = b.text, tags = json.array(copy(b.tags or {})),
      login = "admin", email = "admin@localhost", avatarUrl = "/avatar/46d229b033af06a191ff2267bca9ae56",
      data = b.data or {} }
    if a.dashboardUID ~= "" then a.dashboardId = self.dashboards[a.dashboardUID].dashboard.id end
    self.annotations[#self.annotations + 1] = a
    return answer(200, { message = "Annotation added", id = a.id })
  end

  -- Alert rules (provisioning) ------------------------------------------------------------------
  local NODATA = { Alerting = true, NoData = true, OK = true, KeepLast = true }
  local EXECERR = { OK = true, Alerting = true, Error = true, KeepLast = true }
  local RULE_FIELDS = { id = is_int, uid = "string", orgID = is_int, folderUID = "string", ruleGroup = "string",
    title = "string", condition = "string", data = "table", updated = "string", noDataState = "string",
    execErrState = "string", ["for"] = "string", annotations = "table", labels = "table",
    isPaused = "boolean", notification_settings = "table", record = "table", provenance = "string",
    keep_firing_for = "string", missing_series_evals_to_resolve = is_int, metadata = "table" }

  local function check_rule(req, b)
    for _, k in ipairs({ "title", "ruleGroup", "folderUID", "for" }) do
      if type(b[k]) ~= "string" or b[k] == "" then
        return bad(req, ("invalid alert rule: %s is required"):format(k))
      end
    end
    if not b["for"]:match("^%d+[smhdw]") and b["for"] ~= "0" and b["for"] ~= "0s" then
      return bad(req, "invalid alert rule: for must be a duration such as 5m, got " .. b["for"])
    end
    if not self.folders[b.folderUID] then return msg(400, "invalid alert rule: folder does not exist") end
    if type(b.data) ~= "table" or #b.data == 0 then
      return bad(req, "invalid alert rule: no queries or expressions are found")
    end
    local refs = {}
    for i, q in ipairs(b.data) do
      if type(q.refId) ~= "string" or q.refId == "" then return bad(req, ("invalid alert rule: data[%d].refId is required"):format(i)) end
      if type(q.datasourceUid) ~= "string" or q.datasourceUid == "" then
        return bad(req, ("invalid alert rule: data[%d].datasourceUid is required"):format(i))
      end
      if type(q.model) ~= "table" then return bad(req, ("invalid alert rule: data[%d].model must be an object"):format(i)) end
      if q.relativeTimeRange ~= nil and (type(q.relativeTimeRange) ~= "table"
          or math.type(q.relativeTimeRange.from) ~= "integer" or math.type(q.relativeTimeRange.to) ~= "integer") then
        return bad(req, ("invalid alert rule: data[%d].relativeTimeRange must be {from, to} in seconds"):format(i))
      end
      for k in pairs(q) do
        if k ~= "refId" and k ~= "queryType" and k ~= "relativeTimeRange" and k ~= "datasourceUid" and k ~= "model" then
          return bad(req, ("invalid alert rule: data[%d]: unknown field %q"):format(i, k))
        end
      end
      refs[q.refId] = true
    end
    if b.record == nil then
      if type(b.condition) ~= "string" or not refs[b.condition] then
        return bad(req, "invalid alert rule: condition " .. tostring(b.condition) .. " does not exist, must be one of the refIds")
      end
    end
    if b.noDataState ~= nil and not NODATA[b.noDataState] then
      return bad(req, "invalid alert rule: unknown noDataState " .. tostring(b.noDataState))
    end
    if b.execErrState ~= nil and not EXECERR[b.execErrState] then
      return bad(req, "invalid alert rule: unknown execErrState " .. tostring(b.execErrState))
    end
  end

  local function provenance_header(req)
    local h = req.headers["x-disable-provenance"]
    if h ~= nil and h ~= "true" then violation(req, "X-Disable-Provenance should be 'true', got " .. h) end
    return h ~= nil
  end

  local function store_rule(b, uid, disable_provenance, existing)
    local r = copy(b)
    r.uid = uid
    r.id = existing and existing.id or id()
    r.orgID = 1
    r.updated = now_iso()
    r.noDataState = r.noDataState or "NoData"
    r.execErrState = r.execErrState or "Error"
    r.isPaused = r.isPaused or false
    r.provenance = disable_provenance and "" or "api"
    self.rules[uid] = r
    return r
  end

  routes.GET["/api/v1/provisioning/alert-rules"] = function(req)
    local denied = guard(req, "alert.rules:read")
    if denied then return denied end
    if next(req.query) then return bad(req, "takes no query parameters") end
    local out = {}
    for _, r in pairs(self.rules) do out[#out + 1] = copy(r) end
    table.sort(out, function(a, b) return a.title < b.title end)
    return answer(200, json.array(out))
  end

  routes.GET["/api/v1/provisioning/alert-rules/:uid"] = function(req)
    local denied = guard(req, "alert.rules:read")
    if denied then return denied end
    if next(req.query) then return bad(req, "takes no query parameters") end
    local r = self.rules[req.params.uid]
    if not r then return { status = 404, headers = { ["x-fake-route"] = "1" } } end -- Grafana's 404 is empty here
    return answer(200, r)
  end

  routes.POST["/api/v1/provisioning/alert-rules"] = function(req)
    local denied = guard(req, "alert.rules:write")
    if denied then return denied end
    if next(req.query) then return bad(req, "takes no query parameters") end
    local disable = provenance_header(req)
    local b, err = body(req, RULE_FIELDS)
    if not b then return err end
    local invalid = check_rule(req, b)
    if invalid then return invalid end
    local uid = b.uid or new_uid(14)
    if self.rules[uid] then return msg(409, "conflicting UID: an alert rule with this UID already exists") end
    return answer(201, store_rule(b, uid, disable))
  end

  routes.PUT["/api/v1/provisioning/alert-rules/:uid"] = function(req)
    local denied = guard(req, "alert.rules:write")
    if denied then return denied end
    if next(req.query) then return bad(req, "takes no query parameters") end
    local disable = provenance_header(req)
    local b, err = body(req, RULE_FIELDS)
    if not b then return err end
    if b.uid and b.uid ~= req.params.uid then
      return bad(req, "the uid in the body differs from the path's")
    end
    local existing = self.rules[req.params.uid]
    if not existing then return { status = 404, headers = { ["x-fake-route"] = "1" } } end
    local invalid = check_rule(req, b)
    if invalid then return invalid end
    if existing.provenance == "api" and disable then
      -- Grafana refuses to change a rule's provenance from api to none
      return msg(400, "cannot change provenance from 'api' to ''")
    end
    return answer(200, store_rule(b, req.params.uid, disable, existing))
  end

  -- Service accounts ----------------------------------------------------------------------------
  local ROLES = { Viewer = true, Editor = true, Admin = true, None = true }

  local function sa_json(sa)
    local n = 0
    for _ in pairs(sa.tokens) do n = n + 1 end
    return { id = sa.id, name = sa.name, login = sa.login, orgId = 1, isDisabled = sa.isDisabled,
      role = sa.role, tokens = n, avatarUrl = "/avatar/" .. sa.login }
  end

  local function sa_from(req)
    local raw = req.params.id
    if not raw:match("^%d+$") then
      return nil, bad(req, "Service Account ID is invalid")
    end
    local sa = self.accounts[math.tointeger(tonumber(raw))]
    if not sa then return nil, msg(404, "service account not found") end
    return sa
  end

  routes.POST["/api/serviceaccounts"] = function(req)
    local denied = guard(req, "serviceaccounts:create")
    if denied then return denied end
    if next(req.query) then return bad(req, "takes no query parameters") end
    local b, err = body(req, { name = "string", role = "string", isDisabled = "boolean" }, { "name" })
    if not b then
      if err == false then return msg(400, "Required name") end
      return err
    end
    if b.role ~= nil and not ROLES[b.role] then return bad(req, "invalid role " .. tostring(b.role)) end
    for _, sa in pairs(self.accounts) do
      if sa.name == b.name then return msg(409, "service account already exists") end
    end
    local sa = { id = id(), name = b.name, login = "sa-1-" .. slugify(b.name), role = b.role or "Viewer",
      isDisabled = b.isDisabled or false, tokens = {} }
    self.accounts[sa.id] = sa
    return answer(201, sa_json(sa))
  end

  routes.GET["/api/serviceaccounts/search"] = function(req)
    local denied = guard(req, "serviceaccounts:read")
    if denied then return denied end
    local q, err = params(req, { query = true, page = true, perpage = true, disabled = true, expiredTokens = true })
    if not q then return err end
    local page, perr = int_param(req, q, "page", 1)
    if perr then return perr end
    local perpage, pperr = int_param(req, q, "perpage", 1)
    if pperr then return pperr end
    local disabled, derr = bool_param(req, q, "disabled")
    if derr then return derr end
    local all = {}
    for _, sa in pairs(self.accounts) do
      if (not q.query or sa.name:lower():find(q.query:lower(), 1, true))
          and (disabled == nil or sa.isDisabled == disabled) then
        all[#all + 1] = sa_json(sa)
      end
    end
    table.sort(all, function(a, b) return a.name < b.name end)
    page, perpage = page or 1, perpage or 1000
    local out = {}
    for i = (page - 1) * perpage + 1, math.min(#all, page * perpage) do out[#out + 1] = all[i] end
    return answer(200, { totalCount = #all, serviceAccounts = json.array(out), page = page, perPage = perpage })
  end

  routes.GET["/api/serviceaccounts/:id"] = function(req)
    local denied = guard(req, "serviceaccounts:read")
    if denied then return denied end
    if next(req.query) then return bad(req, "takes no query parameters") end
    local sa, err = sa_from(req)
    if not sa then return err end
    return answer(200, sa_json(sa))
  end

  routes.DELETE["/api/serviceaccounts/:id"] = function(req)
    local denied = guard(req, "serviceaccounts:delete")
    if denied then return denied end
    if next(req.query) then return bad(req, "takes no query parameters") end
    local sa, err = sa_from(req)
    if not sa then return err end
    self.accounts[sa.id] = nil
    return answer(200, { message = "Service account deleted" })
  end

  routes.GET["/api/serviceaccounts/:id/tokens"] = function(req)
    local denied = guard(req, "serviceaccounts:read")
    if denied then return denied end
    if next(req.query) then return bad(req, "takes no query parameters") end
    local sa, err = sa_from(req)
    if not sa then return err end
    local out = {}
    for _, t in pairs(sa.tokens) do
      out[#out + 1] = { id = t.id, name = t.name, created = t.created, lastUsedAt = json.null,
        expiration = t.expiration or json.null, secondsUntilExpiration = t.ttl or 0, hasExpired = false,
        isRevoked = false }
    end
    table.sort(out, function(a, b) return a.id < b.id end)
    return answer(200, json.array(out))
  end

  routes.POST["/api/serviceaccounts/:id/tokens"] = function(req)
    local denied = guard(req, "serviceaccounts:write")
    if denied then return denied end
    if next(req.query) then return bad(req, "takes no query parameters") end
    local sa, serr = sa_from(req)
    if not sa then return serr end
    local b, err = body(req, { name = "string", secondsToLive = is_int }, { "name" })
    if not b then
      if err == false then return msg(400, "Bad request data") end
      return err
    end
    if b.secondsToLive and b.secondsToLive < 0 then return msg(400, "secondsToLive must be positive") end
    for _, t in pairs(sa.tokens) do
      if t.name == b.name then return msg(409, "service account token with given name already exists in the organization") end
    end
    local t = { id = id(), name = b.name, created = now_iso(), ttl = b.secondsToLive,
      expiration = b.secondsToLive and b.secondsToLive > 0 and time.iso(time() + b.secondsToLive) or nil }
    sa.tokens[t.id] = t
    return answer(200, { id = t.id, name = t.name, key = "glsa_" .. new_uid(32) .. "_" .. new_uid(8) })
  end

  routes.DELETE["/api/serviceaccounts/:id/tokens/:tokenId"] = function(req)
    local denied = guard(req, "serviceaccounts:write")
    if denied then return denied end
    if next(req.query) then return bad(req, "takes no query parameters") end
    local sa, serr = sa_from(req)
    if not sa then return serr end
    local raw = req.params.tokenId
    if not raw:match("^%d+$") then return bad(req, "Token ID is invalid") end
    local tid = math.tointeger(tonumber(raw))
    if not sa.tokens[tid] then return msg(404, "service account token not found") end
    sa.tokens[tid] = nil
    return answer(200, { message = "Service account token deleted" })
  end

  local server = http.server(routes, {
    host = "127.0.0.1",
    port = 0,
    after = function(req, resp)
      -- The server's own 404 and 405 mean the client used a path or method Grafana does not have.
      if resp.status == 404 and not (resp.headers and resp.headers["x-fake-route"]) then
        violation(req, "no such endpoint in the Grafana API")
        return { status = 404, json = { message = "Not found" } }
      elseif resp.status == 405 then
        violation(req, "method not allowed on this endpoint")
      end
    end,
  })
  self.port = server.port
  self.url = "http://127.0.0.1:" .. server.port
  function self:stop() server:stop() end
  function self:last() return self.requests[#self.requests] end
  return self
end

return fake
