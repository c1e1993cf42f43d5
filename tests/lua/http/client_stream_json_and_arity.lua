-- A stream's resp:json() reads the rest of the body and decodes it; extra arguments to the
-- response methods and to crypto's functions are refused, as the core's builtins refuse them
-- (`bad argument #N (at most M arguments expected, got G)`).

local server = http.server({
  GET = {
    ["/j"] = function() return {json = {a = 1, list = {1, 2}}} end,
    ["/lines"] = function() return {headers = {["content-type"] = "application/json"},
                                    body = 'skip\n{"rest": true}'} end,
    ["/bad"] = function() return "{not json" end,
    ["/big"] = function() return '"' .. string.rep("x", 5000) .. '"' end,
  },
}, {host = "127.0.0.1"})
local base = "http://127.0.0.1:" .. server.port

local function raises(f, text)
  local ok, err = pcall(f)
  assert.eq(ok, false, "expected an error containing " .. text)
  assert(tostring(err):find(text, 1, true), ("%q does not contain %q"):format(tostring(err), text))
end

-- resp:json() on a stream: the whole body, or what read_line left.
local resp <close> = http.get(base .. "/j", {stream = true})
assert.eq(resp:json(), {a = 1, list = {1, 2}})
assert.is_nil(resp:read())
local lines <close> = http.get(base .. "/lines", {stream = true})
assert.eq(lines:read_line(), "skip")
assert.eq(lines:json(), {rest = true})
local bad <close> = http.get(base .. "/bad", {stream = true})
raises(function() bad:json() end, "invalid JSON")
local big <close> = http.get(base .. "/big", {stream = true, max_body = 1000})
raises(function() big:json() end, "is larger than max_body (1000 bytes)")
local closed = http.get(base .. "/j", {stream = true})
closed:close()
raises(function() closed:json() end, "is closed")

-- Extra arguments.
local s <close> = http.get(base .. "/j", {stream = true})
raises(function() s:read(2) end, "bad argument #1 (at most 0 arguments expected, got 1)")
raises(function() s:read("x") end, "bad argument #1 (at most 0 arguments expected, got 1)")
raises(function() s:read_line(1) end, "bad argument #1 (at most 0 arguments expected, got 1)")
raises(function() s:json(1) end, "bad argument #1 (at most 0 arguments expected, got 1)")
raises(function() s:close(1) end, "bad argument #1 (at most 0 arguments expected, got 1)")
raises(function() s:header_values("x", "y") end, "bad argument #2 (at most 1 argument expected, got 2)")
assert.eq(s:header_values("content-type", nil), {"application/json"})
local r = http.get(base .. "/j")
raises(function() r:header_values("x", "y") end, "bad argument #2 (at most 1 argument expected, got 2)")
raises(function() http.get(base .. "/j", {}, "x") end, "http.get: bad argument #3 (at most 2 arguments expected, got 3)")
raises(function() http.post(base .. "/j", nil, {}, 1) end, "bad argument #4 (at most 3 arguments expected, got 4)")
raises(function() http.client({}, 1) end, "bad argument #2 (at most 1 argument expected, got 2)")
raises(function() server:stop(1) end, "bad argument #1 (at most 0 arguments expected, got 1)")
raises(function() crypto.equal("a", "a", {encoding = "raw"}) end,
  "crypto.equal: bad argument #3 (at most 2 arguments expected, got 3)")
raises(function() crypto.hash("a", "sha256", {}, 1) end, "bad argument #4 (at most 3 arguments expected, got 4)")
raises(function() crypto.hmac("k", "d", "sha256", {}, 1) end, "bad argument #5 (at most 4 arguments expected, got 5)")
raises(function() crypto.random(4, {}, 1) end, "bad argument #3 (at most 2 arguments expected, got 3)")
raises(function() crypto.jwt_decode("x", 1) end, "bad argument #2 (at most 1 argument expected, got 2)")
raises(function() crypto.hash_file("/etc/hostname", "sha256", {}, 1) end,
  "bad argument #4 (at most 3 arguments expected, got 4)")
assert.eq(crypto.equal("a", "a", nil), true)
server:stop()
print("ok")
