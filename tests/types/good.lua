-- A project that uses every core global, every plugin and packages as documented: checked
-- by emmylua_check against the definitions `assay types` writes (tests/types.rs), never run.
local doc = json.parse('{"items": [], "n": 1}')
local text = json.encode(doc, {pretty = true, sort_keys = true})
local list = json.array({}) ---@type any[]
local obj = json.object({})
assert(doc ~= json.null)
local docs = yaml.parse_all("a: 1\n---\nb: 2\n")
print(yaml.encode(docs[1]), yaml.parse("a: 1"))
print(toml.encode(toml.parse("a = 1")))
print(base64.encode("hi", {url = true, pad = false}), base64.decode("aGk=", {url = false}))
print(hex.encode("hi"), hex.decode("6869"), uuid.v4(), uuid.v7())
local m = regex.find("id=42", [[(\w+)=(\d+)]])
if m then print(m.match, m.start, m.stop, m.groups[1], m.named.key) end
print(regex.match("a1", "a", 1), #regex.find_all("a1b2", [[\d]]), #regex.split("a,b", ","))
print(regex.replace("a-b", "-", "+", {all = true}))
print(regex.replace("a-b", "-", function(found) return found.match .. "!" end))
local dir = fs.tempdir()
fs.mkdir(dir .. "/x", {parents = true})
fs.write(dir .. "/f", "data")
fs.append(dir .. "/f", "more")
print(fs.read(dir .. "/f"), fs.exists(dir), #fs.list(dir), #fs.glob(dir .. "/*"))
local st = fs.stat(dir .. "/f")
print(st.size, st.is_dir, st.is_file, st.mtime, st.mode)
fs.copy(dir .. "/f", dir .. "/g")
fs.rename(dir .. "/g", dir .. "/h")
fs.remove(dir, {recursive = true})
print(env.get("HOME", "/root"), env.list().PATH)
env.set("X", "1")
log.info("deployed", {app = "web"})
log.debug("d") log.warn("w") log.error("e")
print(time(), time.now(), time.monotonic(), time.iso(0, {tz = "UTC", precision = 3}))
print(time.format(0, "%Y", {tz = "local"}), time.parse("2026-01-01", {tz = "UTC"}))
sleep(0)
local task = async.spawn(function(a, b) return a + b end, 1, 2)
print(task:await(), task:done(), task:cancel())
local iv = async.interval(1, function() end)
iv:cancel()
print(#async.all({async.spawn(function() return 1 end)}))
local r = process.run({"echo", "hi"}, {timeout = 5, check = true})
print(r.ok, r.status, r.stdout, r.timed_out)
local h = process.spawn({"cat"}, {stdout = "pipe"})
h:write("x") h:close_stdin()
for line in h:lines() do print(line) end
print(h.pid, h:wait().ok, h:kill("TERM"))
print(process.shell("true").ok)
print(url.encode("a b"), url.decode("a%20b"), url.parse("http://x/y").host)
print(url.build({scheme = "https", host = "x", query = {q = "1"}}), url.query_encode({a = 1}))
print(url.query_decode("a=1").a)
print(#compress.gunzip(compress.gzip("x", {level = 9}), {max_size = 10}))
print(compress.inflate(compress.deflate("x", {raw = true}), {raw = true}), compress.unzstd(compress.zstd("x")))
assert.eq({1}, {1}, "same")
assert.ne(1, 2) assert.gt(2, 1) assert.ge(2, 2) assert.lt(1, 2) assert.le(1, 1)
assert.contains("abc", "b") assert.matches("abc", "b+") assert.not_nil(1) assert.is_nil(nil)
print(assert.raises(function() error("x") end, "x"))
local n = assert(tonumber("1"), "a number")
print(n + 1, text, list, obj)

-- http
local resp = http.get("https://example.com", {headers = {accept = "application/json"}, timeout = 5})
print(resp.status, resp.ok, resp.headers["content-type"], resp.body, resp.url, resp:json())
print(#resp:header_values("set-cookie"))
http.post("https://example.com", {a = 1}, {auth = {bearer = "t"}})
http.put("https://example.com", "body", {query = {a = "1"}})
http.patch("https://example.com", nil, {form = {a = "b"}})
http.delete("https://example.com", {body = "x"})
http.request("GET", "https://example.com", {output = "/tmp/x"})
local streamed = http.get("https://example.com", {stream = true})
for line in streamed:lines() do print(line) end
print(streamed:read(), streamed:read_line()) streamed:close()
local api = http.client({base_url = "https://example.com", cookies = true, follow_redirects = 3})
print(api:get("/x").status, api:post("/y", {a = 1}).ok)
local server = http.server({
  GET = {
    ["/users/:id"] = function(req)
      return {status = 200, json = {id = req.params.id, q = req.query.q, body = req:json()}}
    end,
    ["/ws"] = function(_) return {websocket = function(conn) conn:send("hi") local msg, kind = conn:recv(1) print(msg, kind) conn:close(1000, "bye") end} end,
  },
}, {host = "127.0.0.1", port = 0, max_body = 1024, before = function(req) print(req.path) end})
print(server.port) server:stop() server:wait()
print(http.query_value({tag = {"a", "b"}}, "tag"))

-- ws
local conn = ws.connect("ws://127.0.0.1:1/", {timeout = 5, subprotocols = {"chat"}})
conn:send("hi") conn:send_binary("\0")
local msg, kind, code, reason = conn:recv(1)
print(msg, kind, code, reason, conn.protocol, conn:ping(1))
conn:close()

-- db
local dbc = db.connect("sqlite::memory:", {max_connections = 1})
dbc:execute("create table t (n integer)")
print(dbc:execute("insert into t values (?)", {1}).rows_affected)
for _, row in ipairs(dbc:query("select n from t")) do print(row.n) end
print(dbc:query_one("select 1 as one"), db.query(dbc, "select 1"))
dbc:transaction(function(tx) tx:execute("delete from t") end)
dbc:close()

-- crypto
print(crypto.hash("abc"), crypto.hash("abc", "sha512", {encoding = "base64"}))
print(crypto.hmac("k", "d", "sha256"), crypto.random(16), crypto.equal("a", "a"))
local token = crypto.jwt_sign({sub = "ci"}, "secret", {alg = "HS256", kid = "k1"})
print(crypto.jwt_verify(token, "secret", {algs = {"HS256"}, leeway = 5}).sub, crypto.jwt_decode(token).header.kid)

-- template
print(template.render_string("Hello {{ name }}", {name = "ada"}, {strict = true}))
local tenv = template.env({dirs = {"templates"}, filters = {shout = function(s) return s .. "!" end}})
print(tenv:render_string("{{ x | shout }}", {x = "hi"}))

-- a stdlib package
local k8s = require("assay.k8s")
local c = k8s.client()
print(c:get("configmap", "app", {namespace = "prod"}))

-- a package of the project's own (lua_modules/)
local greeting = require("assay.greeting")
print(greeting.hello("ada", {shout = true}))
