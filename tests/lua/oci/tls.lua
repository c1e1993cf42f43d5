-- test: stdout ^ok\n$
-- A registry over HTTPS whose certificate a CA of the test's own signed: the system's roots
-- do not trust it (a clear TLS error that says how to proceed), `ca_cert` (a file or the PEM
-- text) does, `insecure = true` skips the check, and `plain_http` against it fails plainly.
local reg = require("fixtures.registry")
local repo = reg.tls .. "/" .. reg.fresh("tls")
local artifact = {artifact_type = "application/vnd.assay.package.v1",
  layers = {{data = "over tls", media_type = "text/plain"}}}

local ok, err = pcall(oci.push, repo .. ":1", artifact)
assert.eq(ok, false)
assert.matches(err, "TLS handshake with 127\\.0\\.0\\.1:\\d+ failed: certificate signed by an unknown CA \\(not in the system roots; add it with ca_cert\\)")

local by_file = {ca_cert = reg.tls_ca}
local pushed = oci.push(repo .. ":1", artifact, by_file)
local by_text = {ca_cert = fs.read(reg.tls_ca)}
local m = oci.manifest(repo .. ":1", by_text)
assert.eq(m.digest, pushed.digest)
assert.eq(oci.blob(repo, m.layers[1].digest, by_text), "over tls")
assert.eq(oci.tags(repo, {insecure = true}), {"1"})
assert.contains(oci.catalog(reg.tls, by_file), (repo:gsub("^[^/]*/", "")))

assert.raises(function() oci.tags(repo, {ca_cert = "/nonexistent/ca.pem"}) end,
  "ca_cert: cannot read /nonexistent/ca.pem")
assert.raises(function() oci.tags(repo, {plain_http = true, timeout = 5}) end,
  "answered HTTP 400 for the tags of .*: Client sent an HTTP request to an HTTPS server")
print("ok")
