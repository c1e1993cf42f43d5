-- test: stdout ^server api ok\n$
-- test: stderr ERROR handler returned no valid response method=GET path=/bad .*not a number
-- test: stderr ERROR handler returned no valid response method=GET path=/both .*not both
-- test: stderr ERROR handler timed out method=GET path=/ .*still running after 0\.1s
-- test: stderr ERROR handler raised an error method=GET path=/raise .*server_api\.lua:\d+: handler failed on purpose\\nstack traceback:
-- The http server's contract (API.md, "http plugin") from inside one script: a server on a
-- free port, called with the http client. Routes with :params and *, query and headers,
-- JSON in and out, the handler's return values, middleware, 404/405, raising handlers,
-- stop() and wait(). (plugins/http/tests/server drives a server from outside: curl, wrk,
-- Chromium, signals.)

local seen_after = {}
local server = http.server({
  GET = {
    ["/hello"] = function() return "hi" end,
    ["/users/:id"] = function(req) return {json = {id = req.params.id}} end,
    ["/users/new"] = function() return "the literal route" end,
    ["/files/*"] = function(req) return req.params["*"] end,
    ["/named/*rest"] = function(req) return req.params.rest end,
    ["/query"] = function(req) return {json = req.query} end,
    ["/one"] = function(req)
      return {json = {tag = http.query_value(req.query, "tag"), a = http.query_value(req.query, "a"),
                      none = http.query_value(req.query, "none") == nil}}
    end,
    ["/req"] = function(req)
      return {json = {method = req.method, path = req.path, body = req.body,
                      remote = req.remote_addr, agent = req.headers["user-agent"],
                      token = req.headers["x-token"]}}
    end,
    ["/status"] = function() return {status = 201, headers = {["X-A"] = "1"}, body = "made"} end,
    ["/typed"] = function()
      return {json = {ok = true}, headers = {["content-type"] = "application/vnd.x+json"}}
    end,
    ["/nothing"] = function() end,
    ["/bad"] = function() return 42 end,
    ["/both"] = function() return {json = {}, body = "x"} end,
    ["/raise"] = function() error("handler failed on purpose") end,
    ["/guarded"] = function() return "inside" end,
    ["/replaced"] = function() return "original" end,
    ["/kept"] = function() return "untouched" end,
  },
  POST = {
    ["/json"] = function(req)
      local doc = req:json()
      return {status = 201, json = {got = doc, n = #doc.list}}
    end,
    ["/users/:id"] = function(req) return "posted " .. req.params.id .. " " .. req.body end,
  },
  ANY = {
    ["/any"] = function(req) return req.method end,
  },
}, {
  host = "127.0.0.1",
  static = {["/assets"] = "fixtures/server/public"},
  before = function(req)
    if req.path == "/guarded" and req.headers["x-token"] ~= "ok" then
      return {status = 403, body = "forbidden"}
    end
  end,
  after = function(req, resp)
    -- resp is the response as it will be sent (server_middleware.lua has the details).
    seen_after[#seen_after + 1] = req.path .. " " .. tostring(resp.status)
    if req.path == "/replaced" then
      return {status = 202, body = resp.body .. " + after"}
    end
    -- nil: the handler's response goes out unchanged
  end,
})

assert.gt(server.port, 0)
assert.matches(tostring(server), "http.Server: port " .. server.port)
local base = "http://127.0.0.1:" .. server.port

local r = http.get(base .. "/hello")
assert.eq(r.status, 200)
assert.eq(r.body, "hi")
assert.eq(r.headers["content-type"], "text/plain; charset=utf-8")

-- Parameters, literal routes before parameters, wildcards (decoded).
assert.eq(http.get(base .. "/users/42"):json(), {id = "42"})
assert.eq(http.get(base .. "/users/a%20b"):json(), {id = "a b"})
assert.eq(http.get(base .. "/users/new").body, "the literal route")
assert.eq(http.get(base .. "/files/a/b/c.txt").body, "a/b/c.txt")
assert.eq(http.get(base .. "/named/x/y").body, "x/y")

-- Query: decoded, repeats become lists.
assert.eq(http.get(base .. "/query?a=1&b=x%20y+z&tag=p&tag=q&flag"):json(),
  {a = "1", b = "x y z", tag = {"p", "q"}, flag = ""})
-- http.query_value: one value either way (the first of a repeated key), nil when absent.
assert.eq(http.get(base .. "/one?tag=p&tag=q&a=1"):json(), {tag = "p", a = "1", none = true})
assert.eq(http.get(base .. "/one?tag=only"):json().tag, "only")
assert.raises(function() http.query_value("a=1", "a") end, "query")

-- The request table.
local info = http.get(base .. "/req", {headers = {["X-Token"] = "T"}}):json()
assert.eq(info.method, "GET")
assert.eq(info.path, "/req")
assert.eq(info.body, "")
assert.eq(info.token, "T")
assert.matches(info.agent, "^assay/")
assert.matches(info.remote, [[^127\.0\.0\.1:\d+$]])

-- Return values: status and headers, json with a chosen type, nil -> 204, junk -> 500.
r = http.get(base .. "/status")
assert.eq({r.status, r.body, r.headers["x-a"]}, {201, "made", "1"})
r = http.get(base .. "/typed")
assert.eq(r.headers["content-type"], "application/vnd.x+json")
assert.eq(r:json(), {ok = true})
r = http.get(base .. "/nothing")
assert.eq({r.status, r.body}, {204, ""})
assert.eq(http.get(base .. "/bad").status, 500)
assert.eq(http.get(base .. "/both").status, 500)

-- A raising handler: 500, and the server keeps serving.
r = http.get(base .. "/raise")
assert.eq({r.status, r.body}, {500, "Internal Server Error"})
assert.eq(http.get(base .. "/hello").status, 200)

-- JSON in and out; POST on a parameter route.
r = http.post(base .. "/json", {list = {1, 2, 3}, name = "w"})
assert.eq(r.status, 201)
assert.eq(r:json(), {got = {list = {1, 2, 3}, name = "w"}, n = 3})
assert.eq(http.post(base .. "/users/7", "data").body, "posted 7 data")

-- ANY, 404, 405 with Allow.
assert.eq(http.delete(base .. "/any").body, "DELETE")
assert.eq(http.put(base .. "/any", "x").body, "PUT")
assert.eq(http.get(base .. "/nope").status, 404)
r = http.delete(base .. "/hello")
assert.eq(r.status, 405)
assert.contains(r.headers["allow"], "GET")

-- Middleware: before short-circuits; after replaces or keeps.
r = http.get(base .. "/guarded")
assert.eq({r.status, r.body}, {403, "forbidden"})
assert.eq(http.get(base .. "/guarded", {headers = {["x-token"] = "ok"}}).body, "inside")
r = http.get(base .. "/replaced")
assert.eq({r.status, r.body}, {202, "original + after"})
r = http.get(base .. "/kept")
assert.eq({r.status, r.body}, {200, "untouched"})
assert.eq(r.headers["content-type"], "text/plain; charset=utf-8")
assert.contains(seen_after, "/kept 200")
assert.contains(seen_after, "/guarded 403")

-- Static files: content type, bytes as on disk, HEAD, conditional GET, the folder's index.
r = http.get(base .. "/assets/style.css")
assert.eq(r.status, 200)
assert.matches(r.headers["content-type"], "^text/css")
assert.eq(r.body, fs.read("fixtures/server/public/style.css"))
assert.eq(http.get(base .. "/assets/data.json"):json(), json.parse(fs.read("fixtures/server/public/data.json")))
local head = http.request("HEAD", base .. "/assets/style.css")
assert.eq({head.status, head.body, head.headers["content-length"]}, {200, "", tostring(#r.body)})
local again = http.get(base .. "/assets/style.css",
  {headers = {["if-modified-since"] = r.headers["last-modified"]}})
assert.eq(again.status, 304)
assert.matches(http.get(base .. "/assets/").body, "root index page")
assert.eq(http.get(base .. "/assets/../server_api.lua").status, 404)

-- Handlers are coroutines: twenty 0.5 s handlers overlap and finish together.
local slow = http.server({GET = {["/"] = function() sleep(0.5) return "ok" end}},
  {host = "127.0.0.1"})
local start = time.monotonic()
local tasks = {}
for i = 1, 20 do
  tasks[i] = async.spawn(function()
    local body = http.get("http://127.0.0.1:" .. slow.port .. "/").body
    return body, time.monotonic() - start
  end)
end
local first, last = math.huge, 0
for _, t in ipairs(tasks) do
  local body, took = t:await()
  assert.eq(body, "ok")
  first, last = math.min(first, took), math.max(last, took)
end
assert.lt(last, 1.5, "twenty 0.5 s handlers ran concurrently")
assert.lt(last - first, 0.5, "and finished together")
slow:stop()
slow:wait()

-- opts.timeout: a handler still running after it gets 503 (and a log line).
local limited = http.server({GET = {["/"] = function() sleep(2) return "late" end}},
  {host = "127.0.0.1", timeout = 0.1})
start = time.monotonic()
r = http.get("http://127.0.0.1:" .. limited.port .. "/")
assert.eq(r.status, 503)
assert.lt(time.monotonic() - start, 1.5)
limited:stop()
limited:wait()

-- stop(): wait() returns, the port is closed, stop() again is harmless.
server:stop()
server:wait()
server:stop()
assert.raises(function() http.get(base .. "/hello", {timeout = 2}) end, "http.get")
print("server api ok")
