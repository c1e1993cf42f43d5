-- harbor against a fake Harbor that checks every request (fake_harbor.lua cites the API spec).
local harbor = require("assay.harbor")
local here = arg[0]:match("^(.*)/") or "."
local Fake = dofile(here .. "/fake_harbor.lua")
local fake = Fake.start()

after_each(function()
  local seen = fake.violations
  fake:reset()
  assert.eq(seen, {}, "requests Harbor's API would not take")
end)

local function admin() return harbor.client{url = fake.url, auth = {"admin", "Harbor12345"}} end

local function names(list, key)
  local out = {}
  for _, it in ipairs(list) do out[#out + 1] = it[key or "name"] end
  return out
end

test("ping and health", function()
  local c = admin()
  assert.eq(c:ping(), "Pong")
  assert.eq(c:health().status, "healthy")
end)

test("projects: create (id from Location), get by name, exists, list, delete", function()
  local c = admin()
  local id = c:project_create{name = "team-a", public = true, metadata = {auto_scan = true}}
  assert.eq(math.type(id), "integer")
  local req = fake:last()
  assert.eq(req.method, "POST")
  assert.eq(req.path, "/api/v2.0/projects")
  local body = json.parse(req.body)
  assert.eq(body.project_name, "team-a")
  assert.eq(body.metadata, {public = "true", auto_scan = "true"})
  local p = c:project("team-a")
  assert.eq(p.project_id, id)
  assert.eq(fake:last().headers["x-is-resource-name"], "true")
  assert.eq(c:project(id).name, "team-a")
  assert.eq(c:project_exists("team-a"), true)
  assert.eq(c:project_exists("nope"), false)
  assert.eq(names(c:projects()), {"library", "team-a"})
  assert.eq(names(c:projects{public = true, page_size = 1}), {"library", "team-a"})
  assert.eq(c:project_delete("team-a"), true)
  local none, b = c:project("team-a")
  assert.eq(none, nil)
  assert.matches(b, "project team-a not found")
  assert.eq((c:project_delete("team-a")), nil)
end)

test("409 and 412 with Harbor's messages", function()
  local c = admin()
  assert.raises(function() c:project_create{name = "library"} end,
    [[^harbor\.project_create: POST /api/v2\.0/projects: 409 CONFLICT: The project named library already exists$]])
  assert.raises(function() c:project_delete("library") end,
    [[^harbor\.project_delete: DELETE /api/v2\.0/projects/library: 412 PRECONDITION: the project library contains repositories]])
end)

test("repositories, with a name holding '/' encoded twice", function()
  local c = admin()
  assert.eq(names(c:repositories("library")), {"library/nginx", "library/tools/curl"})
  assert.eq(c:repository("library", "tools/curl").artifact_count, 1)
  assert.eq(fake:last().path, "/api/v2.0/projects/library/repositories/tools%252Fcurl")
  assert.eq((c:repository("library", "nope")), nil)
  assert.eq(c:repository_delete("library", "tools/curl"), true)
  assert.eq((c:repository_delete("library", "tools/curl")), nil)
end)

test("artifacts, tags, scan, vulnerabilities", function()
  local c = admin()
  local arts = c:artifacts("library", "nginx", {with_tag = true, page_size = 1})
  assert.eq(#arts, 2)
  assert.eq(names(arts[1].tags), {"1.27", "latest"})
  local a = c:artifact("library", "nginx", "latest")
  assert.eq(a.digest, "sha256:" .. ("a"):rep(64))
  assert.eq(names(c:tags("library", "nginx", a.digest)), {"1.27", "latest"})
  assert.eq(c:tag_create("library", "nginx", a.digest, "stable"), true)
  assert.eq(json.parse(fake:last().body), {name = "stable"})
  assert.eq(c:artifact("library", "nginx", "stable").digest, a.digest)
  assert.raises(function() c:tag_create("library", "nginx", a.digest, "1.26") end,
    [[409 CONFLICT: the tag 1\.26 already exists]])
  assert.eq(c:tag_delete("library", "nginx", a.digest, "stable"), true)
  assert.eq((c:tag_delete("library", "nginx", a.digest, "stable")), nil)
  assert.eq(c:scan("library", "nginx", "latest"), true)
  assert.eq(fake:last().method, "POST")
  assert.eq(fake:last().path, "/api/v2.0/projects/library/repositories/nginx/artifacts/latest/scan")
  local s = c:artifact("library", "nginx", "latest", {with_scan_overview = true})
  local overview = s.scan_overview["application/vnd.security.vulnerability.report; version=1.1"]
  assert.eq(overview.scan_status, "Success")
  local v = c:vulnerabilities("library", "nginx", "latest")
  assert.eq(#v["application/vnd.security.vulnerability.report; version=1.1"].vulnerabilities, 2)
  assert.eq((c:artifact("library", "nginx", "nope")), nil)
  assert.eq(c:artifact_delete("library", "nginx", "1.26"), true)
  assert.eq(#c:artifacts("library", "nginx"), 1)
  assert.eq((c:artifact_delete("library", "nginx", "1.26")), nil)
  fake.no_scanner = true
  assert.raises(function() c:scan("library", "nginx", "latest") end,
    [[^harbor\.scan: POST /api/v2\.0/projects/library/repositories/nginx/artifacts/latest/scan: 400 BAD_REQUEST: no scanner]])
  fake.no_scanner = nil
end)

test("robot accounts: list, create (secret returned once), get, delete", function()
  local c = admin()
  assert.eq(#c:robots{page_size = 2}, 3)
  local r = c:robot_create{name = "ci", level = "project", duration = 30,
    permissions = {{kind = "project", namespace = "library",
      access = {{resource = "repository", action = "pull"}, {resource = "repository", action = "push"}}}}}
  assert.eq(r.name, "robot$library+ci")
  assert.eq(type(r.secret), "string")
  assert.eq(json.parse(fake:last().body).duration, 30)
  assert.eq(c:robot(r.id).name, "robot$library+ci")
  assert.eq(c:robot_delete(r.id), true)
  assert.eq((c:robot(r.id)), nil)
  assert.eq((c:robot_delete(r.id)), nil)
end)

test("401 and 403 with Harbor's text; the password never in the message", function()
  local bad = harbor.client{url = fake.url, auth = {"admin", "wrong-pass"}}
  local ok, err = pcall(bad.projects, bad)
  assert.eq(ok, false)
  assert.eq(err, "harbor.projects: GET /api/v2.0/projects: 401 UNAUTHORIZED: unauthorized")
  assert.eq(err:find("wrong-pass", 1, true), nil)
  local dev = harbor.client{url = fake.url, auth = {"dev", "dev12345"}}
  assert.eq(#dev:projects(), 1)
  assert.raises(function() dev:project_create{name = "x"} end,
    [[^harbor\.project_create: POST /api/v2\.0/projects: 403 FORBIDDEN: forbidden$]])
  assert.raises(function() dev:scan("library", "nginx", "latest") end, [[403 FORBIDDEN: forbidden$]])
  -- credentials in the URL become basic auth and leave client.url
  local cu = harbor.client{url = fake.url:gsub("^http://", "http://admin:Harbor12345@")}
  assert.eq(cu.url, fake.url)
  assert.eq(#cu:projects(), 1)
  assert.eq(tostring(cu):find("Harbor12345", 1, true), nil)
end)

test("bad arguments and unknown options", function()
  assert.raises(function() harbor.client{tiemout = 1} end, "unknown option 'tiemout'")
  local c = admin()
  assert.raises(function() c:repository("library", nil) end, [[bad argument #2 'repository']])
  assert.raises(function() c:artifact("library", "nginx", "") end, [[bad argument #3 'reference']])
  assert.raises(function() c:projects{page_size = 500} end, [[field 'page_size']])
  assert.raises(function() c:robot("1") end, [[bad argument #1 'id']])
  assert.raises(function() c:robot_create{name = "x", level = "global", permissions = {{}}} end, [[field 'level']])
  assert.raises(function() c:artifacts("library", "nginx", {with_tags = true}) end, "unknown option 'with_tags'")
end)

test("network errors name the method", function()
  local c = harbor.client{url = "http://127.0.0.1:1", timeout = 2}
  assert.raises(function() c:ping() end, [[^harbor\.ping: ]])
end)

test("the fake records what Harbor would refuse (its checks are live)", function()
  local c = admin()
  c._http:get("/api/v2.0/projects", {query = {bogus = "1"}, auth = {"admin", "Harbor12345"}})
  c._http:get("/api/v2.0/projects/library/repositories/tools/curl", {auth = {"admin", "Harbor12345"}})
  c._http:post("/api/v2.0/projects", {name = "x"}, {auth = {"admin", "Harbor12345"}})
  local seen = fake.violations
  fake.violations = {}
  assert.eq(#seen, 4, table.concat(seen, "\n")) -- the POST: an unknown field and a missing one
  -- and paging is followed through Link rel="next": page_size 1 over 3 robots is 3 requests
  fake.requests = {}
  assert.eq(#c:robots{page_size = 1}, 3)
  assert.eq(#fake.requests, 3)
end)

test("a get returns one value on success, nil and the body on 404", function()
  local c = admin()
  assert.eq(select("#", c:project("library")), 1)
  assert.eq(select("#", c:project(1)), 1)
  assert.eq(select("#", c:repository("library", "nginx")), 1)
  assert.eq(select("#", c:artifact("library", "nginx", "latest")), 1)
  assert.eq(select("#", c:repository_delete("library", "nginx")), 1)
  local none, body = c:project(999)
  assert.eq(none, nil)
  assert.matches(body, "NOT_FOUND")
end)
