-- test: stdout ^ok\n$
-- Arguments and options of the oci functions: unknown keys, bad references, bad auth tables and
-- artifacts are errors naming what is wrong; `timeout` bounds a registry that accepts the
-- connection and never answers (a Python socket), and the wait lets other coroutines run.
local reg = require("fixtures.registry")
local o = {plain_http = true}
local repo = reg.anonymous .. "/" .. reg.fresh("opts")

-- Unknown options, for every function.
local unknown = "unknown option 'timout'; expected auth, plain_http, ca_cert, insecure, timeout"
assert.raises(function() oci.manifest(repo .. ":1", {plain_http = true, timout = 1}) end, unknown)
assert.raises(function() oci.tags(repo, {timout = 1}) end, unknown)
assert.raises(function() oci.catalog(reg.anonymous, {timout = 1}) end, unknown)
assert.raises(function() oci.blob(repo, "sha256:" .. string.rep("a", 64), {timout = 1}) end,
  "unknown option 'timout'; expected auth, plain_http, ca_cert, insecure, timeout, output, max_size, on_progress")
local artifact = {artifact_type = "a/b", layers = {{data = "x", media_type = "text/plain"}}}
assert.raises(function() oci.push(repo .. ":1", artifact, {timout = 1}) end, unknown)

-- Bad values.
assert.raises(function() oci.tags(repo, {timeout = 0}) end,
  "field 'timeout': a positive number of seconds expected, got 0")
assert.raises(function() oci.tags(repo, {timeout = false}) end,
  "field 'timeout': a number of seconds expected, got boolean")
assert.raises(function() oci.tags(repo, {auth = {user = "u"}}) end,
  "field 'auth': user given without password")
assert.raises(function() oci.tags(repo, {auth = {user = "u", password = "p", bearer = "t"}}) end,
  "either user and password, or bearer, not both")
assert.raises(function() oci.tags(repo, {auth = {username = "u"}}) end, "unknown key 'username'")
assert.raises(function() oci.blob(repo, "sha256:" .. string.rep("a", 64), {on_progress = 1}) end,
  "field 'on_progress': function expected, got number")
assert.raises(function() oci.manifest(repo .. ":1", o, "extra") end, "")

-- References.
assert.raises(function() oci.manifest("k8s:1", o) end,
  "bad argument #1 'ref' \\(invalid reference 'k8s:1': expected host\\[:port\\]/repository")
assert.raises(function() oci.manifest(repo, o) end, "names no tag or digest")
assert.raises(function() oci.push(repo, artifact, o) end, "names no tag or digest")
assert.raises(function() oci.manifest(reg.anonymous .. "/Upper:1", o) end, "repository 'Upper'")
assert.raises(function() oci.catalog(reg.anonymous .. "/x", o) end, "without a path")

-- Artifacts.
local function push_err(a) return select(2, pcall(oci.push, repo .. ":1", a, o)) end
assert.matches(push_err({artifact_type = "a/b", layers = {}}), "field 'layers': at least one layer is required")
assert.matches(push_err({artifact_type = "a/b", layers = {{media_type = "t/x"}}}),
  "field 'layers\\[1\\]': data or path is required")
assert.matches(push_err({artifact_type = "a/b", layers = {{data = "x"}}}),
  "field 'layers\\[1\\]': media_type \\(a string\\) is required")
assert.matches(push_err({artifact_type = "a/b", layers = {{data = "x", path = "/x", media_type = "t/x"}}}),
  "data or path, not both")
assert.matches(push_err({artifact_type = "a/b", layers = {{data = "x", media_type = "t/x", mediaType = "y"}}}),
  "unknown key 'mediaType'")
assert.matches(push_err({artifactType = "a/b", layers = {}}), "unknown option 'artifactType'")
assert.matches(push_err({artifact_type = "a/b", layers = {{path = "/nonexistent/file", media_type = "t/x"}}}),
  "layers\\[1\\]: cannot read /nonexistent/file")
assert.matches(push_err({artifact_type = "a/b", annotations = {n = 1}, layers = {{data = "x", media_type = "t/x"}}}),
  "field 'annotations': string keys and values expected")

-- A registry that accepts the connection and never answers: timeout bounds the wait.
local SILENT = [[
import socket, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
print(s.getsockname()[1], flush=True)
held = []
deadline = time.time() + 30
s.settimeout(1)
while time.time() < deadline:
    try:
        held.append(s.accept()[0])
    except socket.timeout:
        pass
]]
local silent = process.spawn({"python3", "-c", SILENT})
local host = "127.0.0.1:" .. silent:lines("stdout")()
for _, call in ipairs({
  function() return oci.manifest(host .. "/x:1", {plain_http = true, timeout = 0.5}) end,
  function() return oci.tags(host .. "/x", {plain_http = true, timeout = 0.5}) end,
  function() return oci.blob(host .. "/x", "sha256:" .. string.rep("a", 64), {plain_http = true, timeout = 0.5}) end,
  function() return oci.push(host .. "/x:1", artifact, {plain_http = true, timeout = 0.5}) end,
}) do
  local started = time.monotonic()
  local ok, err = pcall(call)
  assert.eq(ok, false)
  assert.matches(err, regex.replace(host, "\\.", "\\.", {all = true}) .. " did not answer within 0.5s \\(timeout\\)")
  assert.lt(time.monotonic() - started, 5)
end
-- The wait yields: other coroutines run meanwhile.
local ticks = 0
local ticker = async.spawn(function()
  for _ = 1, 8 do sleep(0.05); ticks = ticks + 1 end
end)
local waiting = async.spawn(function()
  return pcall(oci.tags, host .. "/x", {plain_http = true, timeout = 0.6})
end)
assert.eq(waiting:await(), false)
assert.eq(ticks, 8, "the ticker should have finished while oci.tags waited 0.6 s")
ticker:await()
silent:kill()

print("ok")
