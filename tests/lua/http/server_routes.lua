-- test: stdout ^route conflicts ok\n$
-- test: no-stderr panicked
-- Routes that the router cannot tell apart are refused by http.server with an error that
-- names both routes as the script wrote them and says why, without panicking; routes that
-- only look alike are accepted and each gets its own requests.

local ok = function() return "ok" end

-- The error for `routes` (and static folders), checked for every expected piece of text.
local function refused(routes, static, ...)
  local started, err = pcall(http.server, routes, {host = "127.0.0.1", static = static})
  if started then
    err:stop()
    error("no conflict reported for " .. table.concat({...}, " / "), 2)
  end
  err = tostring(err)
  for _, piece in ipairs({...}) do
    if not err:find(piece, 1, true) then
      error(("%q not in the error: %s"):format(piece, err), 2)
    end
  end
  -- Our words, not the router library's (its `{id}` syntax, "Insertion failed", "Overlapping").
  for _, foreign in ipairs({"Insertion failed", "Overlapping", "{", "matchit", "axum", "panicked"}) do
    if err:find(foreign, 1, true) then
      error(("%q in the error: %s"):format(foreign, err), 2)
    end
  end
  return err
end

-- One segment captured under two names: a request to /users/7 could be either.
refused({GET = {["/users/:id"] = ok, ["/users/:name"] = ok}}, nil,
  "GET /users/:id", "GET /users/:name", "':id'", "':name'")
-- ... whatever the methods: parameter names belong to the path.
refused({GET = {["/users/:id"] = ok}, POST = {["/users/:name"] = ok}}, nil,
  "GET /users/:id", "POST /users/:name")
-- The same path twice for one method: ANY covers GET and HEAD.
refused({GET = {["/x"] = ok}, ANY = {["/x"] = ok}}, nil, "ANY /x", "GET /x", "both handle GET")
refused({HEAD = {["/x"] = ok}, ANY = {["/x"] = ok}}, nil, "ANY /x", "HEAD /x", "both handle HEAD")
-- One segment against the rest of the path, at the same place.
refused({GET = {["/files/:name"] = ok, ["/files/*"] = ok}}, nil,
  "GET /files/:name", "GET /files/*", "':name' takes one segment where '*' takes the rest")
refused({GET = {["/files/*"] = ok}, PUT = {["/files/:name/meta"] = ok}}, nil,
  "GET /files/*", "PUT /files/:name/meta")
refused({GET = {["/f/*a"] = ok, ["/f/*b"] = ok}}, nil, "GET /f/*a", "GET /f/*b", "'*a'", "'*b'")
-- Static folders own their prefix, every method and everything below it.
refused({GET = {["/assets/:file"] = ok}}, {["/assets"] = "."},
  "static folder /assets", "GET /assets/:file")
refused({POST = {["/assets"] = ok}}, {["/assets"] = "."}, "static folder /assets", "POST /assets")
refused({GET = {["/assets/*"] = ok}}, {["/assets"] = "."}, "static folder /assets", "GET /assets/*")
refused({}, {["/a"] = ".", ["/a/"] = ".."}, "static folder /a", "twice")

-- Alike but not in conflict: each route gets its own requests.
local function tagged(tag)
  return function(req)
    local p = req.params
    return tag .. " " .. (p.id and "id=" .. p.id or p.a and "a=" .. p.a or p.b and "b=" .. p.b or "-")
  end
end
local server = http.server({
  GET = {
    ["/users/:id"] = tagged("user"),
    ["/users/new"] = tagged("new"),
    ["/:a/foo"] = tagged("foo"),
    ["/:b/bar"] = tagged("bar"),
    ["/assets/special"] = tagged("special"),
    ["/x"] = tagged("get"),
  },
  POST = {["/users/:id"] = tagged("post")},
  HEAD = {["/x"] = function() return {status = 200, headers = {["x-head"] = "yes"}} end},
}, {host = "127.0.0.1", static = {["/assets"] = "."}})
local base = "http://127.0.0.1:" .. server.port
assert.eq(http.get(base .. "/users/7").body, 'user id=7')
assert.eq(http.get(base .. "/users/new").body, "new -")
assert.eq(http.post(base .. "/users/7", "").body, 'post id=7')
assert.eq(http.get(base .. "/q/foo").body, 'foo a=q')
assert.eq(http.get(base .. "/q/bar").body, 'bar b=q')
assert.eq(http.get(base .. "/assets/special").body, "special -")
assert.eq(http.request("HEAD", base .. "/x").headers["x-head"], "yes")
server:stop()
server:wait()
print("route conflicts ok")
