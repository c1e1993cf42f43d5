-- test: flags --sandbox
-- The sandbox keeps the HTTP client (checks probe services) and nothing else of the plugins:
-- no server, and every function of other plugins' globals refuses by name.
assert.eq(type(http.get), "function")
assert.eq(type(http.client), "function")
assert.raises(function() http.server({}) end, "http.server is not available in sandbox")
assert.raises(function() http.serve(0, {}) end, "http.serve is not available in sandbox")
assert.raises(function() crypto.hash("x") end, "crypto.hash is not available in sandbox")
assert.raises(function() probe.noop() end, "probe.noop is not available in sandbox")
print("ok")
