--- assay.grafana: a client for the Grafana HTTP API.
---
--- API reference followed: https://grafana.com/docs/grafana/latest/developers/http_api/
---
--- local grafana = require("assay.grafana")
--- local c = grafana.client{url = "https://grafana:3000", token = env.get("GRAFANA_TOKEN")}
--- local d = c:dashboard_get("node-exporter")          -- {dashboard, meta} or nil
--- c:annotation_create{text = "deployed v2", tags = {"deploy"}}

---@class grafana
local M = {}

---@class grafana.Client
---@field url string the server's base URL (without credentials)
---@field org_id integer|nil the organization sent as X-Grafana-Org-Id
local Client = {}
Client.__index = Client

local DEFAULT_URL = "http://localhost:3000"

local CLIENT_OPTIONS = { "url", "token", "user", "password", "org_id", "timeout", "ca_cert", "insecure",
  "headers" }

-- Helpers -------------------------------------------------------------------------------------

-- The packages' shared internals: bad arguments at the caller's line, option checks, network
-- errors, URL masking, environment defaults, bounded polling.
local api = require("assay.apiclient")
api.own_source()
local raise = api.raise

local function check_options(fname, opts, allowed, argn, argname)
  return api.check_options("grafana", fname, argn, opts, allowed, argname)
end

local function check_string(fname, argn, argname, v)
  if type(v) ~= "string" or v == "" then
    raise(("grafana.%s: bad argument #%d '%s' (non-empty string expected, got %s)"):format(
      fname, argn, argname, type(v) == "string" and "an empty string" or type(v)))
  end
end

local function check_id(fname, argn, argname, v)
  if math.type(v) == "float" and v == math.floor(v) then v = math.floor(v) end
  if type(v) == "string" and v:match("^%d+$") then v = math.tointeger(tonumber(v)) end
  if math.type(v) ~= "integer" or v < 0 then
    raise(("grafana.%s: bad argument #%d '%s' (integer id expected, got %s)"):format(
      fname, argn, argname, type(v) == "string" and ("%q"):format(v) or tostring(v)))
  end
  return v
end

local nonempty_env = api.env

local mask_url = api.mask_url

local strip_location = api.strip_position

local function trim(s)
  return (s:gsub("^%s+", ""):gsub("%s+$", ""))
end

-- The decoded body: JSON when it is, else the text (nil when empty).
local function decode(resp)
  local body = resp.body or ""
  if body:match("^%s*$") then return nil end
  local ok, decoded = pcall(json.parse, body)
  if ok then return decoded end
  return body
end

-- Grafana's own error text: {"message": ...} (sometimes with "error"), else the body's text.
local function error_text(resp)
  local decoded = decode(resp)
  if type(decoded) == "table" then
    local msg = decoded.message or decoded.error
    if type(msg) == "string" then
      if type(decoded.error) == "string" and decoded.message and decoded.error ~= decoded.message then
        msg = msg .. ": " .. decoded.error
      end
      return msg
    end
    return json.encode(decoded)
  end
  local text = trim(tostring(decoded or ""))
  if #text > 512 then text = text:sub(1, 512) .. "..." end
  return text
end

local function seg(s) return url.encode(tostring(s)) end

-- Bad-argument messages about one part of an argument, in the builtins' wording:
-- bad(fname, field(1, "opts", "from"), "...") raises
-- "grafana.<fname>: bad argument #1 'opts' (field 'from': ...)".
local function field(argn, argname, name)
  return ("#%d '%s' (field '%s'"):format(argn, argname, name)
end
local function bad(fname, at, detail)
  raise(("grafana.%s: bad argument %s: %s)"):format(fname, at, detail))
end

-- Grafana's times are epoch milliseconds; this library's are seconds (or RFC 3339).
local function to_ms(fname, at, v)
  if type(v) == "number" then
    if v ~= v or v < 0 or v == math.huge then
      bad(fname, at, ("seconds since the epoch expected, got %s"):format(tostring(v)))
    end
    if v >= 1e11 then
      bad(fname, at, ("seconds since the epoch expected; %.0f looks like milliseconds"):format(v))
    end
    return math.floor(v * 1000 + 0.5)
  elseif type(v) == "string" then
    local ok, t = pcall(time.parse, v)
    if not ok then
      bad(fname, at, ("seconds or RFC 3339 expected, got %q"):format(v))
    end
    return math.floor(t * 1000 + 0.5)
  end
  bad(fname, at, ("number or string expected, got %s"):format(type(v)))
