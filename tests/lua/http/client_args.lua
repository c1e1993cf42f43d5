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
-- auth, form, multipart, output, stream, decompress
raises(function() http.get(url, {auth = "u:p"}) end, "field 'auth': {user, password} or {bearer = token} expected, got 'u:p'")
raises(function() http.get(url, {auth = {"u"}}) end, "field 'auth': {user, password} or {bearer = token} expected, got table")
raises(function() http.get(url, {auth = {user = "u"}}) end, "field 'auth': the password is missing")
raises(function() http.get(url, {auth = {bearer = 5}}) end, "field 'auth': the bearer token must be a string, got number")
raises(function() http.get(url, {auth = {bearer = "t", user = "u"}}) end, "field 'auth': bearer is given alone")
raises(function() http.get(url, {auth = {tokn = "t"}}) end, "field 'auth': unknown key 'tokn'")
raises(function() http.get(url, {auth = {"u", "p"}, headers = {authorization = "x"}}) end,
  "field 'auth': given with an authorization header")
raises(function() http.post(url, nil, {form = "a=1"}) end, "field 'form': table expected, got string")
raises(function() http.post(url, nil, {form = {a = {b = 1}}}) end, "field 'form': 'a': string, number or boolean expected, got table")
raises(function() http.post(url, "body", {form = {a = 1}}) end, "field 'form': cannot be used with a body")
raises(function() http.request("POST", url, {body = "x", multipart = {}}) end, "field 'multipart': cannot be used with a body")
raises(function() http.post(url, nil, {multipart = "x"}) end, "field 'multipart': a list of parts expected, got string")
raises(function() http.post(url, nil, {multipart = {{value = "v"}}}) end, "field 'multipart': part 1: 'name' is missing")
raises(function() http.post(url, nil, {multipart = {{name = "a", value = "v"}, {name = "b"}}}) end,
  "field 'multipart': part 2: 'value' or 'file' is missing")
raises(function() http.post(url, nil, {multipart = {{name = "a", value = "v", file = "/etc/hostname"}}}) end,
  "part 1: give 'value' or 'file', not both")
raises(function() http.post(url, nil, {multipart = {{name = "a", file = "/nonexistent"}}}) end,
  "part 1: cannot read /nonexistent: No such file or directory")
raises(function() http.post(url, nil, {multipart = {{name = "a", file = "/dev/zero"}}}) end,
  "part 1: cannot read /dev/zero: it is a character device, not a regular file")
raises(function() http.post(url, nil, {multipart = {{name = "a", value = "v", type = "x"}}}) end,
  "part 1: unknown key 'type'; expected name, value, file, filename, content_type")
raises(function() http.get(url, {output = 1}) end, "field 'output': string expected, got number")
raises(function() http.get(url, {output = ""}) end, "field 'output': an empty path")
raises(function() http.get(url, {output = "/tmp/x", stream = true}) end, "field 'stream': cannot be used with output")
raises(function() http.get(url, {stream = 1}) end, "field 'stream': boolean expected, got number")
raises(function() http.get(url, {decompress = "no"}) end, "field 'decompress': boolean expected, got string")
raises(function() http.client{cookies = 1} end, "field 'cookies': boolean expected, got number")

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
