-- test: flags --memory-limit 16M
-- SQLite's own memory (a memory database here) counts against the script's memory limit:
-- past it a statement fails saying so, and the script goes on.
local conn = db.connect("sqlite::memory:")
conn:execute("create table t (v blob)")
local ok, err = pcall(function()
  for _ = 1, 30 do conn:execute("insert into t values (randomblob(1024 * 1024))") end
end)
assert.eq(ok, false)
assert.matches(err, "SQLite ran out of memory: its memory counts against the script's memory limit")
conn:execute("delete from t")
conn:execute("insert into t values (randomblob(1024))")
assert.eq(conn:query_one("select count(*) as n from t").n, 1)
print("sqlite memory ok")
