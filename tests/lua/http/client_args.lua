-- The http client's argument checks and network errors that need no server: every bad
-- argument raises naming the argument or option; a refused connection names host and port.

-- Raises, with `text` (plain, not a pattern) in the message.
local function raises(f, text)
  local ok, err = pcall(f)
  assert.eq(ok, false, "expected an error containing " .. text)
  assert(tostring(err):find(text, 1, true), ("%q does not contain %q"):format(tostring(err), text))
end

local url = "http://127.0.0.1:1/"

-- Options: unknown names, wrong types, bad values.
raises(function() http.get(url, {timout = 1}) end,
  "http.get: bad argument #2 'opts' (unknown option 'timout'; expected headers, query, timeout, body, max_body, auth, form, multipart, output, stream, decompress)")
raises(function() http.post(url, "x", {body = "y"}) end, "http.post: bad argument #3 'opts' (unknown option 'body'")
raises(function() http.get(url, {timeout = "1"}) end, "field 'timeout': a number of seconds or false expected, got string")
raises(function() http.get(url, {timeout = true}) end, "field 'timeout': a number of seconds or false expected, got true")
raises(function() http.get(url, {timeout = -1}) end, "field 'timeout': a positive number of seconds expected, got -1")
raises(function() http.client{connect_timeout = 0} end, "field 'connect_timeout': a positive number of seconds expected, got 0")
raises(function() http.get(url, {headers = {["bad name"] = "x"}}) end, "field 'headers': invalid header name 'bad name'")
raises(function() http.get(url, {headers = {x = "a\nb"}}) end, "header 'x': value has a line break")
raises(function() http.get(url, {headers = {x = {}}}) end, "field 'headers'")
raises(function() http.get(url, {query = {x = {a = 1}}}) end, "field 'query'")
raises(function() http.get(url, {max_body = -1}) end, "field 'max_body'")
raises(function() http.get(url, 5) end, "bad argument #2 'opts' (table expected, got number)")

-- URLs and methods.
raises(function() http.get() end, "http.get: bad argument #1 'url' (string expected, got no value)")
raises(function() http.get("not a url") end, "bad argument #1 'url' ('not a url' is not an absolute URL")
raises(function() http.get("ftp://example.com/") end, "unsupported URL scheme 'ftp'")
raises(function() http.get("http://") end, "bad argument #1 'url' (invalid URL 'http://'")
raises(function() http.request("GET /", url) end, "http.request: bad argument #1 'method' ('GET /' is not an HTTP method)")
raises(function() http.request(nil, url) end, "bad argument #1 'method' (string expected")

-- Bodies: strings or tables; tables must be JSON-encodable.
raises(function() http.post(url, 42) end, "http.post: bad argument #2 'body' (string or table expected, got number)")
raises(function() http.post(url, {f = print}) end, "bad argument #2 'body'")
raises(function() http.post(url, {x = 0/0}) end, "bad argument #2 'body'")
raises(function() http.request("PUT", url, {body = true}) end, "field 'body': string or table expected")

-- Client options.
raises(function() http.client{base = "x"} end, "http.client: bad argument #1 'opts' (unknown option 'base'")
raises(function() http.client{base_url = "/relative"} end, "field 'base_url': invalid URL '/relative'")
raises(function() http.client{follow_redirects = "yes"} end, "field 'follow_redirects': boolean or a count of redirects expected, got 'yes'")
raises(function() http.client{follow_redirects = -1} end, "field 'follow_redirects'")
raises(function() http.client{insecure = 1} end, "field 'insecure': boolean expected, got number")
raises(function() http.client{proxy = "not a url"} end, "field 'proxy': invalid URL")
raises(function() http.client{ca_cert = "/nonexistent/ca.pem"} end,
  "http.client: ca_cert: cannot read /nonexistent/ca.pem: No such file or directory")
-- Paths must name regular files of at most 1 MiB: a device or a FIFO is refused without
-- reading it (/dev/stdin used to wait for input; /dev/zero, which grew without end, is tested
-- under a memory cap in plugins/http/tests/client/bounds.rs).
raises(function() http.client{client_cert = "/dev/stdin"} end, "http.client: client_cert: cannot read /dev/stdin: it is ")
raises(function() http.client{ca_cert = "/dev/null"} end,
  "http.client: ca_cert: cannot read /dev/null: it is a character device, not a regular file")
raises(function() http.client{ca_cert = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"} end,
  "no certificate found in ca_cert")
raises(function() http.client{ca_cert = "-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n"} end,
  "ca_cert: bad PEM")
raises(function() http.client{client_key = "/k.pem"} end, "client_key: given without client_cert")
raises(function() http.client(5) end, "http.client: bad argument #1 'opts' (table expected, got number)")
local c = http.client()
raises(function() c:get(url, {nope = 1}) end, "http.Client:get: bad argument #2 'opts' (unknown option 'nope'")
raises(function() c:get("/x") end, "relative path needs http.client{base_url = ...}")

-- Nothing listens on port 1: the error names host and port.
raises(function() http.get(url) end, "http.get: cannot connect to 127.0.0.1:1: connection refused")
raises(function() c:post(url, {a = 1}) end, "http.Client:post: cannot connect to 127.0.0.1:1: connection refused")
-- Names under .invalid never resolve (RFC 6761).
raises(function() http.get("http://no-such-host.invalid/") end, "http.get: cannot resolve host no-such-host.invalid")
