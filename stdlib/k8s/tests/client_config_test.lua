-- The client configured as users configure it: from a kubeconfig (a token, a rotating token
-- file, an exec plugin's token), and in-cluster from a service-account folder over TLS (a child
-- assay process with KUBERNETES_SERVICE_HOST/PORT set, the fake behind tls_front.py).
local k8s = require("assay.k8s")
local fake = k8s.fake.start{token = "first", require_token = true}
local dir = fs.tempdir()
local ASSAY = "/proc/self/exe"
local CWD = process.run({"pwd"}, {timeout = 10}).stdout:gsub("\n$", "")
local LIB = env.get("ASSAY_LIB_PATH")  -- --lib-path is exported there

local function kubeconfig(user)
  local path = dir .. "/kc-" .. tostring(math.random(1e9)) .. ".json"
  fs.write(path, json.encode{apiVersion = "v1", kind = "Config", ["current-context"] = "fake",
    clusters = {{name = "fake", cluster = {server = fake.url}}},
    users = {{name = "u", user = user}},
    contexts = {{name = "fake", context = {cluster = "fake", user = "u", namespace = "team"}}}})
  return path
end

local function last_auth() return fake.requests[#fake.requests].headers.authorization end

test("kubeconfig: server, namespace and token from the current context", function()
  fake:add{apiVersion = "v1", kind = "Namespace", metadata = {name = "team"}}
  local c = k8s.client{kubeconfig = kubeconfig{token = "first"}}
  assert.eq({c.namespace, c.context, c.source, c.server}, {"team", "fake", "kubeconfig", fake.url})
  c:create{apiVersion = "v1", kind = "ConfigMap", metadata = {name = "from-kc"}}
  assert.eq(fake.requests[#fake.requests].path, "/api/v1/namespaces/team/configmaps")
  assert.eq(last_auth(), "Bearer first")
  -- options override the configuration
  local c2 = k8s.client{kubeconfig = kubeconfig{token = "first"}, namespace = "default"}
  assert.eq(c2.namespace, "default")
  assert.raises(function() k8s.client{kubeconfig = dir .. "/absent.yaml"} end, "k8s.client: .*absent.yaml: No such file or directory")
end)

test("a rotated token file: the 401 re-reads it and the request is sent again", function()
  fs.write(dir .. "/token", "first\n")
  local c = k8s.client{kubeconfig = kubeconfig{tokenFile = dir .. "/token"}}
  assert.not_nil(c:get("namespace", "team"))
  -- the server now wants another token, and the file has it
  fake.token = "second"
  fs.write(dir .. "/token", "second\n")
  fake:clear_requests()
  assert.not_nil(c:get("namespace", "team"))
  assert.eq(#fake.requests, 2)
  assert.eq({fake.requests[1].headers.authorization, fake.requests[2].headers.authorization},
    {"Bearer first", "Bearer second"})
  -- a token nobody can refresh: the 401 is the answer
  fake.token = "third"
  local fixed = k8s.client{kubeconfig = kubeconfig{token = "second"}}
  assert.raises(function() fixed:get("namespace", "team") end, "k8s.get: GET /api/v1/namespaces/team: 401 Unauthorized")
  fake.token = "first"
end)

test("an exec plugin's token, cached, re-run after a 401", function()
  local state = dir .. "/exec"
  fs.mkdir(state, {parents = true})
  local plugin = CWD .. "/stdlib/k8s/tests/kubeconfigs/plugins/cred.sh"
  local c = k8s.client{kubeconfig = kubeconfig{exec = {apiVersion = "client.authentication.k8s.io/v1",
    command = plugin, env = {{name = "CRED_DIR", value = state}}, interactiveMode = "Never"}}}
  fake.token = "token-1"
  assert.not_nil(c:get("namespace", "team"))
  assert.not_nil(c:get("namespace", "team"))
  assert.eq(last_auth(), "Bearer token-1")
  assert.eq(#fs.read(state .. "/runs"):gsub("[^\n]", ""), 1)
  -- the server stops taking it: the plugin runs again, its new token is used
  fake.token = "token-2"
  assert.not_nil(c:get("namespace", "team"))
  assert.eq(last_auth(), "Bearer token-2")
  -- a plugin that fails: its message, not a bare 401
  fs.write(state .. "/mode", "fail")
  fake.token = "token-9"
  assert.raises(function() c:get("namespace", "team") end, "exec plugin .*failed with exit code 2: cred.sh: login expired: run cred-login")
  fake.token = "first"
end)

-- In-cluster: https with the service account's CA and token, through the TLS front.
test("in-cluster: the service account's CA, token and namespace, over TLS", function()
  local function sh(argv)
    local p = process.run(argv, {timeout = 60})
    if p.status ~= 0 then error(table.concat(argv, " ") .. ": " .. p.stderr, 2) end
  end
  local sa = dir .. "/sa"
  fs.mkdir(sa, {parents = true})
  sh{"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
    "-subj", "/CN=cluster-ca", "-keyout", dir .. "/ca.key", "-out", sa .. "/ca.crt"}
  sh{"openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=apiserver",
    "-keyout", dir .. "/server.key", "-out", dir .. "/server.csr"}
  fs.write(dir .. "/server.ext", "subjectAltName=IP:127.0.0.1\n")
  sh{"openssl", "x509", "-req", "-in", dir .. "/server.csr", "-CA", sa .. "/ca.crt", "-CAkey", dir .. "/ca.key",
    "-CAcreateserial", "-days", "2", "-extfile", dir .. "/server.ext", "-out", dir .. "/server.crt"}
  fs.write(sa .. "/token", "first\n")
  fs.write(sa .. "/namespace", "team\n")
  local front = process.spawn({"python3", CWD .. "/stdlib/k8s/tests/tls_front.py", dir .. "/server.crt",
    dir .. "/server.key", sa .. "/ca.crt", tostring(fake.port)})
  local port = front:lines("stdout")():match("^port (%d+)$")
  local script = dir .. "/in_cluster.lua"
  fs.write(script, [[
local k8s = require("assay.k8s")
local c = k8s.client{service_account_dir = ]] .. string.format("%q", sa) .. [[}
local cm = c:create{apiVersion = "v1", kind = "ConfigMap", metadata = {name = "from-pod"}}
print(c.source, c.namespace, cm.metadata.namespace, c.server)
]])
  local r = process.run({ASSAY, "--lib-path", LIB, script}, {timeout = 60,
    env = {KUBERNETES_SERVICE_HOST = "127.0.0.1", KUBERNETES_SERVICE_PORT = port, KUBECONFIG = dir .. "/none"}})
  front:close_stdin(); front:wait()
  assert.eq(r.status, 0, r.stderr)
  assert.eq(r.stdout, "in-cluster\tteam\tteam\thttps://127.0.0.1:" .. port .. "\n")
  assert.eq(fake.requests[#fake.requests].headers.authorization, "Bearer first")
end)

test("nothing to go on: the message says where it looked and what to set", function()
  local r = process.run({ASSAY, "--lib-path", LIB, "-e", 'local ok, e = pcall(require("assay.k8s").client) io.write(e)'},
    {timeout = 30, env = {HOME = dir .. "/nohome", KUBECONFIG = "", KUBERNETES_SERVICE_HOST = ""}})
  assert.eq(r.status, 0, r.stderr)
  assert.contains(r.stdout, "k8s.client: no kubeconfig found (" .. dir .. "/nohome/.kube/config does not exist); and not in a cluster")
  assert.contains(r.stdout, "set KUBECONFIG, or give kubeconfig or server")
end)

test("stop", function()
  fake:stop()
  fs.remove(dir, {recursive = true})
end)
