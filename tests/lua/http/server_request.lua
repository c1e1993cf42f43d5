-- test: stdout ^server request ok\n$
-- The `req` table: `headers` and `query` are decoded only when a handler first reads them
-- (a handler that reads only `req.params` does not pay for them), yet behave as plain fields:
-- listed by `pairs`, assignable (nil included), the same through `before` and `after`, with
-- repeated keys, `+`, `%XX` and any header byte decoded as before they were lazy.

local seen_after = {}
local function snapshot(req)
  local keys = {}
  for k in pairs(req) do keys[#keys + 1] = k end
  table.sort(keys)
  return table.concat(keys, ",")
end

local server = http.server({
  GET = {
    ["/items/:id"] = function(req)
      -- Not decoded yet: nothing but the fields every handler gets is in the table.
      local before = {headers = rawget(req, "headers") == nil, query = rawget(req, "query") == nil}
      local id = req.params.id
      return {json = {id = id, lazy = before, after_read = rawget(req, "headers") == nil}}
    end,
    ["/read"] = function(req)
      local host = req.headers.host
      return {json = {host = host, decoded = rawget(req, "headers") ~= nil,
                      query_untouched = rawget(req, "query") == nil,
                      same = req.headers == req.headers}}
    end,
    ["/pairs"] = function(req) return snapshot(req) end,
    ["/query"] = function(req) return {json = req.query} end,
    ["/headers"] = function(req)
      return {json = {cookie = req.headers["cookie"], multi = req.headers["x-multi"],
                      bytes = req.headers["x-bytes"] == "caf\xc3\xa9\tx\xff", empty = req.headers["x-empty"]}}
    end,
    ["/assign"] = function(req)
      req.headers = nil
      req.query = {mine = "yes"}
      return {json = {headers = req.headers == nil, query = req.query}}
    end,
    ["/replaced-mt"] = function(req)
      setmetatable(req, nil)
      return {json = {headers = req.headers == nil}}
    end,
  },
}, {host = "127.0.0.1"})
local base = "http://127.0.0.1:" .. server.port

-- Middleware: `before` sees a lazy `req`; what it changes reaches the handler and `after`.
local function note(req)
  seen_after[#seen_after + 1] = req.path .. " q=" .. tostring(req.query.q)
    .. " agent=" .. tostring(req.headers["x-agent"])
end
local middle = http.server({
  GET = {
    ["/from-before"] = function(req)
      return {json = {user = req.user, agent = req.headers["x-agent"], q = req.query.q}}
    end,
  },
}, {
  host = "127.0.0.1",
  before = function(req)
    req.user = "ann"
    req.headers["x-agent"] = "changed by before"
  end,
  after = note,
})
-- `after` alone gets a lazy `req` too.
local after_only = http.server({GET = {["/plain"] = function() return "plain" end}},
  {host = "127.0.0.1", after = note})

local r = http.get(base .. "/items/7?x=1"):json()
assert.eq(r, {id = "7", lazy = {headers = true, query = true}, after_read = true})

r = http.get(base .. "/read"):json()
assert.eq(r, {host = "127.0.0.1:" .. server.port, decoded = true, query_untouched = true,
              same = true})

assert.eq(http.get(base .. "/pairs?a=1").body,
  "body,headers,json,method,params,path,query,remote_addr")

-- The query, decoded as before: `+` a space, `%XX` a byte, a stray `%` kept, repeats a list,
-- a key without `=` an empty string, empty pairs skipped.
assert.eq(http.get(base .. "/query?a=1&b=x%20y+z&tag=p&tag=q&tag=r&flag&&%zz=%4&k=%E2%82%AC&%2B=%2b&=v"):json(),
  {a = "1", b = "x y z", tag = {"p", "q", "r"}, flag = "", ["%zz"] = "%4", k = "€", ["+"] = "+",
   [""] = "v"})
assert.eq(http.get(base .. "/query"):json(), {})

-- Headers: lower-case names, repeats joined with ", ", any byte a value may carry.
local raw = http.get(base .. "/headers", {headers = {
  Cookie = "a=1; b=2", ["X-Multi"] = {"one", "two"}, ["X-Bytes"] = "caf\xc3\xa9\tx\xff",
  ["X-Empty"] = "",
}})
assert.eq(raw:json(), {cookie = "a=1; b=2", multi = "one, two", bytes = true, empty = ""})

-- What the script assigns is its own, nil included.
assert.eq(http.get(base .. "/assign?q=1"):json(), {headers = true, query = {mine = "yes"}})

-- `before` changes reach the handler (and `after`), decoded fields and all.
assert.eq(http.get("http://127.0.0.1:" .. middle.port .. "/from-before?q=search"):json(),
  {user = "ann", agent = "changed by before", q = "search"})
assert.eq(http.get("http://127.0.0.1:" .. after_only.port .. "/plain?q=p",
  {headers = {["X-Agent"] = "sent"}}).body, "plain")

-- A script that drops the metatable gets a plain table.
assert.eq(http.get(base .. "/replaced-mt"):json(), {headers = true})

for _, s in ipairs({server, middle, after_only}) do
  s:stop()
  s:wait()
end
assert.eq(seen_after, {"/from-before q=search agent=changed by before", "/plain q=p agent=sent"})
print("server request ok")
