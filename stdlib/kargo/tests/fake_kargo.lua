-- A fake Kargo API server for the kargo package's tests, written with Assay's http.server.
--
-- It follows Kargo's service definition
--   https://github.com/akuity/kargo/blob/main/api/service/v1alpha1/service.proto
-- as served over the Connect protocol, https://connectrpc.com/docs/protocol/ (unary calls):
--   POST /akuity.io.kargo.service.v1alpha1.KargoService/<Method>, Content-Type application/json
--   (anything else: 415), optional Connect-Protocol-Version: 1, the request message as protojson
--   (lowerCamelCase; unknown fields refused: invalid_argument); answers 200 with the response
--   message, or an error {"code": "<connect code>", "message"} with the protocol's HTTP status
--   (unauthenticated 401, permission_denied 403, not_found 404, invalid_argument 400,
--   failed_precondition 400, already_exists 409).
-- Methods: AdminLogin {password} -> {idToken}; ListProjects; ListStages {project};
-- GetStage/RefreshStage {project, name}; QueryFreight {project, stage, groupBy, group, orderBy,
-- reverse, origins}; GetFreight {project, name | alias}; ApproveFreight {project, name | alias,
-- stage}; ListPromotions {project, stage}; GetPromotion {project, name};
-- PromoteToStage {project, stage, freight | freightAlias} -> {promotion}.
--
-- It CHECKS every request and records what the real server would refuse in `fake.violations`;
-- the tests assert it empty after each case. A promotion runs Pending -> Running -> Succeeded
-- over `promotion_polls` reads, then becomes the stage's current freight.

local fake = {}

local PREFIX = "/akuity.io.kargo.service.v1alpha1.KargoService/"

local HTTP = { unauthenticated = 401, permission_denied = 403, not_found = 404, invalid_argument = 400,
  failed_precondition = 400, already_exists = 409, unimplemented = 501 }

local function cerr(code, msg)
  return { status = HTTP[code], json = { code = code, message = msg } }
end

local function copy(v)
  if type(v) ~= "table" then return v end
  local c = {}
  for k, x in pairs(v) do c[k] = copy(x) end
  return c
end

