-- test: stdout ^server stream ok\n$
-- test: stderr ERROR stream raised an error method=GET path=/raise route="GET /raise" error=".*server_stream\.lua:\d+: stream failed on purpose
-- test: stderr ERROR handler returned no valid response method=GET path=/length .*content-length 10 with 'stream' \(leave content-length out
-- test: stderr ERROR handler returned no valid response method=GET path=/both .*give 'stream' or 'body'/'json', not both
-- test: stderr ERROR handler returned no valid response method=GET path=/typed .*'stream' must be a function\(body\), not a string
-- test: stderr ERROR handler returned no valid response method=GET path=/nocontent .*status 204 has no body, so no 'stream'
-- test: stderr ERROR after returned no valid response method=GET path=/after-length .*content-length 5 with 'stream'
-- test: no-stderr client closed|server is stopping|timed out
-- Streamed response bodies (`{stream = function(body) ... end}`, API.md "http plugin") read
-- with the Assay client (`stream = true`) in the same script: lines arrive while they are
-- written, `after` sees the head and may replace the body, HEAD does not call the function,
-- invalid answers are 500s, a raising producer cuts the body short, `timeout` does not bound
-- a stream, 50 streams at once, and `server:stop()` ends open streams at once.
-- (plugins/http/tests/server/stream.rs drives one from outside: Python, curl, SIGTERM, ss.)

local written = {}   -- lines written per stream id
local called = {}    -- stream functions called, by id
local leaked          -- a body kept past its function's end
local write_errors = {}

local function lines_of(id, n, pause)
  return function(body)
    called[id] = true
    for i = 1, n do
      if i > 1 and pause > 0 then sleep(pause) end
      body:write(id .. ":" .. i .. "\n")
      written[id] = i
    end
  end
end

local server = http.server({
  GET = {
    ["/watch"] = function(req)
      local id = http.query_value(req.query, "id")
      return {headers = {["content-type"] = "application/x-ndjson"}, stream = lines_of(id, 5, 0.2)}
    end,
    ["/many"] = function(req)
      local id = http.query_value(req.query, "id")
      return {stream = lines_of(id, 5, 0.01)}
    end,
    ["/after-header"] = function() return {status = 200, stream = lines_of("after-header", 2, 0)} end,
    ["/after-replaced"] = function() return {stream = lines_of("after-replaced", 2, 0)} end,
    ["/after-length"] = function() return {stream = lines_of("after-length", 2, 0)} end,
    ["/length"] = function() return {headers = {["content-length"] = "10"}, stream = lines_of("length", 1, 0)} end,
    ["/both"] = function() return {body = "x", stream = lines_of("both", 1, 0)} end,
    ["/typed"] = function() return {stream = "not a function"} end,
    ["/nocontent"] = function() return {status = 204, stream = lines_of("nocontent", 1, 0)} end,
    ["/raise"] = function()
      return {stream = function(body)
        body:write("line 1\n")
        sleep(0.05)
        error("stream failed on purpose")
      end}
    end,
    ["/args"] = function()
      return {stream = function(body)
        for _, bad in ipairs({42, {}, true}) do
          local ok, err = pcall(body.write, body, bad)
          write_errors[#write_errors + 1] = ok and "no error" or err
        end
        body:write("")  -- nothing, not an end
        body:write("after empty\n")
        leaked = body
      end}
    end,
    ["/slow-stream"] = function()
      -- The handler answers at once; the stream lasts past `timeout` (0.2 s).
      return {stream = lines_of("slow-stream", 4, 0.1)}
    end,
  },
}, {
  host = "127.0.0.1",
  timeout = 0.2,
  -- `before` may answer with a stream too, for a path no route has.
  before = function(req)
    if req.path == "/before-stream" then return {stream = lines_of("before", 2, 0)} end
  end,
  after = function(req, resp)
    if req.path == "/after-header" then
      assert.eq(resp.body, nil)
      resp.headers["x-after"] = "seen " .. tostring(resp.status)
      resp.status = 201
    elseif req.path == "/after-replaced" then
      assert.eq(resp.body, nil)
      return {status = 200, body = "replaced by after"}
    elseif req.path == "/after-length" then
      resp.headers["content-length"] = "5"
    end
  end,
})
local base = "http://127.0.0.1:" .. server.port

-- Line 1 arrives while the server has written 1 line (2 on a slow machine) of 5, 0.2 s apart.
do
  local resp <close> = http.get(base .. "/watch?id=w", {stream = true})
  assert.eq(resp.status, 200)
  assert.eq(resp.headers["content-type"], "application/x-ndjson")
  assert.eq(resp.headers["transfer-encoding"], "chunked")
  assert.eq(resp.headers["content-length"], nil)
  assert.eq(resp:read_line(), "w:1")
  assert.le(written.w, 2, "line 1 read after this many lines were written")
  local rest = {}
  for line in resp:lines() do rest[#rest + 1] = line end
  assert.eq(rest, {"w:2", "w:3", "w:4", "w:5"})
end

-- HEAD: the head, and the function is not called.
do
  local resp = http.request("HEAD", base .. "/watch?id=head")
  assert.eq(resp.status, 200)
  assert.eq(resp.body, "")
  assert.eq(resp.headers["content-type"], "application/x-ndjson")
  sleep(0.1)
  assert.eq(called.head, nil)
end

-- `after` sees the head (no body) and may change it; a body it gives replaces the stream.
do
  local resp = http.get(base .. "/after-header")
  assert.eq(resp.status, 201)
  assert.eq(resp.headers["x-after"], "seen 200")
  assert.eq(resp.body, "after-header:1\nafter-header:2\n")
  resp = http.get(base .. "/after-replaced")
  assert.eq(resp.status, 200)
  assert.eq(resp.body, "replaced by after")
  sleep(0.1)
  assert.eq(called["after-replaced"], nil)
  assert.eq(http.get(base .. "/after-length").status, 500)
end

assert.eq(http.get(base .. "/before-stream").body, "before:1\nbefore:2\n")

-- Invalid answers: 500, and the function is never called.
for _, path in ipairs({"/length", "/both", "/typed", "/nocontent"}) do
  local resp = http.get(base .. path)
  assert.eq(resp.status, 500, path)
end
sleep(0.1)
assert.eq(called.length, nil)
assert.eq(called.both, nil)
assert.eq(called.nocontent, nil)

-- A raising producer: what it wrote arrives, then the read raises (no complete body).
do
  local resp <close> = http.get(base .. "/raise", {stream = true})
  assert.eq(resp.status, 200)
  local got = {}
  local ok, err = pcall(function()
    for line in resp:lines() do got[#got + 1] = line end
  end)
  assert.eq(ok, false, "the body looked complete: " .. table.concat(got, ","))
  assert.matches(tostring(err), "reading the response")
  -- Read whole, it is an error too, never a body that looks complete.
  local buffered_ok, buffered_err = pcall(http.get, base .. "/raise")
  assert.eq(buffered_ok, false)
  assert.matches(tostring(buffered_err), "reading the response")
end

-- write's argument, "" a no-op, and a body written after its function ended.
do
  assert.eq(http.get(base .. "/args").body, "after empty\n")
  assert.eq(#write_errors, 3)
  assert.matches(write_errors[1], "bad argument #1 'chunk' \\(string expected, got number\\)")
  assert.matches(write_errors[2], "got table")
  assert.matches(write_errors[3], "got boolean")
  assert.eq(leaked.closed, true)
  local ok, err = pcall(leaked.write, leaked, "too late")
  assert.eq(ok, false)
  assert.matches(err, "http.server: the response has ended")
end

-- `timeout` bounds the handler, not the stream.
assert.eq(http.get(base .. "/slow-stream").body, "slow-stream:1\nslow-stream:2\nslow-stream:3\nslow-stream:4\n")

-- 50 streams at once, each its own lines in order.
do
  local tasks = {}
  for i = 1, 50 do
    tasks[i] = async.spawn(function()
      local resp <close> = http.get(base .. "/many?id=s" .. i, {stream = true})
      local got = {}
      for line in resp:lines() do got[#got + 1] = line end
      return got
    end)
  end
  for i, task in ipairs(tasks) do
    local id = "s" .. i
    assert.eq(task:await(), {id .. ":1", id .. ":2", id .. ":3", id .. ":4", id .. ":5"})
  end
end

server:stop()
server:wait()

-- stop() with open streams: their bodies end cleanly at once; a producer sleeping 60 s does
-- not hold the stop; one that writes again is told; the sleeper is dropped after the grace.
do
  local told, sleeper_closed, writer_body
  local stopping = http.server({GET = {
    ["/sleeper"] = function()
      return {stream = function(body)
        local guard <close> = setmetatable({}, {__close = function() sleeper_closed = true end})
        body:write("first\n")
        sleep(60)
        body:write("never\n")
      end}
    end,
    ["/writer"] = function()
      return {stream = function(body)
        writer_body = body
        body:write("first\n")
        while true do
          sleep(0.2)
          local ok, err = pcall(body.write, body, "again\n")
          if not ok then told = err return end
        end
      end}
    end,
  }}, {host = "127.0.0.1", grace = 1})
  local url = "http://127.0.0.1:" .. stopping.port
  local sleeper <close> = http.get(url .. "/sleeper", {stream = true})
  local writer <close> = http.get(url .. "/writer", {stream = true})
  assert.eq(sleeper:read_line(), "first")
  assert.eq(writer:read_line(), "first")
  local started = time.monotonic()
  stopping:stop()
  stopping:wait()
  assert.lt(time.monotonic() - started, 0.5, "seconds stop() and wait() took")
  -- Clean ends: no error, the rest of what was written, then nil.
  assert.eq(sleeper:read_line(), nil)
  local last = writer:read_line()
  while last == "again" do last = writer:read_line() end
  assert.eq(last, nil)
  assert.eq(writer_body.closed, true)
  sleep(0.4)
  assert.matches(told, "http.server: the server is stopping")
  assert.eq(sleeper_closed, nil)
  sleep(1)
  assert.eq(sleeper_closed, true, "the sleeping producer is dropped after the grace period")
end

print("server stream ok")
