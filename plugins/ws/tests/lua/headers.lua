-- The request carries the path and query, the options' headers, a user agent and the URL's
-- credentials as basic authorization.
local t = dofile(arg[0]:match("^(.*)/") .. "/common.lua")

local url = t.base:gsub("^ws://", "ws://user:p%%40ss@") .. "/headers?a=1&b=2"
local conn = ws.connect(url, {headers = {["x-test"] = "yes", ["x-number"] = 7}})
local seen = json.parse(conn:recv(5))
assert.eq(seen.path, "/headers?a=1&b=2")
assert.eq(seen.headers["x-test"], "yes")
assert.eq(seen.headers["x-number"], "7")
assert(seen.headers["user-agent"]:match("^assay/"), seen.headers["user-agent"])
assert.eq(seen.headers.authorization, "Basic " .. base64.encode("user:p@ss"))
conn:close()

-- A user agent of the script's own replaces ours.
conn = ws.connect(t.base .. "/headers", {headers = {["User-Agent"] = "probe/1"}})
assert.eq(json.parse(conn:recv(5)).headers["user-agent"], "probe/1")
conn:close()
print("ok")
