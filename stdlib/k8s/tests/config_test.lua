-- assay.k8s.config: kubeconfig fixtures (tests/kubeconfigs/) loaded by config.load and
-- cross-checked with `kubectl config view --minify --raw --flatten -o json` on the same KUBECONFIG
-- and --context (kubectl runs with HOME in a temp folder); error fixtures fail in both. Exec
-- plugins (a real sh script), token-file rotation, and in-cluster configuration (a child assay
-- with the service variables set: the environment cannot change once a plugin has started).
local config = require("assay.k8s.config")

local CWD = process.run({"pwd"}, {timeout = 10}).stdout:gsub("\n$", "")
local HERE = arg[0]:match("^(.*)/[^/]*$") or "."
if HERE:sub(1, 1) ~= "/" then HERE = CWD .. "/" .. HERE end
local FIX = HERE .. "/kubeconfigs"
local PLUGIN = FIX .. "/plugins/cred.sh"
local HOME = fs.tempdir()

local function fx(...)
  local out = {}
  for i, name in ipairs({...}) do out[i] = FIX .. "/" .. name end
  return out
end
local function val(x) if x == json.null then return nil end return x end

local function kubectl(paths, args)
  local argv = {"kubectl"}
  for _, a in ipairs(args) do argv[#argv + 1] = a end
  local ok, r = pcall(process.run, argv, {env = {KUBECONFIG = table.concat(paths, ":"), HOME = HOME}, timeout = 20})
  if not ok then error("kubectl not found (" .. tostring(r) .. "): install kubectl on PATH to run the cross-check", 0) end
  return r
end

local function view(paths, context)
  local args = {"config", "view", "--minify", "--raw", "--flatten", "-o", "json"}
  if context then args[#args + 1] = "--context"; args[#args + 1] = context end
  local r = kubectl(paths, args)
  if r.status ~= 0 then return nil, r.stderr end
  return json.parse(r.stdout)
end

local function unb64(s) s = val(s); return s and base64.decode(s) or nil end
local function clean(p)
  if p == nil then return nil end
  local parts = {}
  for seg in p:gmatch("[^/]+") do
    if seg == ".." and #parts > 0 then parts[#parts] = nil elseif seg ~= "." then parts[#parts + 1] = seg end
  end
  return "/" .. table.concat(parts, "/")
end
local function in_dir(dir, p) p = val(p); if p == nil or p:sub(1, 1) == "/" then return p end return clean(dir .. "/" .. p) end

-- Loads with config.load and with kubectl; every field the client uses must agree. `dir`: the
-- folder of the file defining the user (kubectl keeps relative tokenFile and command paths).
local function crosscheck(paths, context, dir)
  local cfg = config.load{kubeconfig = paths, context = context}
  local v, err = view(paths, context)
  assert(v, "kubectl config view failed: " .. tostring(err))
  local cl = v.clusters[1].cluster
  assert.eq(cfg.server, (cl.server:gsub("/+$", "")))
  assert.eq(cfg.ca_cert, unb64(cl["certificate-authority-data"]))
  assert.eq(cfg.insecure, cl["insecure-skip-tls-verify"] == true)
  assert.eq(cfg.tls_server_name, val(cl["tls-server-name"]))
  assert.eq(cfg.proxy_url, val(cl["proxy-url"]))
  assert.eq(cfg.context, v["current-context"])
  assert.eq(cfg.namespace, val(v.contexts[1].context.namespace) or "default")
  local u = (val(v.users) and v.users[1]) and v.users[1].user or {}
  assert.eq(cfg.client_cert, unb64(u["client-certificate-data"]))
  assert.eq(cfg.client_key, unb64(u["client-key-data"]))
  assert.eq(cfg.token, val(u.token))
  assert.eq(cfg.token_file, in_dir(dir or FIX, u.tokenFile))
  assert.eq(cfg.username, val(u.username)); assert.eq(cfg.password, val(u.password))
  local ex = val(u.exec)
  assert.eq(cfg.exec == nil, ex == nil)
  if ex then
    local cmd = ex.command:find("/", 1, true) and in_dir(dir or FIX, ex.command) or ex.command
    assert.eq(cfg.exec.command, cmd)
    assert.eq(cfg.exec.args, val(ex.args) or {})
    assert.eq(cfg.exec.env, val(ex.env) or {})
    assert.eq(cfg.exec.api_version, ex.apiVersion)
    assert.eq(cfg.exec.install_hint, val(ex.installHint))
    assert.eq(cfg.exec.provide_cluster_info, ex.provideClusterInfo == true)
    assert.eq(cfg.exec.interactive_mode, ex.interactiveMode)
  end
  assert.eq(cfg.source, "kubeconfig")
  return cfg
end

-- An error in both: config.load raises (text containing `ours`), kubectl fails (`theirs` in its
-- stderr) with `args` (default: config view --minify for the context).
local function both_fail(paths, context, ours, theirs, args)
  local ok, err = pcall(config.load, {kubeconfig = paths, context = context})
  assert.eq(ok, false, "config.load should fail")
  assert.contains(err, ours)
  local r
  if args then
    local a = {}
    for _, x in ipairs(args) do a[#a + 1] = x end
    if context then a[#a + 1] = "--context"; a[#a + 1] = context end
    r = kubectl(paths, a)
  else
    local _, why = view(paths, context)
    r = {status = why and 1 or 0, stderr = why or ""}
  end
  assert.ne(r.status, 0, "kubectl should fail too")
  assert.contains(r.stderr, theirs)
  return err
end

local GET = {"get", "--raw", "/version", "--request-timeout", "3s"}

test("kubectl is installed (a missing kubectl fails these tests, never skips them)", function()
  local r = kubectl({}, {"version", "--client", "-o", "json"})
  assert.eq(r.status, 0, r.stderr)
end)

describe("kubeconfig fixtures, cross-checked with kubectl config view", function()
  test("single file: server, CA data, token, the context's namespace", function()
    local cfg = crosscheck(fx("single.yaml"))
    assert.eq(cfg.server, "https://prod.example.com:6443")
    assert.matches(cfg.ca_cert, "^-----BEGIN CERTIFICATE-----\n")
    assert.eq(cfg.token, "single-token"); assert.eq(cfg.namespace, "web"); assert.eq(cfg.context, "prod")
  end)

  test("explicit context: no user (anonymous), namespace default", function()
    local cfg = crosscheck(fx("single.yaml"), "anonymous")
    assert.eq(cfg.context, "anonymous"); assert.eq(cfg.namespace, "default")
    assert.is_nil(cfg.token); assert.is_nil(cfg.exec); assert.eq(cfg.insecure, false)
  end)

  test("KUBECONFIG list: first file wins each name, current-context from the second, missing files skipped", function()
    local paths = fx("merge-first.yaml", "absent.yaml", "merge-second.yaml", "merge-third.yaml")
    local cfg = crosscheck(paths)
    assert.eq(cfg.context, "shared")                   -- the second file's current-context
    assert.eq(cfg.server, "https://first.example:6443") -- the first file's cluster, whole
    assert.eq(cfg.insecure, false)                      -- not merged field by field from the second's
    assert.eq(cfg.token, "first-token"); assert.is_nil(cfg.username)
    assert.eq(cfg.namespace, "first-ns")
  end)

  test("KUBECONFIG list in the other order: the second file's entries win", function()
    local cfg = crosscheck(fx("merge-second.yaml", "merge-first.yaml"))
    assert.eq(cfg.server, "https://second-only.example:8443"); assert.eq(cfg.token, "second-token")
    assert.eq(cfg.namespace, "second-ns")
  end)

  test("KUBECONFIG list: the first current-context wins (third before second)", function()
    local cfg = crosscheck(fx("merge-first.yaml", "merge-third.yaml", "merge-second.yaml"))
    assert.eq(cfg.context, "third"); assert.eq(cfg.server, "https://third.example")
  end)

  test("explicit context across files: context and user from the second, cluster from the first", function()
    local cfg = crosscheck(fx("merge-first.yaml", "merge-second.yaml"), "mixed")
    assert.eq(cfg.server, "https://first-only.example"); assert.eq(cfg.token, "second-token")
    assert.eq(cfg.namespace, "mixed-ns")
  end)

  test("relative paths resolve against the kubeconfig's folder: CA, client cert and key, tokenFile", function()
    local cfg = crosscheck(fx("relative/config"), nil, FIX .. "/relative")
    assert.eq(cfg.ca_cert, fs.read(FIX .. "/relative/certs/ca.pem"))
    assert.eq(cfg.client_cert, fs.read(FIX .. "/relative/certs/client.pem"))
    assert.eq(cfg.client_key, fs.read(FIX .. "/relative/certs/client-key.pem"))
    assert.eq(cfg.token_file, FIX .. "/relative/token")
    assert.eq(config.token_source(cfg)(), "relative-file-token")
  end)

  test("*-data fields are base64 of PEM text, decoded", function()
    local cfg = crosscheck(fx("data.yaml"))
    assert.matches(cfg.ca_cert, "BEGIN CERTIFICATE")
    assert.matches(cfg.client_cert, "BEGIN CERTIFICATE")
    assert.matches(cfg.client_key, "BEGIN RSA PRIVATE KEY")
    assert.ne(cfg.ca_cert, cfg.client_cert)
  end)

  test("token, tokenFile, and both (the file's token first, trimmed)", function()
    local s = crosscheck(fx("tokens.yaml"), "static")
    assert.eq(config.token_source(s)(), "static-token")
    local f = crosscheck(fx("tokens.yaml"), "file")
    assert.eq(f.token_file, FIX .. "/tokens/ci-token"); assert.is_nil(f.token)
    assert.eq(config.token_source(f)(), "ci-file-token"); assert.eq(f.namespace, "ci")
    local b = crosscheck(fx("tokens.yaml"), "both")
    assert.eq(b.token, "fallback-token")
    assert.eq(config.token_source(b)(), "ci-file-token")
  end)

  test("insecure-skip-tls-verify, tls-server-name, proxy-url, basic auth, trailing slash dropped", function()
    local cfg = crosscheck(fx("insecure.yaml"))
    assert.eq(cfg.server, "https://10.0.0.1:6443"); assert.eq(cfg.insecure, true)
    assert.eq(cfg.tls_server_name, "api.lab.internal"); assert.eq(cfg.proxy_url, "socks5://127.0.0.1:1080")
    assert.eq(cfg.username, "lab-user"); assert.eq(cfg.password, "lab-password")
    assert.is_nil(config.token_source(cfg)())
  end)

  test("exec plugin v1: command relative to the file, args, env, hint, cluster info", function()
    local cfg = crosscheck(fx("exec.yaml"), "v1")
    assert.eq(cfg.exec.command, PLUGIN)
    assert.eq(cfg.exec.args, {"--cluster", "exec", "--verbose"})
    assert.eq(cfg.exec.env, {{name = "CRED_EXTRA", value = "from-kubeconfig"}})
    assert.eq(cfg.exec.interactive_mode, "Never"); assert.eq(cfg.exec.provide_cluster_info, true)
  end)

  test("exec plugin v1beta1: a PATH command, interactiveMode defaults to IfAvailable", function()
    local cfg = crosscheck(fx("exec.yaml"), "v1beta1")
    assert.eq(cfg.exec.command, "cred-plugin-in-path")
    assert.eq(cfg.exec.api_version, "client.authentication.k8s.io/v1beta1")
    assert.eq(cfg.exec.interactive_mode, "IfAvailable")
  end)
end)

describe("kubeconfig errors, errors in kubectl too", function()
  test("a context naming a missing cluster, or a missing user: both named", function()
    local e = both_fail(fx("dangling.yaml"), nil, 'context "no-cluster" names cluster "ghost-cluster"',
      "cannot locate cluster ghost-cluster")
    assert.contains(e, FIX .. "/dangling.yaml")
    both_fail(fx("dangling.yaml"), "no-user", 'context "no-user" names user "ghost-user", which is not defined',
      "cannot locate user ghost-user")
    crosscheck(fx("dangling.yaml"), "fine")
  end)

  test("no current-context and none given: says to set one", function()
    local e = both_fail(fx("no-current.yaml"), nil, "no current-context", "current-context must exist")
    assert.contains(e, "kubectl config use-context")
    assert.contains(e, FIX .. "/no-current.yaml")
    assert.eq(crosscheck(fx("no-current.yaml"), "c").server, "https://c.example")
  end)

  test("an unknown context", function()
    both_fail(fx("single.yaml"), "nope", 'context "nope" not found', "nope")
  end)

  test("auth-provider gcp and azure: unsupported, named (kubectl 1.26+ refuses them too)", function()
    local e = both_fail(fx("auth-provider.yaml"), nil, 'auth-provider "gcp" is not supported',
      "gcp auth plugin has been removed", GET)
    assert.contains(e, "gke-gcloud-auth-plugin"); assert.contains(e, 'user "gcp"')
    both_fail(fx("auth-provider.yaml"), "azure", 'auth-provider "azure" is not supported',
      "azure auth plugin has been removed", GET)
    -- kubectl still has oidc; assay does not (a documented difference)
    local ok, err = pcall(config.load, {kubeconfig = fx("auth-provider.yaml"), context = "oidc"})
    assert.eq(ok, false); assert.contains(err, 'auth-provider "oidc" is not supported')
  end)

  test("exec v1 without interactiveMode (client-go's validation)", function()
    both_fail(fx("exec.yaml"), "v1-no-mode", "exec.interactiveMode must be set",
      "interactiveMode must be specified for v1-no-mode", GET)
  end)

  test("an explicitly given missing file is an error; a missing file in a list is not", function()
    local ok, err = pcall(config.load, {kubeconfig = FIX .. "/absent.yaml"})
    assert.eq(ok, false); assert.contains(err, FIX .. "/absent.yaml: No such file or directory")
    local r = process.run({"kubectl", "--kubeconfig", FIX .. "/absent.yaml", "get", "--raw", "/"},
      {env = {HOME = HOME}, timeout = 20})
    assert.ne(r.status, 0); assert.contains(r.stderr, "no such file or directory")
    ok, err = pcall(config.load, {kubeconfig = fx("absent.yaml", "also-absent.yaml")})
    assert.eq(ok, false); assert.contains(err, "no kubeconfig found")
  end)

  test("bad files name the file and the field", function()
    local dir = fs.tempdir()
    local function load_text(text, context)
      fs.write(dir .. "/config", text)
      local ok, err = pcall(config.load, {kubeconfig = dir .. "/config", context = context})
      assert.eq(ok, false)
      assert.contains(err, dir .. "/config: ")
      return err
    end
    local head = "clusters:\n- name: c\n  cluster:\n    server: https://c\n"
    assert.contains(load_text(head .. "    certificate-authority-data: 'not base64!'\n"),
      'cluster "c": certificate-authority-data: not valid base64')
    assert.contains(load_text(head .. "    certificate-authority: missing-ca.pem\ncontexts:\n- name: x\n  context: {cluster: c}\n", "x"),
      'cluster "c": certificate-authority ' .. dir .. "/missing-ca.pem: No such file")
    assert.contains(load_text(head .. "users:\n- name: u\n  user: {client-certificate-data: eA==}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\n", "x"),
      'user "u": client-key-data or client-key must be set')
    assert.contains(load_text(head .. "users:\n- name: u\n  user: {token: t, username: a, password: b}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\n", "x"),
      "more than one authentication method")
    local e = load_text(head .. "users:\n- name: u\n  user: {token: sekrit, tokenFile: nope}\n- name: u\n  user: {}\n")
    assert.contains(e, 'users: duplicate name "u"')
    assert.eq(e:find("sekrit", 1, true), nil)
    assert.contains(load_text("clusters: {c: 1}\n"), "clusters: a list expected")
    assert.contains(load_text("clusters: [\n"), "invalid YAML")
  end)

  test("unknown and mistyped options raise naming them", function()
    assert.raises(function() config.load{kubeconfig = FIX .. "/single.yaml", namespace = "x"} end,
      "unknown option 'namespace'; expected kubeconfig, context, in_cluster, service_account_dir")
    assert.raises(function() config.load{in_cluster = "yes"} end, "field 'in_cluster': boolean expected, got string")
    assert.raises(function() config.load{kubeconfig = 3} end, "field 'kubeconfig': string or list of strings expected")
    assert.raises(function() config.load("x") end, "bad argument #1 'opts' \\(table expected, got string\\)")
  end)
end)

-- Exec plugins ------------------------------------------------------------------------------------

-- A kubeconfig in a temp folder whose exec plugin is tests/kubeconfigs/plugins/cred.sh with
-- CRED_DIR pointing at that folder (where the plugin records its input and counts its runs).
local function exec_setup(version, extra_cluster, extra_exec)
  local dir = fs.tempdir()
  local cluster = {server = "https://127.0.0.1:1", ["insecure-skip-tls-verify"] = true}
  for k, v in pairs(extra_cluster or {}) do cluster[k] = v end
  local ex = {apiVersion = version, command = PLUGIN, args = {"--user", "ci"}, interactiveMode = "Never",
    env = {{name = "CRED_DIR", value = dir}, {name = "CRED_EXTRA", value = "extra-value"}},
    installHint = "Install cred.sh: see tests/kubeconfigs/plugins."}
  for k, v in pairs(extra_exec or {}) do ex[k] = v end
  fs.write(dir .. "/kubeconfig", json.encode({apiVersion = "v1", kind = "Config", ["current-context"] = "c",
    clusters = {{name = "c", cluster = cluster}}, users = {{name = "u", user = {exec = ex}}},
    contexts = {{name = "c", context = {cluster = "c", user = "u"}}}}))
  local cfg = config.load{kubeconfig = dir .. "/kubeconfig"}
  local function runs()
    local ok, text = pcall(fs.read, dir .. "/runs")
    if not ok then return 0 end
    local n = 0
    for _ in text:gmatch("\n") do n = n + 1 end
    return n
  end
  return cfg, dir, runs
end

describe("exec credential plugins", function()
  test("the plugin gets KUBERNETES_EXEC_INFO (as kubectl sends it), its args and env; the token comes back", function()
    for _, version in ipairs({"client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"}) do
      local cfg, dir, runs = exec_setup(version)
      assert.eq(config.token_source(cfg)(), "token-1")
      assert.eq(runs(), 1)
      local ours = json.parse(fs.read(dir .. "/input.json"))
      assert.eq(ours, {apiVersion = version, kind = "ExecCredential", spec = {interactive = false}})
      assert.eq(fs.read(dir .. "/args"), "--user ci\n"); assert.eq(fs.read(dir .. "/extra"), "extra-value\n")
      -- kubectl runs the same plugin (then fails to connect to 127.0.0.1:1)
      local r = kubectl({dir .. "/kubeconfig"}, GET)
      assert.ne(r.status, 0)
      assert.eq(runs(), 2, "kubectl ran the plugin: " .. r.stderr)
      assert.eq(json.parse(fs.read(dir .. "/input.json")), ours)
    end
  end)

  test("provideClusterInfo: spec.cluster as kubectl sends it", function()
    local cfg, dir = exec_setup("client.authentication.k8s.io/v1", {["tls-server-name"] = "api.internal",
      extensions = {{name = "client.authentication.k8s.io/exec", extension = {audience = "aud", n = 1}}}},
      {provideClusterInfo = true})
    config.token_source(cfg)()
    local ours = json.parse(fs.read(dir .. "/input.json"))
    assert.eq(ours.spec.cluster, {server = "https://127.0.0.1:1", ["tls-server-name"] = "api.internal",
      ["insecure-skip-tls-verify"] = true, config = {audience = "aud", n = 1}})
    kubectl({dir .. "/kubeconfig"}, GET)
    assert.eq(json.parse(fs.read(dir .. "/input.json")), ours)
    -- with a CA (a real certificate, which kubectl parses before it runs the plugin)
    local ca = fs.read(FIX .. "/certs/real-ca.pem")
    cfg, dir = exec_setup("client.authentication.k8s.io/v1beta1", {["insecure-skip-tls-verify"] = false,
      ["certificate-authority-data"] = base64.encode(ca), ["proxy-url"] = "http://127.0.0.1:1"},
      {provideClusterInfo = true})
    assert.eq(cfg.ca_cert, ca)
    config.token_source(cfg)()
    ours = json.parse(fs.read(dir .. "/input.json"))
    assert.eq(ours.spec.cluster, {server = "https://127.0.0.1:1", ["certificate-authority-data"] = base64.encode(ca),
      ["proxy-url"] = "http://127.0.0.1:1", config = json.null})
    kubectl({dir .. "/kubeconfig"}, GET)
    assert.eq(json.parse(fs.read(dir .. "/input.json")), ours)
  end)

  test("cached until expirationTimestamp (less a margin), re-run after; invalidate() forces a run", function()
    local cfg, dir, runs = exec_setup("client.authentication.k8s.io/v1")
    local now = time()
    fs.write(dir .. "/expires", time.iso(now + 600, {precision = 0}))
    local src = config.token_source(cfg)
    local clock = now
    src.now = function() return clock end
    assert.eq(src(), "token-1"); assert.eq(src(), "token-1"); assert.eq(runs(), 1)
    clock = now + 589                     -- not yet within the 10 s margin (590)
    assert.eq(src(), "token-1"); assert.eq(runs(), 1)
    fs.write(dir .. "/expires", time.iso(now + 1200, {precision = 0}))
    clock = now + 595                     -- inside the margin: renewed
    assert.eq(src(), "token-2"); assert.eq(runs(), 2)
    assert.eq(config.token_source(cfg), src, "one source per cfg")
    assert.eq(config.exec_credential(cfg).token, "token-2"); assert.eq(runs(), 2)
    src.invalidate()                      -- a 401: run again at once
    assert.eq(src(), "token-3"); assert.eq(runs(), 3)
    fs.remove(dir .. "/expires")          -- no expiry: cached until invalidated
    src.invalidate(); assert.eq(src(), "token-4")
    clock = now + 1e6
    assert.eq(src(), "token-4"); assert.eq(runs(), 4)
    local c = config.exec_credential(cfg)
    assert.eq(c, {token = "token-4"})
  end)

  test("a plugin that fails raises with its stderr's last line and the install hint", function()
    local cfg, dir = exec_setup("client.authentication.k8s.io/v1")
    fs.write(dir .. "/mode", "fail")
    local ok, err = pcall(config.token_source(cfg))
    assert.eq(ok, false)
    assert.contains(err, "k8s.config.token_source: exec plugin " .. PLUGIN .. ": failed with exit code 2: cred.sh: login expired: run cred-login")
    assert.contains(err, "\n\nInstall cred.sh: see tests/kubeconfigs/plugins.")
    assert.eq(err:find("contacting", 1, true), nil)
    -- a missing program: named, with the hint
    local cfg2 = exec_setup("client.authentication.k8s.io/v1", nil, {command = "no-such-cred-plugin"})
    ok, err = pcall(config.exec_credential, cfg2)
    assert.eq(ok, false)
    assert.contains(err, "k8s.config.exec_credential: exec plugin no-such-cred-plugin: program 'no-such-cred-plugin' not found")
    assert.contains(err, "Install cred.sh")
    -- Always needs a terminal
    local cfg3 = exec_setup("client.authentication.k8s.io/v1", nil, {interactiveMode = "Always"})
    ok, err = pcall(config.token_source(cfg3))
    assert.eq(ok, false); assert.contains(err, "interactiveMode Always needs a terminal")
  end)

  test("a plugin returning a client certificate and key: exec_credential gives them, no token", function()
    local cfg, dir = exec_setup("client.authentication.k8s.io/v1beta1")
    fs.write(dir .. "/mode", "cert")
    fs.write(dir .. "/expires", "2099-01-02T03:04:05Z")
    local c = config.exec_credential(cfg)
    assert.eq(c.client_cert, "-----BEGIN CERTIFICATE-----\nZXhlYw==\n-----END CERTIFICATE-----\n")
    assert.eq(c.client_key, "-----BEGIN EC PRIVATE KEY-----\nZXhlYyBrZXk=\n-----END EC PRIVATE KEY-----\n")
    assert.is_nil(c.token); assert.eq(c.expires_at, time.parse("2099-01-02T03:04:05Z"))
    assert.is_nil(config.token_source(cfg)())
  end)

  test("a static token or a client certificate in the kubeconfig wins over the plugin (client-go)", function()
    local dir = fs.tempdir()
    fs.write(dir .. "/kubeconfig", json.encode({["current-context"] = "c",
      clusters = {{name = "c", cluster = {server = "https://x"}}},
      users = {{name = "u", user = {token = "static", exec = {apiVersion = "client.authentication.k8s.io/v1",
        command = "no-such-cred-plugin", interactiveMode = "Never"}}}},
      contexts = {{name = "c", context = {cluster = "c", user = "u"}}}}))
    assert.eq(config.token_source(config.load{kubeconfig = dir .. "/kubeconfig"})(), "static")
  end)
end)

-- Token file rotation -----------------------------------------------------------------------------

test("token_file is re-read once `period` (60 s) has passed; a failed re-read keeps the last token", function()
  local dir = fs.tempdir()
  fs.write(dir .. "/token", "first\n")
  fs.write(dir .. "/kubeconfig", json.encode({["current-context"] = "c",
    clusters = {{name = "c", cluster = {server = "https://x"}}},
    users = {{name = "u", user = {tokenFile = "token"}}},
    contexts = {{name = "c", context = {cluster = "c", user = "u"}}}}))
  local cfg = config.load{kubeconfig = dir .. "/kubeconfig"}
  assert.eq(cfg.token_file, dir .. "/token")
  local src = config.token_source(cfg)
  assert.eq(src.period, 60)
  local clock = 1000
  src.now = function() return clock end
  assert.eq(src(), "first")
  fs.write(dir .. "/token", "second")
  clock = 1059; assert.eq(src(), "first")
  clock = 1060; assert.eq(src(), "second")
  src.period = 5
  fs.write(dir .. "/token", "third")
  clock = 1066; assert.eq(src(), "third")
  fs.write(dir .. "/token", "fourth")
  src.invalidate(); assert.eq(src(), "fourth")
  fs.remove(dir .. "/token")
  clock = 2000; assert.eq(src(), "fourth")
end)

-- In-cluster and the environment (a child assay per case) -----------------------------------------

local function lib_path() return env.get("ASSAY_LIB_PATH") end  -- --lib-path is exported there
local LIB = lib_path()

-- Runs config.load(opts) in a child with `vars` set (others of the variables cleared); returns
-- the cfg with `token_now` (the token source's answer), or the error text.
local function child(opts, vars)
  local e = {KUBERNETES_SERVICE_HOST = "", KUBERNETES_SERVICE_PORT = "", KUBECONFIG = "", HOME = HOME}
  for k, v in pairs(vars or {}) do e[k] = v end
  local code = ([[
    local config = require("assay.k8s.config")
    local ok, c = pcall(config.load, json.parse(%q))
    if not ok then io.write("ERR " .. c) return end
    c.token_now = config.token_source(c)()
    io.write(json.encode(c))
  ]]):format(json.encode(json.object(opts or {})))
  local argv = {"/proc/self/exe"}
  if LIB then argv[#argv + 1] = "--lib-path"; argv[#argv + 1] = LIB end
  argv[#argv + 1] = "-e"; argv[#argv + 1] = code
  local r = process.run(argv, {env = e, timeout = 30})
  assert.eq(r.status, 0, r.stderr)
  if r.stdout:sub(1, 4) == "ERR " then return nil, r.stdout:sub(5) end
  return json.parse(r.stdout)
end

local function service_account(files)
  local dir = fs.tempdir()
  for name, text in pairs(files) do fs.write(dir .. "/" .. name, text) end
  return dir
end

describe("in-cluster", function()
  local SA = service_account({token = "sa-token\n", ["ca.crt"] = "-----BEGIN CERTIFICATE-----\nc2E=\n-----END CERTIFICATE-----\n",
    namespace = "team\n"})
  local IN = {KUBERNETES_SERVICE_HOST = "10.96.0.1", KUBERNETES_SERVICE_PORT = "443", KUBECONFIG = FIX .. "/single.yaml"}

  test("from the service-account folder: server, CA, token file, namespace", function()
    local c = assert(child({service_account_dir = SA}, IN))
    assert.eq(c.source, "in-cluster"); assert.eq(c.server, "https://10.96.0.1:443")
    assert.eq(c.ca_cert, fs.read(SA .. "/ca.crt")); assert.eq(c.token_file, SA .. "/token")
    assert.eq(c.token_now, "sa-token"); assert.eq(c.namespace, "team"); assert.eq(c.insecure, false)
    assert.is_nil(c.token); assert.is_nil(c.context)
  end)

  test("an IPv6 service host is bracketed; no namespace file: default; no ca.crt: no CA", function()
    local sa = service_account({token = "t"})
    local c = assert(child({service_account_dir = sa, in_cluster = true},
      {KUBERNETES_SERVICE_HOST = "fd00:10:96::1", KUBERNETES_SERVICE_PORT = "6443"}))
    assert.eq(c.server, "https://[fd00:10:96::1]:6443"); assert.eq(c.namespace, "default"); assert.is_nil(c.ca_cert)
  end)

  test("the rule when in_cluster is nil: in-cluster only with the variables and a token file", function()
    assert.eq(child({service_account_dir = SA}, IN).source, "in-cluster")
    local no_port = {KUBERNETES_SERVICE_HOST = "10.96.0.1", KUBECONFIG = IN.KUBECONFIG}
    assert.eq(child({service_account_dir = SA}, no_port).source, "kubeconfig")
    local c = child({service_account_dir = SA .. "/absent"}, IN)
    assert.eq(c.source, "kubeconfig"); assert.eq(c.token_now, "single-token")
    assert.eq(child({service_account_dir = SA, in_cluster = false}, IN).source, "kubeconfig")
    -- an explicit kubeconfig or context is what the caller asked for
    assert.eq(child({service_account_dir = SA, kubeconfig = FIX .. "/data.yaml"}, IN).context, "data")
    assert.eq(child({service_account_dir = SA, context = "anonymous"}, IN).context, "anonymous")
  end)

  test("in_cluster = true outside a cluster, or without a token: errors", function()
    local _, err = child({service_account_dir = SA, in_cluster = true}, {})
    assert.contains(err, "KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set")
    _, err = child({service_account_dir = SA .. "/absent", in_cluster = true}, IN)
    assert.contains(err, "in-cluster token: " .. SA .. "/absent/token: No such file")
  end)
end)

describe("the environment: KUBECONFIG and ~/.kube/config", function()
  test("KUBECONFIG split on ':', empty and repeated entries dropped, missing files skipped", function()
    local list = table.concat({FIX .. "/merge-first.yaml", "", FIX .. "/absent.yaml", FIX .. "/merge-second.yaml",
      FIX .. "/merge-first.yaml"}, ":")
    local c = assert(child({}, {KUBECONFIG = list}))
    assert.eq(c.server, "https://first.example:6443"); assert.eq(c.context, "shared")
    local v = view({list})
    assert.eq(v.clusters[1].cluster.server, c.server)
  end)

  test("without KUBECONFIG: $HOME/.kube/config; without it either: an error naming it", function()
    local home = fs.tempdir()
    local _, err = child({}, {HOME = home})
    assert.contains(err, "no kubeconfig found (" .. home .. "/.kube/config does not exist)")
    fs.mkdir(home .. "/.kube")
    fs.write(home .. "/.kube/config", fs.read(FIX .. "/insecure.yaml"))
    assert.eq(child({}, {HOME = home}).server, "https://10.0.0.1:6443")
  end)
end)

test("a server without a scheme: http://, where kubectl connects", function()
  local dir = fs.tempdir()
  fs.write(dir .. "/kubeconfig", json.encode({["current-context"] = "c",
    clusters = {{name = "c", cluster = {server = "127.0.0.1:1",
      ["certificate-authority-data"] = base64.encode(fs.read(FIX .. "/relative/certs/ca.pem"))}}},
    contexts = {{name = "c", context = {cluster = "c"}}}}))
  assert.eq(config.load{kubeconfig = dir .. "/kubeconfig"}.server, "http://127.0.0.1:1")
  local r = kubectl({dir .. "/kubeconfig"}, {"get", "--raw", "/version", "--request-timeout", "3s", "-v6"})
  assert.ne(r.status, 0)
  assert.contains(r.stderr, "GET http://127.0.0.1:1/version")
end)

test("the README's Configuration example runs as written", function()
  local example = fs.read(HERE .. "/../README.md"):match("## Configuration[^\n]*\n.-```lua\n(.-)```")
  assert.eq(type(example), "string", "README has no Configuration example")
  local file = fs.tempdir() .. "/example.lua"
  fs.write(file, example)
  local argv = {"/proc/self/exe"}
  if LIB then argv[#argv + 1] = "--lib-path"; argv[#argv + 1] = LIB end
  argv[#argv + 1] = file
  local r = process.run(argv, {env = {KUBERNETES_SERVICE_HOST = "", KUBECONFIG = ""}, timeout = 30})
  assert.eq(r.stderr, ""); assert.eq(r.status, 0)
  assert.eq(r.stdout, "kubeconfig\tlab\thttps://127.0.0.1:6443\tapps\ttrue\ns3cr3t\n")
end)
