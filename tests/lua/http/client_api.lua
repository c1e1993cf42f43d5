-- The http client's contract (API.md, "http plugin") against a real server: methods, query,
-- JSON and string bodies, headers both ways, 4xx/5xx as responses, resp:json(), redirects,
-- http.client defaults (base_url, headers, timeout), proxies, timeouts, and 50 concurrent
-- requests overlapping.
--
-- The server is $ASSAY_TEST_PEER when set (the http plugin's Rust tests run this file against
-- both tests/conformance peers: Python's http.server and aiohttp); otherwise this suite starts
-- the http.server one itself (fixtures/peer.lua).

local peer
local base = env.get("ASSAY_TEST_PEER")
if not base then
  peer = require("fixtures.peer").start()
  base = peer.url
end

local function run()
  -- GET with a query: keys sorted, values percent-encoded, lists repeat the key.
  local r = http.get(base .. "/echo/path", {
    query = {q = "a b&c", n = 1, tag = {"x", "y"}, flag = true},
    headers = {["X-Token"] = "t1", ["X-Many"] = {"m1", "m2"}},
  })
  assert.eq(r.status, 200)
  assert.eq(r.ok, true)
  assert.eq(r.url, base .. "/echo/path?flag=true&n=1&q=a%20b%26c&tag=x&tag=y")
  local echo = r:json()
  assert.eq(echo.method, "GET")
  assert.eq(echo.path, "/echo/path")
  assert.eq(echo.args, {flag = {"true"}, n = {"1"}, q = {"a b&c"}, tag = {"x", "y"}})
  assert.eq(echo.headers["x-token"], "t1")
  assert.eq(echo.headers["x-many"], "m1, m2")
  assert.matches(echo.headers["user-agent"], [[^assay/\d]])
  assert.eq(echo.body, "")

  -- nil opts; a query joins one already in the URL.
  assert.eq(http.get(base .. "/e", nil).status, 200)
  assert.eq(http.get(base .. "/e?a=1", {query = {b = 2}}):json().query, "a=1&b=2")

  -- A table body is JSON with its content type; a string body is sent as it is, untyped.
  local doc = {name = "widget", sizes = {1, 2.5}, nested = {ok = true, none = json.null}}
  echo = http.post(base .. "/items", doc):json()
  assert.eq(echo.method, "POST")
  assert.eq(echo.headers["content-type"], "application/json")
  assert.eq(json.parse(echo.body), doc)
  echo = http.post(base .. "/items", "raw=bytes", {headers = {["content-type"] = "text/x-raw"}}):json()
  assert.eq(echo.body, "raw=bytes")
  assert.eq(echo.headers["content-type"], "text/x-raw")
  echo = http.post(base .. "/items", "untyped"):json()
  assert.is_nil(echo.headers["content-type"])
  -- A content type the caller set wins over application/json.
  echo = http.patch(base .. "/items/1", {op = "x"}, {headers = {["Content-Type"] = "application/merge-patch+json"}}):json()
  assert.eq(echo.method, "PATCH")
  assert.eq(echo.headers["content-type"], "application/merge-patch+json")
  assert.eq(json.parse(echo.body), {op = "x"})
  -- Empty tables: {} is an object, json.array({}) an array.
  assert.eq(http.put(base .. "/items/1", {}):json().body, "{}")
  assert.eq(http.put(base .. "/items/1", json.array({})):json().body, "[]")
  echo = http.put(base .. "/items/1", {1, 2, 3}):json()
  assert.eq(echo.method, "PUT")
  assert.eq(echo.body, "[1,2,3]")

  echo = http.delete(base .. "/items/1", {body = "gone"}):json()
  assert.eq(echo.method, "DELETE")
  assert.eq(echo.body, "gone")
  echo = http.request("options", base .. "/any", {body = {k = 1}, query = {z = "9"}}):json()
  assert.eq(echo.method, "OPTIONS")
  assert.eq(echo.query, "z=9")
  assert.eq(json.parse(echo.body), {k = 1})
  local head = http.request("HEAD", base .. "/e")
  assert.eq(head.status, 200)
  assert.eq(head.body, "")

  -- 4xx and 5xx are responses, not errors.
  r = http.get(base .. "/status/404")
  assert.eq(r.status, 404)
  assert.eq(r.ok, false)
  assert.eq(r:json().path, "/status/404")
  assert.eq(http.post(base .. "/status/503", "x").status, 503)
  assert.eq(http.get(base .. "/status/299").ok, true)
  assert.eq(http.get(base .. "/status/204").body, "")

  -- Response headers: lower-case names; a repeated header is one string joined with ", ".
  r = http.get(base .. "/headers")
  assert.eq(r.headers["x-multi"], "one, two")
  assert.eq(r.headers["x-mixed-case"], "Yes")
  assert.is_nil(r.headers["X-Mixed-Case"])
  assert.matches(r.headers["content-type"], "^application/json")

  -- resp:json(): arrays stay arrays (even empty), null is json.null, integers stay integers.
  local function raw(body)
    return http.get(base .. "/raw", {query = {type = "application/json", body = body}})
  end
  assert.eq(json.encode(raw("[]"):json()), "[]")
  local parsed = raw('{"a":null,"b":[1,2.5,"s"],"c":{"d":true}}'):json()
  assert.eq(parsed.a, json.null)
  assert.eq(math.type(parsed.b[1]), "integer")
  assert.eq(parsed.b, {1, 2.5, "s"})
  assert.eq(parsed.c.d, true)
  local not_json = http.get(base .. "/raw", {query = {body = "<html>"}})
  assert.eq(not_json.headers["content-type"]:match("^[^;]+"), "text/plain")
  assert.eq(not_json.body, "<html>")
  -- The host's decoder (json.parse's), with json.parse's message.
  assert.raises(function() not_json:json() end,
    [[json: invalid JSON: expected value at byte 0 \(line 1, column 1\)]])
  -- the same function is shared by every response
  assert.eq(rawequal(r.json, not_json.json), true)

  -- Bodies are read up to max_body bytes (per call, or the client's).
  local ten = {query = {body = "0123456789"}}
  assert.eq(http.get(base .. "/raw", {query = ten.query, max_body = 10}).body, "0123456789")
  assert.raises(function() http.get(base .. "/raw", {query = ten.query, max_body = 9}) end,
    [[http\.get: the response body from 127\.0\.0\.1:\d+ is larger than max_body \(9 bytes\)]])
  assert.raises(function() http.client{max_body = 4}:get(base .. "/raw", ten) end,
    [[larger than max_body \(4 bytes\)]])

  -- Redirects: followed (up to 10) by default, resp.url is the final URL.
  r = http.get(base .. "/redirect/3")
  assert.eq(r.status, 200)
  assert.eq(r.url, base .. "/redirect/0")
  local manual = http.client{follow_redirects = false}
  r = manual:get(base .. "/redirect/1")
  assert.eq(r.status, 302)
  assert.eq(r.headers.location, "/redirect/0")
  assert.raises(function() http.client{follow_redirects = 2}:get(base .. "/redirect/3") end,
    [[too many redirects \(more than 2\)]])
  assert.eq(http.client{follow_redirects = 3}:get(base .. "/redirect/3").status, 200)

  -- http.client: base_url joins paths; default headers, overridden per call; timeout.
  local api = http.client{
    base_url = base .. "/api/v1",
    headers = {["X-Default"] = "d", ["X-Over"] = "client", ["User-Agent"] = "probe/1"},
    timeout = 5,
  }
  assert.eq(tostring(api), "http.Client: " .. base .. "/api/v1")
  assert.eq(api.base_url, base .. "/api/v1")
  echo = api:get("/items", {headers = {["X-Over"] = "call"}, query = {page = 2}}):json()
  assert.eq(echo.path, "/api/v1/items")
  assert.eq(echo.query, "page=2")
  assert.eq(echo.headers["x-default"], "d")
  assert.eq(echo.headers["x-over"], "call")
  assert.eq(echo.headers["user-agent"], "probe/1")
  assert.eq(api:get("items"):json().path, "/api/v1/items")
  assert.eq(api:get(base .. "/elsewhere"):json().path, "/elsewhere", "absolute URLs pass through")
  echo = api:post("/items", {a = 1}):json()
  assert.eq({echo.method, echo.path, json.parse(echo.body)}, {"POST", "/api/v1/items", {a = 1}})
  echo = api:put("/items/1", "p"):json()
  assert.eq({echo.method, echo.body}, {"PUT", "p"})
  echo = api:patch("/items/1", {b = 2}):json()
  assert.eq({echo.method, echo.body}, {"PATCH", '{"b":2}'})
  assert.eq(api:delete("/items/1"):json().method, "DELETE")
  assert.eq(api:request("get", base .. "/status/418").status, 418)

  -- A proxy gets the whole URL and forwards it (here the peer answers itself).
  echo = http.client{proxy = base}:get("http://proxied.example/via-proxy"):json()
  assert.eq(echo.headers.host, "proxied.example")
  assert.matches(echo.path, "/via-proxy$")

  -- Timeouts: per call, and the client's.
  local t0 = time.monotonic()
  assert.raises(function() http.get(base .. "/slow", {query = {s = 3}, timeout = 0.2}) end,
    [[http\.get: timed out after 0\.2s]])
  assert.raises(function() http.client{timeout = 0.25}:get(base .. "/slow?s=3") end,
    [[http\.Client:get: timed out after 0\.25s]])
  assert.lt(time.monotonic() - t0, 2, "timeouts end the wait")

  -- 50 requests from async tasks overlap: 50 x 0.5 s take about 0.5 s, not 25 s.
  t0 = time.monotonic()
  local tasks = {}
  for i = 1, 50 do
    tasks[i] = async.spawn(function()
      return http.get(base .. "/slow", {query = {s = 0.5, i = i}}):json().args.i[1]
    end)
  end
  local results = async.all(tasks)
  local elapsed = time.monotonic() - t0
  for i = 1, 50 do assert.eq(results[i], tostring(i)) end
  assert.lt(elapsed, 5, "50 concurrent 0.5 s requests")
  print(("50 concurrent 0.5 s requests took %.2f s"):format(elapsed))
end

local ok, err = pcall(run)
if peer then peer.stop() end
if not ok then error(err, 0) end
