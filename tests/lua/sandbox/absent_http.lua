-- test: flags --sandbox --lib-path /nowhere
-- test: exit 1
-- test: stderr absent_http\.lua:\d+: attempt to index a nil value \(global 'http'\); `http` is provided by the plugin 'http', which is not installed \(lib path: /nowhere\)
-- In the sandbox, the HTTP client is the one plugin a script may use: without the plugin it
-- says so; the other plugins' globals refuse by name whether installed or not.
assert.raises(function() crypto.hash("x") end, "crypto.hash is not available in sandbox")
assert.eq(http, nil)
http.get("http://127.0.0.1:9/")
