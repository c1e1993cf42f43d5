-- test: stdout ^server args ok\n$
-- http.server and http.serve refuse bad arguments before binding anything, naming the
-- argument and the reason; a port in use is an error at once.

local ok = function() return "ok" end
local local_only = {host = "127.0.0.1"}

assert.raises(function() http.server(nil, local_only) end, "routes")
assert.raises(function() http.server({FETCH = {["/"] = ok}}, local_only) end,
  "unknown method \"?FETCH")
assert.raises(function() http.server({GET = {["/"] = "text"}}, local_only) end,
  "GET /: function expected, got string")
assert.raises(function() http.server({GET = {["nope"] = ok}}, local_only) end,
  "paths must start with '/'")
assert.raises(function() http.server({GET = {["/a/*/b"] = ok}}, local_only) end,
  [['\*' must be the last segment]])
assert.raises(function() http.server({GET = {["/x/:"] = ok}}, local_only) end,
  "a parameter needs a name")
assert.raises(function() http.server({GET = {["/x/:a-b"] = ok}}, local_only) end,
  "is not a parameter name")
assert.raises(function() http.server({GET = {["/x/:a"] = ok, ["/x/:b"] = ok}}, local_only) end,
  "routes")

assert.raises(function() http.server({}, {host = "localhost:80"}) end, "host")
assert.raises(function() http.server({}, {host = "127.0.0.1", port = 70000}) end, "port")
assert.raises(function() http.server({}, {host = "127.0.0.1", colour = "blue"}) end, "colour")
assert.raises(function() http.server({}, {host = "127.0.0.1", before = "yes"}) end,
  "before")
assert.raises(function() http.server({}, {host = "127.0.0.1", max_body = -1}) end,
  "max_body")
assert.raises(function() http.server({}, {host = "127.0.0.1", max_message = -1}) end,
  "field 'max_message': -1 is not a positive size")
assert.raises(function() http.server({}, {host = "127.0.0.1", max_message = 0}) end,
  "field 'max_message': 0 is not a positive size")
assert.raises(function() http.server({}, {host = "127.0.0.1", max_message = "1M"}) end,
  "field 'max_message': integer expected, got string")
assert.raises(function() http.server({}, {host = "127.0.0.1", timeout = -1}) end, "timeout")
assert.raises(function()
  http.server({}, {host = "127.0.0.1", static = {["/s"] = "/no/such/folder"}})
end, "is not a folder")
assert.raises(function()
  http.server({}, {host = "127.0.0.1", static = {["s"] = "."}})
end, "must start with '/'")
assert.raises(function() http.serve(-1, {}, local_only) end, "port")

-- A port in use: the second server fails at once, saying where.
local first = http.server({GET = {["/"] = ok}}, local_only)
assert.raises(function()
  http.server({GET = {["/"] = ok}}, {host = "127.0.0.1", port = first.port})
end, [[cannot listen on 127\.0\.0\.1:]] .. first.port)
-- http.serve's port is its first argument; a port option too would be ignored, so it is refused.
assert.raises(function() http.serve(0, {GET = {["/"] = ok}}, {port = 8080}) end,
  "http.serve takes the port as its first argument")
-- `nil` options are accepted (the default host is 0.0.0.0, port 0: any free port).
local any = http.server({GET = {["/"] = ok}}, nil)
assert.gt(any.port, 0)
assert.eq(http.get("http://127.0.0.1:" .. any.port .. "/").body, "ok")
any:stop()
first:stop()
first:wait()
any:wait()
print("server args ok")
