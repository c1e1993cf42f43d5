-- wss: trusted through ca_cert (a path or the PEM text), refused without it, for the wrong
-- name and self-signed unless insecure. The reasons are the http client's, word for word.
local trusted, wrong, selfsigned, ca = arg[1], arg[2], arg[3], arg[4]

local conn = ws.connect(trusted .. "/echo", {ca_cert = ca})
conn:send("over tls")
assert.eq(conn:recv(5), "over tls")
conn:close()
conn = ws.connect(trusted .. "/echo", {ca_cert = fs.read(ca)})
conn:close()

-- The failure's reason after "failed: ", from both clients.
local function reasons(url, opts)
  local ok, ws_err = pcall(ws.connect, url .. "/echo", opts)
  assert(not ok, "ws connected to " .. url)
  local https = url:gsub("^wss://", "https://")
  local client = http.client(opts or {})
  local ok2, http_err = pcall(client.get, client, https .. "/echo")
  assert(not ok2, "http connected to " .. https)
  local ws_reason = ws_err:match("TLS handshake with [^ ]+ failed: (.*)$")
  local http_reason = http_err:match("TLS handshake with [^ ]+ failed: (.*)$")
  assert(ws_reason, ws_err)
  assert(http_reason, http_err)
  assert.eq(ws_reason, http_reason)
  return ws_reason
end

local why = reasons(trusted)
assert(why:find("certificate signed by an unknown CA", 1, true), why)
why = reasons(wrong, {ca_cert = ca})
assert(why:find("certificate not valid for name '127.0.0.1'", 1, true), why)
-- A self-signed certificate nobody vouches for: whatever rustls finds wrong, said as the
-- http client says it.
why = reasons(selfsigned)
assert(why:find("certificate", 1, true), why)
-- Given as ca_cert (it is made with CA:FALSE), it is trusted for its own names.
conn = ws.connect(selfsigned .. "/echo", {ca_cert = arg[5]})
conn:close()

conn = ws.connect(selfsigned .. "/echo", {insecure = true})
conn:send("unverified")
assert.eq(conn:recv(5), "unverified")
conn:close()
print("ok")
