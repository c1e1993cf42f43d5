-- db.connect against servers that misbehave, and URLs whose password must never show.
-- A server that accepts and never answers: db.connect gives up after `timeout`.
local silent = process.spawn({"python3", "-c", [[
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
print(s.getsockname()[1], flush=True)
held = []
while True:
    c, _ = s.accept(); held.append(c)
]]})
local port
for line in silent:lines("stdout") do port = line break end
for _, scheme in ipairs({"postgres", "mysql"}) do
  local t0 = time.monotonic()
  local ok, err = pcall(db.connect, scheme .. "://u:secret@127.0.0.1:" .. port .. "/x", {timeout = 0.5})
  assert.eq(ok, false)
  assert.matches(err, [[cannot connect to (PostgreSQL|MySQL) at 127\.0\.0\.1:\d+: no answer within 0\.5 s]])
  assert.lt(time.monotonic() - t0, 3)
end
silent:kill()

-- a password written unencoded, with / ? # @ in it, never shows in a message
for _, url in ipairs({
  "postgres://assay:pa/ss-SECRET@127.0.0.1:1/postgres",
  "postgres://assay:pa?SECRET@127.0.0.1:1/postgres",
  "postgresql:/assay:SECRET@127.0.0.1:1/postgres",
  "mysql://assay:pa/SECRET@127.0.0.1:1/x",
  "mysql://assay:p@ss#SECRET@127.0.0.1:1/x",
  "redis://u:pa/SECRET@h",
}) do
  local ok, err = pcall(db.connect, url, {timeout = 2})
  assert.eq(ok, false)
  assert.eq(err:find("SECRET", 1, true), nil, err)
end

-- a timeout past any clock is for ever, not a panic
local lite = db.connect("sqlite::memory:", {timeout = math.maxinteger, idle_timeout = math.huge})
assert.eq(lite:query_one("select 1 as x").x, 1)
local ok, err = pcall(db.connect, "sqlite::memory:", {timeout = 0/0})
assert.matches(err, "field 'timeout': a positive number of seconds")
print("connect ok")
