-- TLS to the real servers (scripts/db-servers gives both a certificate from its own CA):
-- what the URL asks without ca_cert; verified with ca_cert (a path or the PEM text); the
-- failures said as the http client says them.
local server = require("fixtures.server")
local pg, my = server("ASSAY_TEST_POSTGRES_URL"), server("ASSAY_TEST_MYSQL_URL")
local ca = server("ASSAY_TEST_DB_CA")
local other = ca:gsub("ca%.pem$", "other-ca.pem")
local pg_tls = "select ssl from pg_stat_ssl where pid = pg_backend_pid()"

-- sslmode=require: encrypted, the certificate unchecked (as libpq does)
local conn = db.connect(pg .. "?sslmode=require")
assert.eq(conn:query_one(pg_tls).ssl, true)
conn:close()
conn = db.connect(pg .. "?sslmode=disable")
assert.eq(conn:query_one(pg_tls).ssl, false)
conn:close()

-- ca_cert: verified TLS, by IP address and by name, from a file or the PEM text
for _, opts in ipairs({{ca_cert = ca}, {ca_cert = fs.read(ca)}}) do
  conn = db.connect(pg, opts)
  assert.eq(conn:query_one(pg_tls).ssl, true)
  conn:close()
end
conn = db.connect((pg:gsub("@127%.0%.0%.1:", "@localhost:")), {ca_cert = ca})
assert.eq(conn:query_one(pg_tls).ssl, true)
conn:close()

-- a CA that did not sign the server's certificate, or none (verify-full with the system
-- roots): refused, saying what to do
local ok, err = pcall(db.connect, pg, {ca_cert = other})
assert.eq(ok, false)
assert.matches(err, [[TLS handshake with 127\.0\.0\.1:\d+ failed: certificate signed by an unknown CA ]]
  .. [[\(not in the system roots; add it with ca_cert\)]])
ok, err = pcall(db.connect, pg .. "?sslmode=verify-full")
assert.matches(err, "certificate signed by an unknown CA")
assert.eq(err:find("assay-test-pw", 1, true), nil)

-- mistakes in the options
ok, err = pcall(db.connect, pg .. "?sslmode=disable", {ca_cert = ca})
assert.matches(err, "ca_cert given with sslmode=disable")
ok, err = pcall(db.connect, pg, {ca_cert = "/nonexistent/ca.pem"})
assert.matches(err, [[ca_cert: cannot read /nonexistent/ca\.pem: No such file or directory]])
ok, err = pcall(db.connect, pg, {ca_cert = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"})
assert.matches(err, "no certificate found in ca_cert")
ok, err = pcall(db.connect, "sqlite::memory:", {ca_cert = ca})
assert.matches(err, "SQLite is a file, not a server: it has no TLS")

-- MariaDB: the same
local cipher = "show status like 'Ssl_cipher'"
conn = db.connect(my .. "?ssl-mode=REQUIRED")
assert.ne(conn:query_one(cipher).Value, "")
conn:close()
conn = db.connect(my, {ca_cert = ca})
assert.ne(conn:query_one(cipher).Value, "")
conn:close()
ok, err = pcall(db.connect, my, {ca_cert = other})
assert.matches(err, [[TLS handshake with 127\.0\.0\.1:\d+ failed: certificate signed by an unknown CA]])
ok, err = pcall(db.connect, my .. "?ssl-mode=DISABLED", {ca_cert = ca})
assert.matches(err, "ca_cert given with ssl-mode=DISABLED")
print("tls ok")
