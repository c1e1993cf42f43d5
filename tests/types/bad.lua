-- A project that misuses the API: each line ending in a `--!` comment (a diagnostic code, then
-- a text) must be reported by emmylua_check with that code and a message containing the text;
-- no other line may be.
local resp = http.get("https://example.com")
print(http.gett("https://example.com")) --! undefined-field gett
print(resp.bodyy) --! undefined-field bodyy
print(resp:jsonn()) --! undefined-field jsonn
print(json.parsee("{}")) --! undefined-field parsee
assert.equal(1, 1) --! undefined-field equal
print(json.encode({}, {pretty = "yes"})) --! param-type-mismatch assay.json.EncodeOptions
print(fs.read(42)) --! param-type-mismatch expected `string`
print(time.iso("now")) --! param-type-mismatch expected `number?`
print(process.run("ls -l")) --! param-type-mismatch expected `string[]`
print(http.client({cookies = "yes"})) --! param-type-mismatch assay.http.ClientOptions
print(http.get("https://example.com", {timeout = "5"})) --! param-type-mismatch assay.http.RequestOptionsWithBody
print(ws.connect("ws://127.0.0.1/", {timeout = "5"})) --! param-type-mismatch assay.ws.ConnectOptions
print(db.connect(5)) --! param-type-mismatch expected `string`
print(crypto.hash("abc", "sha999")) --! param-type-mismatch sha256
print(template.render_string({})) --! param-type-mismatch expected `string`
local conn = db.connect("sqlite::memory:")
print(conn:queryy("select 1")) --! undefined-field queryy
local k8s = require("assay.k8s")
print(k8s.clientt()) --! undefined-field clientt
print(k8s.client():get(1, "app")) --! param-type-mismatch expected `string`
print(require("assay.greeting").hello(1)) --! param-type-mismatch expected `string`
print(require("assay.greeting").hello("x", {shout = "yes"})) --! param-type-mismatch greeting.Options
