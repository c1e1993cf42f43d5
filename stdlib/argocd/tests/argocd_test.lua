-- argocd: every call against a fake Argo CD that checks requests against the documented API.
local argocd = require("assay.argocd")
local here = arg[0]:match("^(.*)/") or "."
local fake = dofile(here .. "/fake_argocd.lua").start{
  users = {admin = "s3cret-pw", viewer = "viewer-pw"},
  tokens = {["admin-token"] = {sub = "admin", role = "admin"}, ["reader-token"] = {sub = "ci", role = "reader"}},
}

after_each(function()
  local seen = fake.violations
  fake:reset()
  assert.eq(seen, {}, "requests the real Argo CD API would not take")
end)

local function client(o)
  o = o or {}
  o.url = o.url or fake.url
  if o.token == nil and o.username == nil then o.token = "admin-token" end
  return argocd.client(o)
end

local function app(name, extra)
  local a = {metadata = {name = name, labels = {team = "web"}}, spec = {project = "default",
    source = {repoURL = "https://git.example.com/apps.git", path = name, targetRevision = "main"},
    destination = {server = "https://kubernetes.default.svc", namespace = "prod"}}}
  for k, v in pairs(extra or {}) do a.spec[k] = v end
  return a
end

test("client options: unknown ones raise naming them; the url keeps no credentials", function()
  assert.raises(function() argocd.client{url = fake.url, tokne = "x"} end,
    [[argocd\.client: bad argument #1 'opts' \(unknown option 'tokne'; expected url, token, username]])
  assert.raises(function() argocd.client{url = "ftp://u:hunter2@x"} end, [[bad url .*u:\*\*\*@x]])
  local c = argocd.client{url = fake.url .. "/", token = "admin-token"}
  assert.eq(c.url, fake.url)
  assert.eq(tostring(c), "argocd.client(" .. fake.url .. ")")
end)

test("session login with username and password, then the session token", function()
  local c = client{username = "admin", password = "s3cret-pw"}
  local info = c:userinfo()
  assert.eq(info.username, "admin")
  assert.eq(fake.requests[1].path, "/api/v1/session")
  assert.eq(json.parse(fake.requests[1].body), {username = "admin", password = "s3cret-pw"})
  assert.eq(fake:last().headers.authorization, "Bearer session-1")
end)

test("a failed login: 401 with Argo CD's text, no password in it", function()
  local c = client{username = "admin", password = "wrong-pw"}
  local ok, err = pcall(c.applications, c)
  assert.eq(ok, false)
  assert.eq(err, "argocd.login: POST /api/v1/session: 401 Invalid username or password")
  assert.eq(err:find("wrong-pw", 1, true), nil)
end)

test("a bad token: 401 with the gateway's message", function()
  local c = client{token = "forged-token"}
  assert.raises(function() c:applications() end,
    [[^argocd\.applications: GET /api/v1/applications: 401 invalid session: token signature is invalid$]])
end)

test("create, list (project, selector), get, refresh", function()
  local c = client()
  local created = c:app_create(app("web"))
  assert.eq(created.metadata.name, "web")
  assert.eq(created.status.sync.status, "OutOfSync")
  c:app_create(app("api"), {upsert = true, validate = false})
  assert.eq(fake:last().query, {upsert = "true", validate = "false"})
  local names = {}
  for _, a in ipairs(c:applications{project = "default", selector = "team=web"}) do names[#names + 1] = a.metadata.name end
  assert.eq(names, {"api", "web"})
  assert.eq(fake:last().query, {projects = "default", selector = "team=web"})
  assert.eq(#c:applications{project = {"other"}}, 0)
  local got = c:app_get("web", {refresh = "hard"})
  assert.eq(got.spec.source.path, "web")
  assert.eq(fake.last_refresh, "hard")
  assert.raises(function() c:app_get("web", {refresh = "soft"}) end, [[field 'refresh': "normal" or "hard" expected]])
end)

test("404 -> nil and Argo CD's answer; delete true, then nil", function()
  local c = client()
  local a, body = c:app_get("nope")
  assert.eq(a, nil)
  assert.eq(body.message, 'applications.argoproj.io "nope" not found')
  c:app_create(app("web"))
  assert.eq(c:app_delete("web", {cascade = true, propagation_policy = "foreground"}), true)
  assert.eq(fake.last_delete, {cascade = "true", propagationPolicy = "foreground"})
  assert.eq(c:app_delete("web"), nil)
  assert.eq(c:project_get("missing"), nil)
  assert.eq(c:app_resource_tree("nope"), nil)
end)

test("403 for a token that may only read, with Argo CD's text", function()
  client():app_create(app("web"))
  local c = client{token = "reader-token"}
  assert.eq(c:app_get("web").metadata.name, "web")
  assert.raises(function() c:app_sync("web") end,
    [[^argocd\.app_sync: POST /api/v1/applications/web/sync: 403 permission denied: applications, sync, default/web, sub: ci$]])
end)

test("sync with revision, prune, dry run, then wait until Healthy and Synced", function()
  local c = client()
  c:app_create(app("web"))
  local dry = c:app_sync("web", {dry_run = true})
  assert.eq(dry.operation.sync.dryRun, true)
  local started = c:app_sync("web", {revision = "v1.2.0", prune = true, sync_options = {"CreateNamespace=true"}})
  assert.eq(fake.last_sync, {name = "web", revision = "v1.2.0", prune = true, syncOptions = {items = {"CreateNamespace=true"}}})
  assert.eq(started.status.operationState.phase, "Running")
  local done = c:app_wait("web", {health = "Healthy", sync = "Synced", timeout = 5, interval = 0.05})
  assert.eq(done.status.health.status, "Healthy")
  assert.eq(done.status.sync.revision, "v1.2.0")
  assert.eq(done.status.operationState.phase, "Succeeded")
end)

test("wait timeout raises with the last state; a failed operation raises at once", function()
  local c = client()
  c:app_create(app("web"))
  assert.raises(function() c:app_wait("web", {timeout = 0.2, interval = 0.05}) end,
    [[^argocd\.app_wait: web: timed out after 0\.2s; last state: health Missing, sync OutOfSync, operation none$]])
  assert.raises(function() c:app_wait("ghost", {timeout = 0.1, interval = 0.05}) end, "last state: not found$")
  assert.raises(function() c:app_wait("web", {timeout = -1}) end, [[bad argument #2 'opts.timeout']])
  local f = dofile(here .. "/fake_argocd.lua").start{tokens = {t = {sub = "admin", role = "admin"}}, fail_sync = true, sync_polls = 1}
  local fc = argocd.client{url = f.url, token = "t"}
  fc:app_create(app("web"))
  fc:app_sync("web")
  assert.raises(function() fc:app_wait("web", {timeout = 5, interval = 0.05}) end,
    [[^argocd\.app_wait: web: operation Failed: one or more objects failed to apply]])
  assert.eq(f.violations, {})
  f:stop()
end)

test("rollback to a history id; refused while auto-sync is on", function()
  local c = client()
  c:app_create(app("web"))
  c:app_sync("web", {revision = "v1"}); c:app_wait("web", {timeout = 5, interval = 0.05})
  c:app_sync("web", {revision = "v2"}); c:app_wait("web", {timeout = 5, interval = 0.05})
  local hist = c:app_get("web").status.history
  assert.eq(#hist, 2)
  c:app_rollback("web", hist[1].id, {prune = true})
  local back = c:app_wait("web", {timeout = 5, interval = 0.05})
  assert.eq(back.status.operationState.syncResult.revision, "v1")
  assert.raises(function() c:app_rollback("web", 1.5) end, [[bad argument #2 'id' \(integer expected, got float\)]])
  c:app_create(app("auto", {syncPolicy = {automated = {prune = true}}}))
  assert.raises(function() c:app_rollback("auto", 0) end,
    [[^argocd\.app_rollback: POST /api/v1/applications/auto/rollback: 400 rollback cannot be initiated when auto-sync is enabled$]])
end)

test("resource tree and projects", function()
  local c = client()
  c:app_create(app("web"))
  local tree = c:app_resource_tree("web")
  assert.eq(tree.nodes[1].kind, "Deployment")
  assert.eq(tree.nodes[2].parentRefs[1].name, "web")
  local projects = c:projects()
  assert.eq(projects[1].metadata.name, "default")
  assert.eq(c:project_get("default").spec.sourceRepos, {"*"})
  assert.raises(function() c:app_create(app("x", {project = "nope"})) end,
    [[^argocd\.app_create: POST /api/v1/applications: 400 application references project nope which does not exist$]])
end)

test("network errors carry the client's message without a position", function()
  local c = argocd.client{url = "http://127.0.0.1:1", token = "t", timeout = 2}
  local ok, err = pcall(c.projects, c)
  assert.eq(ok, false)
  assert.matches(err, "^argocd\\.projects: ")
  assert.eq(err:find("argocd_test.lua", 1, true), nil)
end)

describe("the fake is strict", function()
  local H = {authorization = "Bearer admin-token"}
  local function expect_violation(resp, status, pat)
    assert.eq(resp.status, status)
    assert.eq(#fake.violations, 1)
    assert.matches(fake.violations[1], pat)
    fake.violations = {}
  end
  test("unknown path, parameter, body field", function()
    expect_violation(http.get(fake.url .. "/api/v1/application", {headers = H}), 404, "no such endpoint")
    expect_violation(http.get(fake.url .. "/api/v1/applications", {headers = H, query = {project_name = "x"}}), 400,
      "unexpected query parameter")
    client():app_create(app("web"))
    expect_violation(http.post(fake.url .. "/api/v1/applications/web/sync", json.encode{name = "web", dry_run = true},
      {headers = {authorization = H.authorization, ["content-type"] = "application/json"}}), 400, "unknown field")
  end)
end)
