-- PostgreSQL (real server from scripts/db-servers): strictly typed parameters, every type of
-- the API both ways, errors naming what failed, queries overlapping on the pool.
local url = require("fixtures.server")("ASSAY_TEST_POSTGRES_URL")
local common = require("fixtures.common")
local conn = db.connect(url, {max_connections = 5, timeout = 30})
common(conn, function(i) return "$" .. i end)

local row = conn:query_one([[select 12345678901234567890.123::numeric as n, 'NaN'::numeric as nan,
  '2024-01-02T03:04:05.5Z'::timestamptz as tz, '2024-01-02 03:04:05'::timestamp as ts,
  '2024-02-03'::date as d, array[1, 2, null] as a, array['x', 'y'] as s,
  '{"k": [1, 2.5, null]}'::jsonb as j, '\x00ff'::bytea as b,
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid as u, 2::int2 as small]])
assert.eq(row.n, "12345678901234567890.123")
assert.eq(row.nan, "NaN")
assert.eq(row.tz, "2024-01-02T03:04:05.5Z")
assert.eq(row.ts, "2024-01-02T03:04:05")
assert.eq(row.d, "2024-02-03")
assert.eq(row.a, {1, 2, json.null})
assert.eq(row.s, {"x", "y"})
assert.eq(row.j, {k = {1, 2.5, json.null}})
assert.eq(row.b, "\0\255")
assert.eq(row.u, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")
assert.eq(math.type(row.small), "integer")

-- parameters encoded as the type each one needs
local back = conn:query_one("select $1::numeric as n, $2::jsonb as j, $3::timestamptz as t, $4::uuid as u, $5::bytea as b, $6::date as d",
  {"-0.001", {a = {1, 2}}, "2024-01-02T03:04:05Z", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "\0\1", "2024-02-03"})
assert.eq(back, {n = "-0.001", j = {a = {1, 2}}, t = "2024-01-02T03:04:05Z",
  u = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", b = "\0\1", d = "2024-02-03"})
local ok, err = pcall(conn.query, conn, "select $1::int as i", {"7"})
assert.matches(err, "parameter 1 is a string, but PostgreSQL expects INT4 there")
ok, err = pcall(conn.query, conn, "select $1::int2 as i", {40000})
assert.matches(err, "40000 does not fit a INT2")

-- constraint violations name the constraint and the SQLSTATE
pcall(conn.execute, conn, "drop table k")
conn:execute("create table k (id int primary key)")
conn:execute("insert into k values ($1)", {1})
ok, err = pcall(conn.execute, conn, "insert into k values ($1)", {1})
assert.matches(err, [[duplicate key value violates unique constraint "k_pkey" \(code 23505, constraint k_pkey\)]])
conn:execute("drop table k")

-- a string bound to a numeric parameter is read as PostgreSQL reads one: exponents, white
-- space, NaN and infinities spelled any way it takes, the same scale
for _, text in ipairs({"1e-20", "1.23e5", " 1", "nan", "+Infinity", "-inf", "1.5E3",
  "-0.00120e2", "1.", ".5", "0e5", "1.000e1", "-0", "0.000", "123456789.123456789e-3"}) do
  local r = conn:query_one("select $1::numeric::text as ours, $2::text::numeric::text as theirs", {text, text})
  assert.eq(r.ours, r.theirs, text)
end
ok, err = pcall(conn.query, conn, "select $1::numeric", {"1e99999999"})
assert.matches(err, "parameter 1: '1e99999999' is not a number")

-- 20 queries of 0.5 s on a pool of 5 overlap: about 2 s, not 10
local started = time.monotonic()
local tasks = {}
for i = 1, 20 do
  tasks[i] = async.spawn(function() return conn:query_one("select pg_sleep(0.5), $1::int as i", {i}).i end)
end
for i = 1, 20 do assert.eq(tasks[i]:await(), i) end
local took = time.monotonic() - started
assert.lt(took, 6, "20 queries on a pool of 5 should overlap")

-- connection errors: refused, wrong password, unknown database, and no password shown
local host = url:match("@(.*)/")
ok, err = pcall(db.connect, "postgres://assay:wrong@" .. host .. "/postgres")
assert.matches(err, [[password authentication failed for user "assay" \(code 28P01\)]])
assert.eq(err:find("wrong", 1, true), nil)
ok, err = pcall(db.connect, "postgres://assay:assay-test-pw@" .. host .. "/nodb")
assert.matches(err, [[database "nodb" does not exist \(code 3D000\)]])
ok, err = pcall(db.connect, "postgres://assay:assay-test-pw@127.0.0.1:1/x")
assert.matches(err, [[cannot connect to PostgreSQL at 127\.0\.0\.1:1: ]])
assert.eq(err:find("assay-test-pw", 1, true), nil)
conn:close()
ok, err = pcall(conn.query, conn, "select 1")
assert.matches(err, "closed")

-- <close> gives the connections back to the server: a second pool sees them go
local monitor = db.connect(url, {max_connections = 1})
local function ours()
  return monitor:query_one("select count(*) as n from pg_stat_activity where usename = 'assay'").n
end
local before = ours()
do
  local scoped <close> = db.connect(url, {max_connections = 3})
  local t = {}
  for i = 1, 3 do t[i] = async.spawn(function() return scoped:query_one("select pg_sleep(0.2), 1 as x").x end) end
  for i = 1, 3 do assert.eq(t[i]:await(), 1) end
  assert.gt(ours(), before)
end
local left = ours()
for _ = 1, 50 do
  if left <= before then break end
  sleep(0.1)
  left = ours()
end
assert.eq(left, before, "the closed pool's connections are gone")

-- a slow query never holds up an http.server handler beside it
local server = http.server({GET = {["/ping"] = function() return "pong" end}},
  {host = "127.0.0.1", port = 0})
local slow = async.spawn(function() return monitor:query_one("select pg_sleep(1), 1 as x").x end)
sleep(0.1)
local t0 = time.monotonic()
assert.eq(http.get("http://127.0.0.1:" .. server.port .. "/ping").body, "pong")
assert.lt(time.monotonic() - t0, 0.5, "the handler answered while the query ran")
assert.eq(slow:await(), 1)
server:stop()

-- a pool with no free connection within `timeout` says so
local tight = db.connect(url, {max_connections = 1, timeout = 0.3})
local holder = async.spawn(function() return tight:query_one("select pg_sleep(1), 1 as x").x end)
sleep(0.1)
ok, err = pcall(tight.query, tight, "select 1")
assert.matches(err, "no connection became free in time")
assert.eq(holder:await(), 1)

-- a task cancelled inside its transaction rolls back at once: its row lock is free and its
-- write gone (before, the lock stayed until the collector freed the tx object)
local locks = db.connect(url, {max_connections = 2, timeout = 5})
locks:execute("drop table if exists held")
locks:execute("create table held (id int primary key, n int)")
locks:execute("insert into held values (1, 0)")
local holder = async.spawn(function()
  locks:transaction(function(tx)
    tx:execute("update held set n = n + 1 where id = 1")
    sleep(5)
  end)
end)
sleep(0.2)
holder:cancel()
local t1 = time.monotonic()
locks:execute("update held set n = n + 10 where id = 1")
assert.lt(time.monotonic() - t1, 2, "the cancelled transaction's lock was released")
assert.eq(locks:query_one("select n from held where id = 1").n, 10)
locks:execute("drop table held")
-- closing a pool inside its own transaction returns (the transaction's connection closes
-- when it ends)
assert.eq(locks:transaction(function(tx)
  tx:query("select 1")
  locks:close()
  return "closed"
end), "closed")
ok, err = pcall(locks.query, locks, "select 1")
assert.matches(err, "closed")

-- a cancelled statement gives its pool slot back at once, and the server stops it
local one = db.connect(url, {max_connections = 1, timeout = 3})
local long = async.spawn(function() return one:query("select pg_sleep(20) /* assay-cancelled */") end)
sleep(0.3)
long:cancel()
local t2 = time.monotonic()
assert.eq(one:query_one("select 1 as x").x, 1)
assert.lt(time.monotonic() - t2, 2, "the slot came back")
local running = 1
for _ = 1, 40 do
  running = monitor:query_one([[select count(*) as n from pg_stat_activity
    where query like '%assay-cancelled%' and pid <> pg_backend_pid()]]).n
  if running == 0 then break end
  sleep(0.1)
end
assert.eq(running, 0, "the server stopped the cancelled statement")
one:close()

-- idle_timeout: connections unused that long are closed; the server sees them go
local idle = db.connect(url .. (url:find("?", 1, true) and "&" or "?") .. "application_name=assay_idle",
  {max_connections = 3, idle_timeout = 0.5})
local busy = {}
for i = 1, 3 do busy[i] = async.spawn(function() return idle:query_one("select pg_sleep(0.2), 1 as x").x end) end
for i = 1, 3 do assert.eq(busy[i]:await(), 1) end
local function idle_ones()
  return monitor:query_one("select count(*) as n from pg_stat_activity where application_name = 'assay_idle'").n
end
assert.eq(idle_ones(), 3)
local n = idle_ones()
for _ = 1, 50 do
  if n == 0 then break end
  sleep(0.1)
  n = idle_ones()
end
assert.eq(n, 0, "the idle connections were closed")
assert.eq(idle:query_one("select 1 as x").x, 1)
print("postgres ok")
