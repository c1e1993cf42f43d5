-- test: flags --sandbox
-- The sandbox keeps the HTTP client (checks probe services) and nothing else of the plugins:
-- no server, and every function of other plugins' globals refuses by name.
assert.eq(type(http.get), "function")
assert.eq(type(http.client), "function")
assert.raises(function() http.server({}) end, "http.server is not available in sandbox")
assert.raises(function() http.serve(0, {}) end, "http.serve is not available in sandbox")
assert.raises(function() crypto.hash("x") end, "crypto.hash is not available in sandbox")
assert.raises(function() probe.noop() end, "probe.noop is not available in sandbox")
assert.raises(function() db.connect("sqlite::memory:") end, "db.connect is not available in sandbox")
assert.raises(function() db.migrate({}, "/tmp") end, "db.migrate is not available in sandbox")
assert.raises(function() template.render_string("x") end, "template.render_string is not available in sandbox")
assert.raises(function() ws.connect("ws://127.0.0.1:1/") end, "ws.connect is not available in sandbox")
-- The http plugin's oci global writes files (blob output) and pushes: none of it.
for _, fn in ipairs({"push", "manifest", "blob", "tags", "catalog"}) do
  assert.raises(function() oci[fn]("127.0.0.1:1/x:1", {}) end, "oci." .. fn .. " is not available in sandbox")
end
-- No file is read for the client either: its PEM options take the text itself.
for _, option in ipairs({"ca_cert", "client_cert", "client_key"}) do
  assert.raises(function() http.client({[option] = "/etc/passwd"}) end,
    option .. ": reading a file is not available in sandbox")
end
local ok, err = pcall(http.client, {ca_cert = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"})
assert.eq(ok, false)
assert(not err:find("not available in sandbox", 1, true), err)
print("ok")