end

local function list_of_strings(fname, at, v)
  if type(v) == "string" then return { v } end
  if type(v) ~= "table" then
    bad(fname, at, ("string or list of strings expected, got %s"):format(type(v)))
  end
  local out = {}
  for i, s in ipairs(v) do
    if type(s) ~= "string" then
      bad(fname, at, ("item %d: string expected, got %s"):format(i, type(s)))
    end
    out[i] = s
  end
  return out
end

local function scalar_param(fname, at, v)
  if type(v) == "boolean" or type(v) == "number" then return tostring(v) end
  if type(v) == "string" then return v end
  bad(fname, at, ("string, number or boolean expected, got %s"):format(type(v)))
end

local function shallow_copy(t)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  return setmetatable(c, getmetatable(t))
end

-- Requests ------------------------------------------------------------------------------------

---@private
function Client:_request(fname, method, path, opts)
  opts = opts or {}
  local ropts = { query = opts.query, auth = self._auth, headers = opts.headers }
  if opts.body ~= nil then ropts.body = opts.body end
  local ok, resp = pcall(self._http.request, self._http, method, self._prefix .. path, ropts)
  if not ok then
    api.network_error("grafana", fname, resp)
  end
  return resp
end

---@private
function Client:_fail(fname, method, path, resp)
  error(("grafana.%s: %s %s: %d %s"):format(fname, method, path, resp.status, error_text(resp)), 0)
end

