-- test: flags --memory-limit 4M
-- test: stdout ^rows bounded ok\n$
-- The rows a query buffers outside Lua count against the script's memory limit: 5000 rows of
-- 1 KB under a 4 MiB limit is an error saying so, not an unbounded buffer; fewer rows pass.
local conn = db.connect("sqlite::memory:")
local many = [[with recursive n(i) as (select 1 union all select i + 1 from n where i < ?)
  select i, printf('%01000d', i) as pad from n]]
local ok, err = pcall(conn.query, conn, many, {5000})
assert.eq(ok, false)
assert.matches(err, "the rows take more than the memory limit of 4 MiB")
assert.eq(#conn:query(many, {500}), 500)
assert.eq(conn:query_one(many, {5000000}).i, 1)   -- query_one stops at the first row
print("rows bounded ok")
