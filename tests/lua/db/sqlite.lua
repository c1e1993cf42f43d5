-- SQLite: a typed round trip, a file database that persists, errors.
local common = require("fixtures.common")
local ok, err, kept
local conn = db.connect("sqlite::memory:")
common(conn, function() return "?" end)
conn:execute("create table t (b blob, d text, j text)")
conn:execute("insert into t values (?, ?, ?)", {"\0\1\255", "2024-01-02T03:04:05Z", {a = {1, 2}}})
local row = conn:query_one("select b, d, j from t")
assert.eq(row.b, "\0\1\255")
assert.eq(row.d, "2024-01-02T03:04:05Z")
assert.eq(json.parse(row.j), {a = {1, 2}})
local last = conn:execute("insert into t (d) values (?)", {"x"})
assert.eq(last.last_insert_id, 2)

local path = os.tmpname() .. ".db"
local file = db.connect("sqlite://" .. path)
file:execute("create table kept (v integer)")
file:execute("insert into kept values (?)", {7})
file:close()
local again = db.connect("sqlite://" .. path)
assert.eq(again:query_one("select v from kept").v, 7)
again:close()
os.remove(path)

ok, err = pcall(db.connect, "sqlite:///nonexistent-dir/x/y.db")
assert.eq(ok, false)
assert.matches(err, [[db\.connect: cannot open the SQLite database sqlite:///nonexistent-dir/x/y\.db: unable to open database file]])

-- one statement per call, said plainly; URL parameters SQLite does not know are refused
ok, err = pcall(conn.execute, conn, "create table a (x int); create table b (x int)")
assert.matches(err, "more than one statement")
ok, err = pcall(db.connect, "sqlite:///tmp/x.db?journal=wal")
assert.matches(err, "unknown parameter 'journal'")

-- rows_affected counts the statement's own rows, not its triggers' or cascades';
-- last_insert_id is there only when the statement inserted a row id
local counts = db.connect("sqlite::memory:")
counts:execute("create table p (id integer primary key, k text unique, n integer)")
counts:execute("create table ch (id integer primary key, p integer references p(id) on delete cascade)")
counts:execute("create table audit (x)")
counts:execute("create table w (k text primary key, v) without rowid")
counts:execute("create trigger tr after update on p begin insert into audit values (new.id); end")
assert.eq(counts:execute("insert into p (k, n) values ('a', 1)").last_insert_id, 1)
assert.eq(counts:execute("insert into p (k, n) values ('b', 1)").last_insert_id, 2)
for _ = 1, 3 do counts:execute("insert into ch (p) values (1)") end
assert.eq(counts:execute("update p set n = 2 where id = 1"), {rows_affected = 1})
local up = counts:execute("insert into p (k, n) values ('a', 1) on conflict (k) do update set n = n + 1")
assert.eq(up, {rows_affected = 1})
assert.eq(counts:execute("insert into w values ('x', 1)"), {rows_affected = 1})
assert.eq(counts:execute("delete from p where id = 1"), {rows_affected = 1})
assert.eq(counts:query_one("select count(*) as n from ch").n, 0)
-- NaN would be stored as NULL: refused
ok, err = pcall(counts.query, counts, "select ? as x", {0/0})
assert.matches(err, "parameter 1 is NaN")
-- a migration that commits by itself is an error, and not recorded
local mig = fs.tempdir()
fs.write(mig .. "/001_c.sql", "create table c (x int); COMMIT; create table d (x int);")
ok, err = pcall(counts.migrate, counts, mig)
assert.matches(err, "ended the migration's transaction itself")
assert.eq(counts:query("select version from assay_migrations"), {})
fs.remove(mig, {recursive = true})
-- conn used inside its own transaction on a memory database: said plainly
local lone = db.connect("sqlite::memory:", {timeout = 0.2})
ok, err = pcall(lone.transaction, lone, function() return lone:query_one("select 1 as x") end)
assert.matches(err, "inside conn:transaction, run statements on tx, not conn")
-- URLs: a '#' would cut the file name, an empty path is no file
ok, err = pcall(db.connect, "sqlite:///tmp/a#b.db")
assert.matches(err, "write it as %23")
ok, err = pcall(db.connect, "sqlite://")
assert.matches(err, "names no file")

-- a file database's pool of 5: 20 queries at once each get their own result
local dir = fs.tempdir()
local pool = db.connect("sqlite://" .. dir .. "/pool.db", {max_connections = 5})
local function counting(n)
  return ("with recursive n(i) as (select 1 union all select i + 1 from n where i < %d) "
    .. "select count(*) + ? as c from n"):format(n)
end
local slow = counting(200000)
local tasks = {}
for i = 1, 20 do tasks[i] = async.spawn(function() return pool:query_one(slow, {i}).c end) end
for i = 1, 20 do assert.eq(tasks[i]:await(), 200000 + i) end

-- a long query moves off the script's thread: a ticker goes on while it runs (run on the
-- script's thread, it would not tick once)
local ticks, finished = 0, false
local ticker = async.spawn(function()
  while not finished do ticks = ticks + 1; sleep(0.005) end
end)
sleep(0.01)
local before = ticks
assert.eq(pool:query_one(counting(3000000), {0}).c, 3000000)
finished = true
ticker:await()
assert.gt(ticks - before, 5, "the script went on while the query ran")

-- a writer finds the database locked by another coroutine's transaction: it waits for the
-- commit by yielding (the holder goes on), then writes
pool:execute("create table w (v integer)")
local order = {}
local holder = async.spawn(function()
  pool:transaction(function(tx)
    tx:execute("insert into w values (1)")
    order[#order + 1] = "holder in"
    sleep(0.3)
    order[#order + 1] = "holder out"
  end)
end)
sleep(0.05)
pool:execute("insert into w values (2)")
order[#order + 1] = "writer"
holder:await()
assert.eq(order, {"holder in", "holder out", "writer"})
assert.eq(pool:query("select v from w order by rowid"), {{v = 1}, {v = 2}})

-- a slow query inside a transaction moves off the thread and back: the transaction goes on
pool:transaction(function(tx)
  assert.eq(tx:query_one(slow, {0}).c, 200000)
  tx:execute("insert into w values (3)")
end)
assert.eq(pool:query_one("select count(*) as n from w").n, 3)

-- read-only: writes are refused by SQLite
local ro = db.connect("sqlite://" .. dir .. "/pool.db?mode=ro")
assert.eq(ro:query_one("select count(*) as n from w").n, 3)
ok, err = pcall(ro.execute, ro, "insert into w values (4)")
assert.matches(err, "readonly")
ro:close()

-- a task cancelled inside its transaction rolls it back at once: the write lock is free
-- and the write gone, without waiting for the collector
local cancelled = async.spawn(function()
  pool:transaction(function(tx)
    tx:execute("insert into w values (100)")
    sleep(5)
  end)
end)
sleep(0.1)
cancelled:cancel()
pool:execute("insert into w values (101)")
assert.eq(pool:query_one("select count(*) as n from w where v >= 100").n, 1)
pool:execute("delete from w where v >= 100")

-- a cancelled slow query gives its connection back: the one connection of a memory
-- database, with the database in it
local mem = db.connect("sqlite::memory:")
mem:execute("create table kept (v integer)")
mem:execute("insert into kept values (42)")
local doomed = async.spawn(function() return mem:query_one(slow, {0}) end)
sleep(0.02)
doomed:cancel()
assert.eq(mem:query_one("select v from kept").v, 42)

-- <close> closes the pool
do
  local scoped <close> = db.connect("sqlite://" .. dir .. "/pool.db")
  assert.eq(scoped:query_one("select count(*) as n from w").n, 3)
  kept = scoped
end
ok, err = pcall(kept.query, kept, "select 1")
assert.matches(err, "closed")
pool:close()

-- idle_timeout: connections unused that long are closed (their files seen from outside)
local idle = db.connect("sqlite://" .. dir .. "/idle.db", {max_connections = 3, idle_timeout = 0.3})
local function open_files()
  local listing = process.run({"sh", "-c", "ls -l /proc/$PPID/fd"}).stdout
  local n = 0
  for _ in listing:gmatch("/idle%.db\n") do n = n + 1 end
  return n
end
local three = {}
for i = 1, 3 do three[i] = async.spawn(function() return idle:query_one(slow, {i}).c end) end
for i = 1, 3 do assert.eq(three[i]:await(), 200000 + i) end
assert.eq(open_files(), 3)
local n = open_files()
for _ = 1, 30 do
  if n == 0 then break end
  sleep(0.1)
  n = open_files()
end
assert.eq(n, 0, "the idle connections were closed")
assert.eq(idle:query_one("select 1 as x").x, 1)
idle:close()
fs.remove(dir, {recursive = true})
print("sqlite ok")