-- The decoded body of a 2xx answer; raises when it is not JSON (a proxy's login page or the
-- like: not Grafana's API answering).
local function success_body(fname, method, path, resp)
  local body = decode(resp)
  if type(body) == "string" then
    error(("grafana.%s: %s %s: %d answer is not JSON: %s"):format(fname, method, path, resp.status,
      error_text(resp)), 0)
  end
  return body
end

-- One call: 2xx -> the decoded body; 404 when `absent_ok` -> nil, decoded body; else raises.
---@private
function Client:_call(fname, method, path, opts)
  opts = opts or {}
  local resp = self:_request(fname, method, path, opts)
  if resp.status >= 200 and resp.status < 300 then return success_body(fname, method, path, resp) end
  if resp.status == 404 and opts.absent_ok then
    return nil, decode(resp)
  end
  if opts.data_status and opts.data_status[resp.status] then
    local body = decode(resp)
    if type(body) == "table" then return body end
  end
  self:_fail(fname, method, path, resp)
end

-- A delete: true on 2xx (Grafana's confirmation is dropped); nil and Grafana's answer on 404.
---@private
function Client:_delete(fname, path, query)
  local resp = self:_request(fname, "DELETE", path, { query = query })
  if resp.status >= 200 and resp.status < 300 then return true end
  if resp.status == 404 then return nil, decode(resp) end
  self:_fail(fname, "DELETE", path, resp)
end

-- Constructor ---------------------------------------------------------------------------------

---@class grafana.ClientOptions
---@field url? string base URL of Grafana (default: $GRAFANA_URL, then http://localhost:3000); a path (sub-path deployments) is kept; user:password@ in it becomes basic auth
---@field token? string a service account token or API key, sent as a bearer token (default: $GRAFANA_TOKEN)
---@field user? string basic auth user (instead of a token)
---@field password? string basic auth password
---@field org_id? integer organization, sent as X-Grafana-Org-Id (default: $GRAFANA_ORG_ID, else the user's current org)
---@field timeout? number|false seconds for each request (http.client's default otherwise)
---@field ca_cert? string PEM file path or PEM text added to the system roots
---@field insecure? boolean skip TLS verification
---@field headers? table<string,string> extra headers sent with every request

--- Creates a client; one pooled HTTP client per Grafana client.
---@param opts? grafana.ClientOptions
---@return grafana.Client
function M.client(opts)
  if opts ~= nil and type(opts) ~= "table" then
    raise(("grafana.client: bad argument #1 'opts' (table expected, got %s)"):format(type(opts)))
  end
  opts = opts or {}
  api.unknown_options("grafana", "client", "#1 'opts'", opts, CLIENT_OPTIONS)
  if opts.url ~= nil and type(opts.url) ~= "string" then
    raise(("grafana.client: bad argument #1 'opts' (field 'url': string expected, got %s)"):format(type(opts.url)))
  end
  local raw = opts.url or nonempty_env("GRAFANA_URL") or DEFAULT_URL
  local parts, cred = api.split_url(raw)
  if not parts then
    raise(("grafana.client: bad url (an http(s) URL expected, got %q)"):format(mask_url(raw)))
  end
  if opts.token ~= nil and (opts.user ~= nil or opts.password ~= nil) then
    raise("grafana.client: bad argument #1 'opts' (either 'token' or 'user'/'password', not both)")
  end
  if opts.password ~= nil and opts.user == nil then
    raise("grafana.client: bad argument #1 'opts' (field 'password' without 'user')")
  end
  for _, k in ipairs({ "token", "user", "password" }) do
    if opts[k] ~= nil and type(opts[k]) ~= "string" then
      bad("client", field(1, "opts", k), ("string expected, got %s"):format(type(opts[k])))
    end
  end
  local auth
  if opts.token then
    auth = { bearer = opts.token }
  elseif opts.user then
    auth = { user = opts.user, password = opts.password or "" }
  elseif cred then
    auth = cred
  elseif nonempty_env("GRAFANA_TOKEN") then
    auth = { bearer = nonempty_env("GRAFANA_TOKEN") }
  end
  local prefix = (parts.path or ""):gsub("/+$", "")
  parts.path, parts.query, parts.fragment = nil, nil, nil
  local base = url.build(parts):gsub("/+$", "")

  local org, org_from_env = opts.org_id, false
  if org == nil and nonempty_env("GRAFANA_ORG_ID") then org, org_from_env = nonempty_env("GRAFANA_ORG_ID"), true end
  if org ~= nil then
    local given = org
    if type(org) == "string" and org:match("^%d+$") then org = math.tointeger(tonumber(org)) end
    if math.type(org) == "float" and org == math.floor(org) then org = math.floor(org) end
    if math.type(org) ~= "integer" or org <= 0 then
      if org_from_env then
        raise(("grafana.client: bad $GRAFANA_ORG_ID (positive integer expected, got %q)"):format(given))
      end
      bad("client", field(1, "opts", "org_id"), ("positive integer expected, got %s"):format(tostring(given)))
    end
  end
  local headers = { accept = "application/json" }
  for k, v in pairs(opts.headers or {}) do headers[k] = v end
  if org then headers["X-Grafana-Org-Id"] = tostring(org) end

  local hopts = { base_url = base, headers = headers }
  if opts.timeout ~= nil then hopts.timeout = opts.timeout end
  if opts.ca_cert ~= nil then hopts.ca_cert = opts.ca_cert end
  if opts.insecure ~= nil then hopts.insecure = opts.insecure end
  local hok, hc = pcall(http.client, hopts)
  if not hok then raise("grafana.client: " .. strip_location(hc)) end

  return setmetatable({ url = base .. prefix, org_id = org, _http = hc, _prefix = prefix, _auth = auth }, Client)
end

-- Health and search ---------------------------------------------------------------------------

---@class grafana.Health
---@field database string "ok", or "failing" (then Grafana answered 503)
---@field version string
---@field commit string

--- Grafana's health (`GET /api/health`, no authentication needed). A failing database (503) is
--- data: the body says `database = "failing"`.
---@return grafana.Health
function Client:health()
  return (self:_call("health", "GET", "/api/health", { data_status = { [503] = true } }))
end

---@class grafana.SearchOptions
---@field query? string search by title
---@field tag? string|string[] dashboards with all these tags
---@field type? "dash-db"|"dash-folder" dashboards or folders only
---@field dashboardUIDs? string|string[]
---@field folderUIDs? string|string[] only in these folders ("general" for the root)
---@field starred? boolean
---@field limit? integer at most this many (Grafana's default 1000)
---@field page? integer
---@field sort? "alpha-asc"|"alpha-desc"
---@field permission? "View"|"Edit"

--- Searches folders and dashboards (`GET /api/search`).
---@param opts? grafana.SearchOptions
---@return table[] hits: `{id, uid, title, url, type, tags, isStarred, folderUid, folderTitle, ...}`
function Client:search(opts)
  opts = check_options("search", opts, { "query", "tag", "type", "dashboardUIDs", "folderUIDs", "starred",
    "limit", "page", "sort", "permission" }, 1, "opts")
  local q = {}
  for k, v in pairs(opts) do
    if k == "tag" or k == "dashboardUIDs" or k == "folderUIDs" then
      q[k] = list_of_strings("search", field(1, "opts", k), v)
    else
      q[k] = scalar_param("search", field(1, "opts", k), v)
    end
  end
  if q.type and q.type ~= "dash-db" and q.type ~= "dash-folder" then
    bad("search", field(1, "opts", "type"), ("\"dash-db\" or \"dash-folder\" expected, got %q"):format(q.type))
  end
  return self:_call("search", "GET", "/api/search", { query = q }) or json.array({})
end

-- Dashboards ----------------------------------------------------------------------------------

---@class grafana.DashboardFull
---@field dashboard table the dashboard model (uid, title, panels, version, ...)
---@field meta table Grafana's metadata (url, folderUid, folderTitle, slug, version, created, updated, ...)

--- A dashboard by uid (`GET /api/dashboards/uid/<uid>`): `{dashboard, meta}`, or nil and
--- Grafana's answer when there is none.
---@param uid string
---@return grafana.DashboardFull|nil
---@return table|nil error_body on 404
function Client:dashboard_get(uid)
  check_string("dashboard_get", 1, "uid", uid)
  return self:_call("dashboard_get", "GET", "/api/dashboards/uid/" .. seg(uid), { absent_ok = true })
end

---@class grafana.DashboardUpsertOptions
---@field folderUid? string the folder to put it in (none: the root, "General")
---@field message? string the version's commit message
---@field overwrite? boolean replace a dashboard of the same uid or title whatever its version (default true; false: Grafana's 412 on a version or name conflict)

--- Creates or replaces a dashboard (`POST /api/dashboards/db`). With a `uid`, the dashboard's
--- numeric `id` is sent as null, so the uid decides which dashboard is replaced.
---@param dashboard table the dashboard model (`title` required; `uid` recommended)
---@param opts? grafana.DashboardUpsertOptions
---@return table result `{id, uid, url, status, version, slug}`
function Client:dashboard_upsert(dashboard, opts)
  if type(dashboard) ~= "table" then
    raise(("grafana.dashboard_upsert: bad argument #1 'dashboard' (table expected, got %s)"):format(
      type(dashboard)))
  end
  opts = check_options("dashboard_upsert", opts, { "folderUid", "message", "overwrite" }, 2, "opts")
  local d = shallow_copy(dashboard)
  if d.uid ~= nil then d.id = json.null end
  local body = { dashboard = json.object(d), overwrite = opts.overwrite ~= false }
  if opts.folderUid ~= nil then body.folderUid = opts.folderUid end
  if opts.message ~= nil then body.message = opts.message end
  return (self:_call("dashboard_upsert", "POST", "/api/dashboards/db", { body = body }))
end

--- Deletes a dashboard by uid (`DELETE /api/dashboards/uid/<uid>`): true, or nil and Grafana's
--- answer when there is none.
---@param uid string
---@return true|nil deleted
---@return table|nil error_body on 404
function Client:dashboard_delete(uid)
  check_string("dashboard_delete", 1, "uid", uid)
  return self:_delete("dashboard_delete", "/api/dashboards/uid/" .. seg(uid))
end

-- Folders -------------------------------------------------------------------------------------

--- Folders (`GET /api/folders`): `{id, uid, title}` each.
---@param opts? {limit?: integer, page?: integer, parentUid?: string}
---@return table[]
function Client:folders(opts)
  opts = check_options("folders", opts, { "limit", "page", "parentUid" }, 1, "opts")
  local q = {}
  for k, v in pairs(opts) do q[k] = scalar_param("folders", field(1, "opts", k), v) end
  return self:_call("folders", "GET", "/api/folders", { query = q }) or json.array({})
end

--- A folder by uid (`GET /api/folders/<uid>`), or nil and Grafana's answer.
---@param uid string
---@return table|nil folder `{id, uid, title, url, parentUid, version, ...}`
---@return table|nil error_body on 404
function Client:folder_get(uid)
  check_string("folder_get", 1, "uid", uid)
  return self:_call("folder_get", "GET", "/api/folders/" .. seg(uid), { absent_ok = true })
end

--- Creates a folder (`POST /api/folders`).
---@param title string
---@param opts? {uid?: string, parentUid?: string, description?: string}
---@return table folder
function Client:folder_create(title, opts)
  check_string("folder_create", 1, "title", title)
  opts = check_options("folder_create", opts, { "uid", "parentUid", "description" }, 2, "opts")
  local body = { title = title }
  for k, v in pairs(opts) do body[k] = v end
  return (self:_call("folder_create", "POST", "/api/folders", { body = body }))
end

--- Deletes a folder and its dashboards (`DELETE /api/folders/<uid>`); Grafana refuses a folder
--- holding alert rules unless `forceDeleteRules`. True, or nil and Grafana's answer when there
--- is none.
---@param uid string
---@param opts? {forceDeleteRules?: boolean}
---@return true|nil deleted
---@return table|nil error_body on 404
function Client:folder_delete(uid, opts)
  check_string("folder_delete", 1, "uid", uid)
  opts = check_options("folder_delete", opts, { "forceDeleteRules" }, 2, "opts")
  local q = {}
  if opts.forceDeleteRules ~= nil then q.forceDeleteRules = tostring(opts.forceDeleteRules == true) end
  return self:_delete("folder_delete", "/api/folders/" .. seg(uid), q)
end

-- Data sources --------------------------------------------------------------------------------

--- Every data source of the organization (`GET /api/datasources`).
---@return table[] data sources `{id, uid, name, type, url, access, isDefault, jsonData, ...}`
function Client:datasources()
  return self:_call("datasources", "GET", "/api/datasources") or json.array({})
end

--- A data source by uid (`GET /api/datasources/uid/<uid>`), or nil and Grafana's answer.
---@param uid string
---@return table|nil
---@return table|nil error_body on 404
function Client:datasource_get(uid)
  check_string("datasource_get", 1, "uid", uid)
  return self:_call("datasource_get", "GET", "/api/datasources/uid/" .. seg(uid), { absent_ok = true })
end

--- A data source by name (`GET /api/datasources/name/<name>`), or nil and Grafana's answer.
---@param name string
---@return table|nil
---@return table|nil error_body on 404
function Client:datasource_get_by_name(name)
  check_string("datasource_get_by_name", 1, "name", name)
  return self:_call("datasource_get_by_name", "GET", "/api/datasources/name/" .. seg(name), { absent_ok = true })
end

--- Runs a data source's health check (`GET /api/datasources/uid/<uid>/health`):
--- `{status = "OK"|"ERROR", message}` (a failing check, Grafana's 400 with a status, is data),
--- or nil and Grafana's answer when there is no such data source.
---@param uid string
---@return {status: string, message: string, details?: table}|nil
---@return table|nil error_body on 404
function Client:datasource_health(uid)
  check_string("datasource_health", 1, "uid", uid)
  local path = "/api/datasources/uid/" .. seg(uid) .. "/health"
  local resp = self:_request("datasource_health", "GET", path)
  local body = decode(resp)
  if resp.status == 200 then return body end
  if resp.status == 404 then return nil, body end
  if resp.status == 400 and type(body) == "table" and type(body.status) == "string" then return body end
  self:_fail("datasource_health", "GET", path, resp)
end

-- Annotations ---------------------------------------------------------------------------------

---@class grafana.AnnotationQuery
---@field from? number|string seconds since the epoch or RFC 3339 (sent as Grafana's milliseconds)
---@field to? number|string
---@field limit? integer Grafana's default 100
---@field tags? string|string[] organization annotations with these tags
---@field matchAny? boolean any of the tags rather than all
---@field type? "alert"|"annotation"
---@field dashboardUID? string
---@field panelId? integer
---@field alertId? integer
---@field userId? integer

--- Annotations (`GET /api/annotations`), newest first; their `time`/`timeEnd` are Grafana's
--- epoch milliseconds.
---@param opts? grafana.AnnotationQuery
---@return table[]
function Client:annotations(opts)
  opts = check_options("annotations", opts, { "from", "to", "limit", "tags", "matchAny", "type",
    "dashboardUID", "panelId", "alertId", "userId" }, 1, "opts")
  local q = {}
  for k, v in pairs(opts) do
    if k == "from" or k == "to" then
      q[k] = tostring(to_ms("annotations", field(1, "opts", k), v))
    elseif k == "tags" then
      q.tags = list_of_strings("annotations", field(1, "opts", k), v)
    else
      q[k] = scalar_param("annotations", field(1, "opts", k), v)
    end
  end
  if q.type and q.type ~= "alert" and q.type ~= "annotation" then
    bad("annotations", field(1, "opts", "type"), ("\"alert\" or \"annotation\" expected, got %q"):format(q.type))
  end
  return self:_call("annotations", "GET", "/api/annotations", { query = q }) or json.array({})
end

---@class grafana.Annotation
---@field text string
---@field tags? string[]
---@field time? number|string seconds or RFC 3339 (default: Grafana's now)
---@field timeEnd? number|string the end of a region annotation
---@field dashboardUID? string on this dashboard (none: an organization annotation)
---@field panelId? integer
---@field data? table

--- Creates an annotation (`POST /api/annotations`).
---@param annotation grafana.Annotation
---@return {id: integer, message: string}
function Client:annotation_create(annotation)
  if type(annotation) ~= "table" then
    raise(("grafana.annotation_create: bad argument #1 'annotation' (table expected, got %s)"):format(
      type(annotation)))
  end
  check_options("annotation_create", annotation, { "text", "tags", "time", "timeEnd", "dashboardUID",
    "panelId", "data" }, 1, "annotation")
  if type(annotation.text) ~= "string" or annotation.text == "" then
    raise("grafana.annotation_create: bad argument #1 'annotation' (field 'text': non-empty string expected)")
  end
  local body = {}
  for k, v in pairs(annotation) do body[k] = v end
  if body.time ~= nil then body.time = to_ms("annotation_create", field(1, "annotation", "time"), body.time) end
  if body.timeEnd ~= nil then body.timeEnd = to_ms("annotation_create", field(1, "annotation", "timeEnd"), body.timeEnd) end
  if body.tags ~= nil then body.tags = json.array(list_of_strings("annotation_create", field(1, "annotation", "tags"), body.tags)) end
  return (self:_call("annotation_create", "POST", "/api/annotations", { body = body }))
end

-- Alert rules (provisioning API) --------------------------------------------------------------

local RULES = "/api/v1/provisioning/alert-rules"

--- Every alert rule (`GET /api/v1/provisioning/alert-rules`).
---@return table[] rules in the provisioning API's shape (`uid, title, folderUID, ruleGroup, condition, data, for, ...`)
function Client:alert_rules()
  return self:_call("alert_rules", "GET", RULES) or json.array({})
end

--- An alert rule by uid (`GET /api/v1/provisioning/alert-rules/<uid>`), or nil.
---@param uid string
---@return table|nil
---@return any error_body on 404
function Client:alert_rule_get(uid)
  check_string("alert_rule_get", 1, "uid", uid)
  return self:_call("alert_rule_get", "GET", RULES .. "/" .. seg(uid), { absent_ok = true })
end

--- Creates or replaces an alert rule: with a `uid`, `PUT .../alert-rules/<uid>` (and `POST`
--- when Grafana has none of that uid); without, `POST .../alert-rules` (Grafana picks the uid).
--- `disable_provenance = true` sends `X-Disable-Provenance: true`, so the rule stays editable in
--- Grafana's UI.
---@param rule table the rule (`title, ruleGroup, folderUID, condition, data, for, noDataState, execErrState`, ...)
---@param opts? {disable_provenance?: boolean}
---@return table rule as Grafana stored it
function Client:alert_rule_upsert(rule, opts)
  if type(rule) ~= "table" then
    raise(("grafana.alert_rule_upsert: bad argument #1 'rule' (table expected, got %s)"):format(type(rule)))
  end
  opts = check_options("alert_rule_upsert", opts, { "disable_provenance" }, 2, "opts")
  local headers
  if opts.disable_provenance then headers = { ["X-Disable-Provenance"] = "true" } end
  local body = json.object(shallow_copy(rule))
  if rule.uid ~= nil then
    check_string("alert_rule_upsert", 1, "rule.uid", rule.uid)
    local path = RULES .. "/" .. seg(rule.uid)
    local resp = self:_request("alert_rule_upsert", "PUT", path, { body = body, headers = headers })
    if resp.status >= 200 and resp.status < 300 then return success_body("alert_rule_upsert", "PUT", path, resp) end
    if resp.status ~= 404 then self:_fail("alert_rule_upsert", "PUT", path, resp) end
  end
  return (self:_call("alert_rule_upsert", "POST", RULES, { body = body, headers = headers }))
end

-- Service accounts ----------------------------------------------------------------------------

--- Service accounts (`GET /api/serviceaccounts/search`): the list, and Grafana's total count.
---@param opts? {query?: string, page?: integer, perpage?: integer, disabled?: boolean}
---@return table[] accounts `{id, name, login, orgId, isDisabled, role, tokens, avatarUrl}`
---@return integer total_count
function Client:service_accounts(opts)
  opts = check_options("service_accounts", opts, { "query", "page", "perpage", "disabled" }, 1, "opts")
  local q = {}
  for k, v in pairs(opts) do q[k] = scalar_param("service_accounts", field(1, "opts", k), v) end
  local body = self:_call("service_accounts", "GET", "/api/serviceaccounts/search", { query = q }) or {}
  return body.serviceAccounts or json.array({}), body.totalCount
end

--- A service account by id (`GET /api/serviceaccounts/<id>`), or nil and Grafana's answer.
---@param id integer
---@return table|nil
---@return table|nil error_body on 404
function Client:service_account_get(id)
  id = check_id("service_account_get", 1, "id", id)
  return self:_call("service_account_get", "GET", "/api/serviceaccounts/" .. id, { absent_ok = true })
end

--- Creates a service account (`POST /api/serviceaccounts`).
---@param name string
---@param opts? {role?: "Viewer"|"Editor"|"Admin"|"None", isDisabled?: boolean}
---@return table account `{id, name, login, orgId, isDisabled, role, tokens, avatarUrl}`
function Client:service_account_create(name, opts)
  check_string("service_account_create", 1, "name", name)
  opts = check_options("service_account_create", opts, { "role", "isDisabled" }, 2, "opts")
  local body = { name = name }
  for k, v in pairs(opts) do body[k] = v end
  return (self:_call("service_account_create", "POST", "/api/serviceaccounts", { body = body }))
end

--- Deletes a service account and its tokens (`DELETE /api/serviceaccounts/<id>`): true, or nil
--- and Grafana's answer when there is none.
---@param id integer
---@return true|nil deleted
---@return table|nil error_body on 404
function Client:service_account_delete(id)
  id = check_id("service_account_delete", 1, "id", id)
  return self:_delete("service_account_delete", "/api/serviceaccounts/" .. id)
end

--- A service account's tokens (`GET /api/serviceaccounts/<id>/tokens`), without their keys.
---@param id integer
---@return table[] tokens `{id, name, created, expiration, secondsUntilExpiration, hasExpired, ...}`
function Client:service_account_tokens(id)
  id = check_id("service_account_tokens", 1, "id", id)
  return self:_call("service_account_tokens", "GET", "/api/serviceaccounts/" .. id .. "/tokens")
    or json.array({})
end

--- Creates a token for a service account (`POST /api/serviceaccounts/<id>/tokens`); the
--- answer's `key` is the only time Grafana shows the secret.
---@param id integer
---@param name string
---@param opts? {secondsToLive?: integer}
---@return {id: integer, name: string, key: string}
function Client:service_account_token_create(id, name, opts)
  id = check_id("service_account_token_create", 1, "id", id)
  check_string("service_account_token_create", 2, "name", name)
  opts = check_options("service_account_token_create", opts, { "secondsToLive" }, 3, "opts")
  local body = { name = name }
  if opts.secondsToLive ~= nil then body.secondsToLive = opts.secondsToLive end
  return (self:_call("service_account_token_create", "POST", "/api/serviceaccounts/" .. id .. "/tokens",
    { body = body }))
end

--- Deletes (revokes) a service account token
--- (`DELETE /api/serviceaccounts/<id>/tokens/<token_id>`): true, or nil and Grafana's answer.
---@param id integer
---@param token_id integer
---@return true|nil deleted
---@return table|nil error_body on 404
function Client:service_account_token_delete(id, token_id)
  id = check_id("service_account_token_delete", 1, "id", id)
  token_id = check_id("service_account_token_delete", 2, "token_id", token_id)
  return self:_delete("service_account_token_delete", "/api/serviceaccounts/" .. id .. "/tokens/" .. token_id)
end

return M
