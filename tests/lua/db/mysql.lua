-- MariaDB (real server from scripts/db-servers): typed values, errors naming what failed.
local url = require("fixtures.server")("ASSAY_TEST_MYSQL_URL")
local common = require("fixtures.common")
local conn = db.connect(url, {max_connections = 4})
common(conn, function() return "?" end)
pcall(conn.execute, conn, "drop table mt")
conn:execute("create table mt (id bigint auto_increment primary key, d decimal(30,10), dt datetime(6), dd date, bin blob, u bigint unsigned)")
local r = conn:execute("insert into mt (d, dt, dd, bin, u) values (?, ?, ?, ?, ?)",
  {"12345678901234567890.0123456789", "2024-01-02 03:04:05.5", "2024-02-03", "\0\255", "18446744073709551615"})
assert.eq(r.last_insert_id, 1)
local row = conn:query_one("select d, dt, dd, bin, u from mt")
assert.eq(row.d, "12345678901234567890.0123456789")
assert.eq(row.dt, "2024-01-02T03:04:05.5")
assert.eq(row.dd, "2024-02-03")
assert.eq(row.bin, "\0\255")
assert.eq(row.u, "18446744073709551615")
conn:execute("drop table mt")

local host = url:match("@(.*)/")
local ok, err = pcall(db.connect, "mysql://assay:wrong@" .. host .. "/assay")
assert.matches(err, "Access denied for user 'assay'")
assert.eq(err:find("wrong", 1, true), nil)
ok, err = pcall(db.connect, "mysql://assay:assay-test-pw@" .. host .. "/nodb")
assert.matches(err, "Unknown database 'nodb'")
assert.eq(err:find("assay-test-pw", 1, true), nil)
ok, err = pcall(db.connect, "mysql://assay:assay-test-pw@127.0.0.1:1/assay")
assert.matches(err, [[cannot connect to MySQL at 127\.0\.0\.1:1: ]])

-- mariadb:// is MySQL's protocol too; TIMESTAMP is UTC with Z, JSON is text on MariaDB
local maria = db.connect((url:gsub("^mysql:", "mariadb:")))
maria:execute("create table ts (t timestamp(3))")
maria:execute("insert into ts values (?)", {"2024-01-02 03:04:05.123"})
assert.eq(maria:query_one("select t from ts").t, "2024-01-02T03:04:05.123Z")
maria:execute("drop table ts")
row = maria:query_one("select json_object('k', 1) as j, cast(1 as unsigned) as one, true as t")
assert.eq(row.j, '{"k": 1}')
assert.eq(row.one, 1)
assert.eq(row.t, 1)

-- a constraint violation names the key
pcall(maria.execute, maria, "drop table k")
maria:execute("create table k (id int primary key)")
maria:execute("insert into k values (1)")
ok, err = pcall(maria.execute, maria, "insert into k values (1)")
assert.matches(err, [[Duplicate entry '1' for key 'PRIMARY' \(code 23000\)]])
maria:execute("drop table k")
maria:close()

-- 20 queries of 0.5 s on a pool of 5 overlap: about 2 s, not 10
local pool = db.connect(url, {max_connections = 5})
local started = time.monotonic()
local tasks = {}
for i = 1, 20 do
  tasks[i] = async.spawn(function() return pool:query_one("select sleep(0.5) as s, ? as i", {i}).i end)
end
for i = 1, 20 do assert.eq(tasks[i]:await(), i) end
assert.lt(time.monotonic() - started, 6, "20 queries on a pool of 5 should overlap")

-- <close> closes the pool
do
  local scoped <close> = db.connect(url)
  assert.eq(scoped:query_one("select 1 as x").x, 1)
  pool = scoped
end
ok, err = pcall(pool.query, pool, "select 1")
assert.matches(err, "closed")
print("mysql ok")
