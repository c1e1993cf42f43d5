-- test: stdout ^middleware ok\n$
-- test: stderr ERROR handler returned no valid response method=GET path=/invalid .*not a number
-- test: stderr ERROR after raised an error method=GET path=/after-raises .*after failed on purpose
-- test: stderr ERROR after returned no valid response method=GET path=/after-invalid .*'status'
-- Middleware semantics: `before` may change `req` in place for the handler and `after`;
-- `after(req, resp)` runs for every response the server makes (routes, before's answers,
-- 404, 405, 413, 500, 503, static files), sees the response as it will be sent, and may
-- change it in place or return another.

local seen = {}
local function saw(req, resp)
  seen[req.method .. " " .. req.path] = resp
end

local server = http.server({
  GET = {
    ["/who"] = function(req) return "hello " .. tostring(req.user) end,
    ["/json"] = function() return {json = {a = 1}} end,
    ["/nothing"] = function() end,
    ["/invalid"] = function() return 42 end,
    ["/raises"] = function() error("handler failed on purpose") end,
    ["/slow"] = function() sleep(5) return "late" end,
    ["/cookies"] = function()
      return {headers = {["set-cookie"] = {"a=1", "b=2"}, ["x-one"] = "1"}, body = "c"}
    end,
    ["/mutated"] = function() return {status = 200, body = "original"} end,
    ["/replaced"] = function() return "original" end,
    ["/after-raises"] = function() return "fine" end,
    ["/after-invalid"] = function() return "fine" end,
  },
  POST = {["/small"] = function() return "taken" end},
}, {
  host = "127.0.0.1",
  static = {["/assets"] = "fixtures/server/public"},
  timeout = 0.2,
  max_body = 16,
  before = function(req)
    req.user = req.headers["x-user"]
    if req.path == "/denied" then return {status = 403, body = "no"} end
  end,
  after = function(req, resp)
    saw(req, resp)
    resp.headers["x-after"] = tostring(req.user)
    if req.path == "/mutated" then
      resp.status = 201
      resp.body = resp.body .. " + in place"
    elseif req.path == "/replaced" then
      return {status = 202, body = "returned"}
    elseif req.path == "/assets/data.json" then
      resp.headers["cache-control"] = "max-age=60"
    elseif req.path == "/assets/style.css" then
      resp.body = "/* replaced */"
    elseif req.path == "/after-raises" then
      error("after failed on purpose")
    elseif req.path == "/after-invalid" then
      resp.status = "teapot"
    end
  end,
})
local base = "http://127.0.0.1:" .. server.port
local as_ann = {headers = {["x-user"] = "ann"}}

-- before's change to req reaches the handler and after.
local r = http.get(base .. "/who", as_ann)
assert.eq({r.status, r.body, r.headers["x-after"]}, {200, "hello ann", "ann"})
-- after sees the response as sent: a string's status and type, json encoded, nil as 204.
assert.eq(seen["GET /who"].status, 200)
assert.eq(seen["GET /who"].headers["content-type"], "text/plain; charset=utf-8")
assert.eq(seen["GET /who"].body, "hello ann")
http.get(base .. "/json")
assert.eq(seen["GET /json"].body, '{"a":1}')
assert.eq(seen["GET /json"].headers["content-type"], "application/json")
r = http.get(base .. "/nothing")
assert.eq({r.status, seen["GET /nothing"].status, r.headers["x-after"]}, {204, 204, "nil"})

-- In place or returned, both count.
r = http.get(base .. "/mutated")
assert.eq({r.status, r.body}, {201, "original + in place"})
r = http.get(base .. "/replaced")
assert.eq({r.status, r.body, r.headers["x-after"]}, {202, "returned", nil})

-- A header sent twice is a list, both ways.
r = http.get(base .. "/cookies")
assert.eq(seen["GET /cookies"].headers["set-cookie"], {"a=1", "b=2"})
assert.eq(seen["GET /cookies"].headers["x-one"], "1")
assert.eq(r.headers["x-after"], "nil")

-- before's own answer goes through after.
r = http.get(base .. "/denied", as_ann)
assert.eq({r.status, r.body, r.headers["x-after"]}, {403, "no", "ann"})

-- The server's own answers: 404, 405 (its Allow kept), 413, 500 (raised, or an invalid
-- return, which after sees as the 500 it became), 503.
r = http.get(base .. "/missing", as_ann)
assert.eq({r.status, r.headers["x-after"]}, {404, "ann"})
r = http.delete(base .. "/who")
assert.eq({r.status, r.headers["x-after"], seen["DELETE /who"].status}, {405, "nil", 405})
assert.contains(r.headers["allow"], "GET")
r = http.post(base .. "/small", string.rep("x", 100))
assert.eq({r.status, r.headers["x-after"]}, {413, "nil"})
r = http.get(base .. "/invalid", as_ann)
assert.eq({r.status, r.headers["x-after"], seen["GET /invalid"].status}, {500, "ann", 500})
r = http.get(base .. "/raises")
assert.eq({r.status, r.headers["x-after"]}, {500, "nil"})
r = http.get(base .. "/slow")
assert.eq({r.status, r.headers["x-after"]}, {503, "nil"})

-- Static files: after sees no body (streamed from disk), may add headers or replace the body;
-- lengths, ranges and HEAD stay right.
r = http.get(base .. "/assets/data.json", as_ann)
assert.eq({r.status, r.headers["cache-control"], r.headers["x-after"]}, {200, "max-age=60", "ann"})
assert.eq(seen["GET /assets/data.json"].body, nil)
assert.eq(seen["GET /assets/data.json"].status, 200)
assert.eq(r.headers["content-length"], tostring(#r.body))
assert.eq(r:json() ~= nil, true)
r = http.get(base .. "/assets/data.json", {headers = {range = "bytes=0-3"}})
assert.eq({r.status, #r.body, r.headers["content-length"]}, {206, 4, "4"})
r = http.request("HEAD", base .. "/assets/data.json")
assert.eq({r.status, r.body, r.headers["cache-control"]}, {200, "", "max-age=60"})
assert.eq(seen["HEAD /assets/data.json"].body, nil)
r = http.get(base .. "/assets/style.css")
assert.eq({r.status, r.body, r.headers["content-length"]}, {200, "/* replaced */", "14"})

-- A failing after is a 500 naming it (and after does not run again for it).
r = http.get(base .. "/after-raises")
assert.eq({r.status, r.headers["x-after"]}, {500, nil})
r = http.get(base .. "/after-invalid")
assert.eq({r.status, r.headers["x-after"]}, {500, nil})

server:stop()
server:wait()
print("middleware ok")
