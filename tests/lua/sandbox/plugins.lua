-- test: flags --sandbox
-- The sandbox keeps the HTTP client (checks probe services) and nothing else of the plugins:
-- no server, no other plugin's globals.
assert.eq(type(http.get), "function")
assert.eq(type(http.client), "function")
assert.raises(function() http.server({}) end, "http.server is not available in sandbox")
assert.raises(function() http.serve(0, {}) end, "http.serve is not available in sandbox")
assert.is_nil(crypto)
print("ok")
