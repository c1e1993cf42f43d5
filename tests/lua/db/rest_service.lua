-- A small REST service as a platform team would write it: http.server with its state in
-- SQLite through the db plugin, driven by the http client. Handlers query while others wait.
local conn = db.connect("sqlite::memory:")
conn:execute("create table items (id integer primary key, name text not null unique, tags text)")

local server = http.server({
  POST = {["/items"] = function(req)
    local item = req:json()
    local ok, err = pcall(conn.execute, conn, "insert into items (name, tags) values (?, ?)",
      {item.name, item.tags or json.null})
    if not ok then
      return {status = 409, json = {error = tostring(err)}}  -- the UNIQUE constraint
    end
    return {status = 201, json = conn:query_one("select id, name from items where name = ?", {item.name})}
  end},
  GET = {
    ["/items"] = function() return {json = conn:query("select id, name from items order by id")} end,
    ["/items/:id"] = function(req)
      local item = conn:query_one("select id, name, tags from items where id = ?", {tonumber(req.params.id)})
      if not item then return {status = 404, json = {error = "no such item"}} end
      item.tags = item.tags ~= json.null and json.parse(item.tags) or json.null
      return {json = item}
    end,
  },
}, {host = "127.0.0.1", port = 0})

local base = "http://127.0.0.1:" .. server.port
local created = http.post(base .. "/items", {name = "db", tags = {"sql", "x'); drop table items; --"}})
assert.eq(created.status, 201)
assert.eq(created:json(), {id = 1, name = "db"})
assert.eq(http.post(base .. "/items", {name = "db"}).status, 409)
-- several clients at once
local tasks = {}
for i = 1, 10 do
  tasks[i] = async.spawn(function()
    return http.post(base .. "/items", {name = "item" .. i}).status
  end)
end
for i = 1, 10 do assert.eq(tasks[i]:await(), 201) end
assert.eq(#http.get(base .. "/items"):json(), 11)
local one = http.get(base .. "/items/1"):json()
assert.eq(one.tags, {"sql", "x'); drop table items; --"})
assert.eq(http.get(base .. "/items/999").status, 404)
server:stop()
conn:close()
print("rest service ok")