--- opts: admin_password, tokens ({token = {sub, role = "admin"|"viewer"}}), promotion_polls
---       (reads before a promotion succeeds; default 2), fail_promotions (they fail instead).
function fake.start(opts)
  opts = opts or {}
  local self = { violations = {}, requests = {}, promotion_polls = opts.promotion_polls or 2 }
  local tokens = copy(opts.tokens or {})
  local n_tokens, n_promotions = 0, 0

  local function violation(req, text)
    self.violations[#self.violations + 1] = ("%s %s: %s"):format(req.method, req.path, text)
  end
  local function invalid(req, msg)
    violation(req, msg)
    return cerr("invalid_argument", msg)
  end

  -- Field names and types of each request message (protojson).
  local MESSAGES = {
    AdminLogin = { password = "string" },
    ListProjects = { pageSize = "number", page = "number", filter = "string" },
    ListStages = { project = "string" },
    GetStage = { project = "string", name = "string", format = "string" },
    RefreshStage = { project = "string", name = "string" },
    QueryFreight = { project = "string", stage = "string", groupBy = "string", group = "string", orderBy = "string",
      reverse = "boolean", origins = "table" },
    GetFreight = { project = "string", name = "string", alias = "string", format = "string" },
    ApproveFreight = { project = "string", name = "string", alias = "string", stage = "string" },
    ListPromotions = { project = "string", stage = "string" },
    GetPromotion = { project = "string", name = "string", format = "string" },
    PromoteToStage = { project = "string", stage = "string", freight = "string", freightAlias = "string" },
  }
  local WRITES = { RefreshStage = "update stages", ApproveFreight = "patch freights/status", PromoteToStage = "create promotions" }
  local READ_ONLY = { AdminLogin = true }

  local function project_of(req, m)
    if type(m.project) ~= "string" or m.project == "" then return nil, invalid(req, "project should not be empty") end
    local p = self.projects[m.project]
    if not p then return nil, cerr("not_found", ('project "%s" not found'):format(m.project)) end
    return p
  end

  local function find_freight(p, m)
    for _, f in ipairs(p.freight) do
      if (m.name and m.name ~= "" and f.metadata.name == m.name) or (m.alias and m.alias ~= "" and f.alias == m.alias) then
        return f
      end
    end
  end

  local function advance(p, promo)
    local st = promo.status
    if st.phase == "Succeeded" or st.phase == "Failed" then return end
    promo._polls = promo._polls + 1
    if promo._polls == 1 then st.phase = "Running"; return end
    if promo._polls >= self.promotion_polls then
      if opts.fail_promotions then
        st.phase = "Failed"
        st.message = "step \"argocd-update\" failed: Application \"shop-prod\" is Degraded"
      else
        st.phase = "Succeeded"
        st.message = "All steps completed"
        local stage = p.stages[promo.spec.stage]
        local f = find_freight(p, { name = promo.spec.freight })
        stage.status.freightHistory = stage.status.freightHistory or {}
        table.insert(stage.status.freightHistory, 1, { items = { ["Warehouse/" .. f.origin.name] = { name = f.metadata.name,
          origin = f.origin } } })
        stage.status.lastPromotion = { name = promo.metadata.name, freight = { name = f.metadata.name },
          status = { phase = "Succeeded" } }
        f.status.verifiedIn = f.status.verifiedIn or {}
        f.status.verifiedIn[promo.spec.stage] = {}
      end
    end
  end

  local function available(p, f, stage)
    local s = p.stages[stage]
    if f.status.approvedFor and f.status.approvedFor[stage] then return true end
    for _, src in ipairs(s.spec.requestedFreight or {}) do
      if src.sources.direct then return true end
      for _, up in ipairs(src.sources.stages or {}) do
        if f.status.verifiedIn and f.status.verifiedIn[up] then return true end
      end
    end
    return false
  end

  local handlers = {}

  function handlers.AdminLogin(req, m)
    if not opts.admin_password then return cerr("permission_denied", "admin user is not enabled") end
    if m.password ~= opts.admin_password then return cerr("unauthenticated", "invalid password") end
    n_tokens = n_tokens + 1
    local tok = "admin-id-token-" .. n_tokens
    tokens[tok] = { sub = "admin", role = "admin" }
    return { idToken = tok }
  end

  function handlers.ListProjects()
    local out = {}
    for name in pairs(self.projects) do out[#out + 1] = { metadata = { name = name }, status = { phase = "Ready" } } end
    table.sort(out, function(a, b) return a.metadata.name < b.metadata.name end)
    return { projects = json.array(out), total = #out }
  end

  function handlers.ListStages(req, m)
    local p, err = project_of(req, m)
    if not p then return err end
    local out = {}
    for _, s in pairs(p.stages) do out[#out + 1] = copy(s) end
    table.sort(out, function(a, b) return a.metadata.name < b.metadata.name end)
    return { stages = json.array(out) }
  end

  local function stage_of(req, p, m, field)
    local name = m[field or "name"]
    if type(name) ~= "string" or name == "" then return nil, invalid(req, (field or "name") .. " should not be empty") end
    local s = p.stages[name]
    if not s then
      return nil, cerr("not_found", ('Stage "%s" not found in namespace "%s"'):format(name, p.name))
    end
    return s
  end

  function handlers.GetStage(req, m)
    local p, err = project_of(req, m)
    if not p then return err end
    local s, serr = stage_of(req, p, m)
    if not s then return serr end
    return { stage = copy(s) }
  end

  function handlers.RefreshStage(req, m)
    local p, err = project_of(req, m)
    if not p then return err end
    local s, serr = stage_of(req, p, m)
    if not s then return serr end
    s.metadata.annotations = { ["kargo.akuity.io/refresh"] = "2026-12-06T12:00:00Z" }
    return { stage = copy(s) }
  end

  function handlers.QueryFreight(req, m)
    local p, err = project_of(req, m)
    if not p then return err end
    if m.groupBy and not ({ image_repo = true, git_repo = true, chart_repo = true })[m.groupBy] then
      return invalid(req, "invalid groupBy: " .. m.groupBy)
    end
    if m.orderBy and not ({ first_seen = true, tag = true })[m.orderBy] then
      return invalid(req, "invalid orderBy: " .. m.orderBy)
    end
    if m.group and not m.groupBy then return invalid(req, "group requires groupBy") end
    if m.stage and m.stage ~= "" and not p.stages[m.stage] then
      return cerr("not_found", ('Stage "%s" not found in namespace "%s"'):format(m.stage, p.name))
    end
    local list = {}
    for _, f in ipairs(p.freight) do
      local keep = true
      if m.stage and m.stage ~= "" then keep = available(p, f, m.stage) end
      if m.origins and #m.origins > 0 then
        local hit = false
        for _, o in ipairs(m.origins) do if o == f.origin.name then hit = true end end
        keep = keep and hit
      end
      if keep then list[#list + 1] = copy(f) end
    end
    if m.reverse then
      local r = {}
      for i = #list, 1, -1 do r[#r + 1] = list[i] end
      list = r
    end
    local groups = {}
    if m.groupBy == "image_repo" then
      for _, f in ipairs(list) do
        local key = f.images[1].repoURL
        if not m.group or m.group == key then
          groups[key] = groups[key] or { freight = {} }
          table.insert(groups[key].freight, f)
        end
      end
    else
      groups[""] = { freight = json.array(list) }
    end
    return { groups = groups }
  end

  function handlers.GetFreight(req, m)
    local p, err = project_of(req, m)
    if not p then return err end
    if (m.name or "") == "" and (m.alias or "") == "" then return invalid(req, "name or alias should not be empty") end
    local f = find_freight(p, m)
    if not f then return cerr("not_found", ('Freight "%s" not found in namespace "%s"'):format(m.name or m.alias, p.name)) end
    return { freight = copy(f) }
  end

  function handlers.ApproveFreight(req, m)
    local p, err = project_of(req, m)
    if not p then return err end
    if (m.name or "") == "" and (m.alias or "") == "" then return invalid(req, "name or alias should not be empty") end
    local _, serr = stage_of(req, p, m, "stage")
    if serr then return serr end
    local f = find_freight(p, m)
    if not f then return cerr("not_found", ('Freight "%s" not found in namespace "%s"'):format(m.name or m.alias, p.name)) end
    f.status.approvedFor = f.status.approvedFor or {}
    f.status.approvedFor[m.stage] = {}
    return {}
  end

  function handlers.ListPromotions(req, m)
    local p, err = project_of(req, m)
    if not p then return err end
    local out = {}
    for _, pr in ipairs(p.promotions) do
      if not m.stage or pr.spec.stage == m.stage then
        local c = copy(pr); c._polls = nil; out[#out + 1] = c
      end
    end
    return { promotions = json.array(out) }
  end

  function handlers.GetPromotion(req, m)
    local p, err = project_of(req, m)
    if not p then return err end
    if (m.name or "") == "" then return invalid(req, "name should not be empty") end
    for _, pr in ipairs(p.promotions) do
      if pr.metadata.name == m.name then
        advance(p, pr)
        local c = copy(pr); c._polls = nil
        return { promotion = c }
      end
    end
    return cerr("not_found", ('Promotion "%s" not found in namespace "%s"'):format(m.name, p.name))
  end

  function handlers.PromoteToStage(req, m)
    local p, err = project_of(req, m)
    if not p then return err end
    local s, serr = stage_of(req, p, m, "stage")
    if not s then return serr end
    if ((m.freight or "") == "") == ((m.freightAlias or "") == "") then
      return invalid(req, "exactly one of freight or freightAlias should not be empty")
    end
    local f = find_freight(p, { name = m.freight, alias = m.freightAlias })
    if not f then
      return cerr("not_found", ('Freight "%s" not found in namespace "%s"'):format(m.freight or m.freightAlias, p.name))
    end
    if not available(p, f, m.stage) then
      return cerr("failed_precondition", ('Freight "%s" is not available to Stage "%s"'):format(f.metadata.name, m.stage))
    end
    n_promotions = n_promotions + 1
    local promo = { metadata = { name = ("%s.01jf%04d.%s"):format(m.stage, n_promotions, f.metadata.name:sub(1, 7)),
      namespace = p.name }, spec = { stage = m.stage, freight = f.metadata.name }, status = { phase = "Pending" }, _polls = 0 }
    table.insert(p.promotions, promo)
    local c = copy(promo); c._polls = nil
    return { promotion = c }
  end

  local function handle(req)
    self.requests[#self.requests + 1] = req
    local method = req.params.method
    local fields = MESSAGES[method]
    if not fields then
      -- An unknown procedure: recorded as a violation (the test fails), and answered as a
      -- Connect server answers one, with the protocol's "unimplemented" error code.
      violation(req, "not a KargoService method (or not one this fake serves)")
      return cerr("unimplemented", "akuity.io.kargo.service.v1alpha1.KargoService." .. method .. ": no such procedure")
    end
    local ctype = req.headers["content-type"] or ""
    if not ctype:match("^application/json") then
      violation(req, "content type " .. ctype .. " (Connect unary JSON needs application/json)")
      return { status = 415, body = "" }
    end
    local cpv = req.headers["connect-protocol-version"]
    if cpv ~= nil and cpv ~= "1" then return invalid(req, "connect-protocol-version must be \"1\": got " .. cpv) end
    if next(req.query) then return invalid(req, "a unary POST takes no query parameters") end
    local ok, m = pcall(json.parse, req.body or "")
    if not ok or type(m) ~= "table" then return invalid(req, "unmarshal message: invalid JSON") end
    for k, v in pairs(m) do
      if not fields[k] then return invalid(req, ("unmarshal into %sRequest: proto: unknown field %q"):format(method, k)) end
      if type(v) ~= fields[k] then
        return invalid(req, ("unmarshal into %sRequest: field %s: %s expected, got %s"):format(method, k, fields[k], type(v)))
      end
    end
    if not READ_ONLY[method] then
      local h = req.headers.authorization
      local tok = h and h:match("^Bearer (.+)$")
      if not tok then return cerr("unauthenticated", "no token provided") end
      local who = tokens[tok]
      if not who then return cerr("unauthenticated", "invalid token") end
      if WRITES[method] and who.role ~= "admin" then
        local verb, res = WRITES[method]:match("^(%S+) (%S+)$")
        return cerr("permission_denied", ('%s.kargo.akuity.io is forbidden: User "%s" cannot %s resource "%s" in API group "kargo.akuity.io" in the namespace "%s"'):format(
          res:match("^[^/]+"), who.sub, verb, res, tostring(m.project)))
      end
    end
    return handlers[method](req, m)
  end

  local function wrap(req)
    local r = handle(req)
    if r.status then return r end
    return { status = 200, json = r }
  end

  local server = http.server({ POST = { [PREFIX .. ":method"] = wrap } }, {
    host = "127.0.0.1", port = 0,
    after = function(req, resp)
      if resp.status == 404 and resp.json == nil and not tostring(resp.body or ""):find('"code"', 1, true) then
        violation(req, "no such path in Kargo's API")
        return { status = 404, body = "404 page not found\n" }
      elseif resp.status == 405 then
        violation(req, "Connect unary calls are POST")
      end
    end,
  })
  self.url = "http://127.0.0.1:" .. server.port

  local function freight(name, alias, tag)
    return { metadata = { name = name, namespace = "shop" }, alias = alias,
      origin = { kind = "Warehouse", name = "shop" },
      images = { { repoURL = "ghcr.io/acme/shop", tag = tag, digest = "sha256:" .. name } },
      status = {} }
  end
  function self:reset()
    self.violations, self.requests = {}, {}
    self.projects = { shop = { name = "shop",
      stages = {
        test = { metadata = { name = "test", namespace = "shop" },
          spec = { requestedFreight = { { origin = { kind = "Warehouse", name = "shop" }, sources = { direct = true } } } },
          status = { conditions = { { type = "Ready", status = "True" } } } },
        prod = { metadata = { name = "prod", namespace = "shop" },
          spec = { requestedFreight = { { origin = { kind = "Warehouse", name = "shop" }, sources = { stages = { "test" } } } } },
          status = { conditions = { { type = "Ready", status = "True" } } } },
      },
      freight = { freight("f1a2b3c4d5e6", "mighty-elk", "1.0.0"), freight("a9b8c7d6e5f4", "brave-owl", "1.1.0") },
      promotions = {},
    } }
  end
  self:reset()
  function self:stop() server:stop() end
  function self:last() return self.requests[#self.requests] end
  return self
end

return fake
