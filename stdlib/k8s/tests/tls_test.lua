-- assay.k8s over TLS, as a cluster is reached: the cluster CA, a client certificate, a bearer
-- token. The fake API server sits behind tls_front.py (Python's ssl, verifying client
-- certificates); certificates are made with openssl. kubectl reaches it the same way.
local k8s = require("assay.k8s")
local dir = fs.tempdir()
local here = "stdlib/k8s/tests"

local function sh(argv)
  local p = process.run(argv, {timeout = 60})
  if p.status ~= 0 then error(table.concat(argv, " ") .. ": " .. p.stderr, 2) end
  return p.stdout
end

-- a CA, a server certificate for 127.0.0.1 and a client certificate, signed by it
local function pki()
  local function path(n) return dir .. "/" .. n end
  sh{"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
    "-subj", "/CN=fake-cluster-ca", "-keyout", path("ca.key"), "-out", path("ca.crt")}
  local function issue(name, subj, ext)
    sh{"openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", subj,
      "-keyout", path(name .. ".key"), "-out", path(name .. ".csr")}
    fs.write(path(name .. ".ext"), ext)
    sh{"openssl", "x509", "-req", "-in", path(name .. ".csr"), "-CA", path("ca.crt"), "-CAkey", path("ca.key"),
      "-CAcreateserial", "-days", "2", "-extfile", path(name .. ".ext"), "-out", path(name .. ".crt")}
  end
  issue("server", "/CN=kube-apiserver", "subjectAltName=IP:127.0.0.1,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n")
  issue("client", "/O=system:masters/CN=assay-admin", "extendedKeyUsage=clientAuth\n")
  -- another CA, unknown to the server
  sh{"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
    "-subj", "/CN=stranger", "-keyout", path("other.key"), "-out", path("other.crt")}
  local out = {}
  for _, n in ipairs{"ca.crt", "server.crt", "server.key", "client.crt", "client.key", "other.crt", "other.key"} do
    out[n] = fs.read(path(n))
  end
  return out
end

local certs = pki()
local fake = k8s.fake.start{token = "tls-tok", require_token = true}
local front = process.spawn({"python3", here .. "/tls_front.py", dir .. "/server.crt", dir .. "/server.key",
  dir .. "/ca.crt", tostring(fake.port), "--require-client-cert"})
local lines = front:lines("stdout")
local port = assert(lines()):match("^port (%d+)$")
local server = "https://127.0.0.1:" .. port

-- the front's next report about a connection
local function front_saw() return lines() end

test("CA, client certificate and token: the client reaches the API server over TLS", function()
  local c = k8s.client{server = server, token = "tls-tok", ca_cert = certs["ca.crt"],
    client_cert = certs["client.crt"], client_key = certs["client.key"], timeout = 10}
  assert.eq(c:get("namespace", "default").metadata.name, "default")
  assert.eq(front_saw(), "client CN=assay-admin")
  -- the CA and the key pair given as paths work the same
  local c2 = k8s.client{server = server, token = "tls-tok", ca_cert = dir .. "/ca.crt",
    client_cert = dir .. "/client.crt", client_key = dir .. "/client.key", timeout = 10}
  assert.eq(c2:create{apiVersion = "v1", kind = "ConfigMap", metadata = {name = "over-tls"}}.metadata.name, "over-tls")
  assert.eq(front_saw(), "client CN=assay-admin")
end)

test("an API server whose CA is not the one given: a TLS error, nothing sent", function()
  local c = k8s.client{server = server, token = "tls-tok", ca_cert = certs["other.crt"],
    client_cert = certs["client.crt"], client_key = certs["client.key"], timeout = 10}
  local n = #fake.requests
  assert.raises(function() c:get("namespace", "default") end, "^k8s\\.get: .*certificate")
  assert.eq(#fake.requests, n)
  front_saw()
end)

test("no client certificate where the server requires one: refused in the handshake", function()
  local c = k8s.client{server = server, token = "tls-tok", ca_cert = certs["ca.crt"], timeout = 10}
  assert.raises(function() c:get("namespace", "default") end, "^k8s\\.get: ")
  assert.matches(front_saw(), "^refused")
end)

test("insecure skips the server's verification (the client certificate still goes)", function()
  local c = k8s.client{server = server, token = "tls-tok", insecure = true,
    client_cert = certs["client.crt"], client_key = certs["client.key"], timeout = 10}
  assert.eq(c:get("namespace", "default").kind, "Namespace")
  assert.eq(front_saw(), "client CN=assay-admin")
end)

test("kubectl reaches the same TLS front with a kubeconfig holding the same credentials", function()
  local kc = {apiVersion = "v1", kind = "Config", ["current-context"] = "tls",
    clusters = {{name = "tls", cluster = {server = server,
      ["certificate-authority-data"] = base64.encode(certs["ca.crt"])}}},
    users = {{name = "admin", user = {token = "tls-tok",
      ["client-certificate-data"] = base64.encode(certs["client.crt"]),
      ["client-key-data"] = base64.encode(certs["client.key"])}}},
    contexts = {{name = "tls", context = {cluster = "tls", user = "admin", namespace = "default"}}}}
  fs.write(dir .. "/kubeconfig", json.encode(kc))
  local out = sh{"kubectl", "--kubeconfig", dir .. "/kubeconfig", "--cache-dir", dir .. "/cache",
    "get", "configmap", "over-tls", "-o", "jsonpath={.metadata.name}"}
  assert.eq(out, "over-tls")
  assert.eq(front_saw(), "client CN=assay-admin")
end)

test("tls-server-name is not used: a name mismatch says so", function()
  local kc = {apiVersion = "v1", kind = "Config", ["current-context"] = "tls",
    clusters = {{name = "tls", cluster = {server = "https://localhost:" .. port,
      ["certificate-authority-data"] = base64.encode(certs["ca.crt"]), ["tls-server-name"] = "kubernetes.default.svc"}}},
    users = {{name = "admin", user = {token = "tls-tok",
      ["client-certificate-data"] = base64.encode(certs["client.crt"]),
      ["client-key-data"] = base64.encode(certs["client.key"])}}},
    contexts = {{name = "tls", context = {cluster = "tls", user = "admin"}}}}
  fs.write(dir .. "/sni-kubeconfig", json.encode(kc))
  local c = k8s.client{kubeconfig = dir .. "/sni-kubeconfig", timeout = 10}
  assert.raises(function() c:get("namespace", "default") end,
    "the kubeconfig's tls-server-name \"kubernetes.default.svc\" is not used")
  front_saw()
end)

test("an exec plugin's client certificate: the client connects with it (kubectl too)", function()
  -- the plugin prints an ExecCredential holding the client certificate and key
  fs.write(dir .. "/cred.json", json.encode{apiVersion = "client.authentication.k8s.io/v1", kind = "ExecCredential",
    status = {clientCertificateData = certs["client.crt"], clientKeyData = certs["client.key"]}})
  fs.write(dir .. "/cred.sh", "#!/bin/sh\necho run >> " .. dir .. "/runs\ncat " .. dir .. "/cred.json\n")
  process.run({"chmod", "+x", dir .. "/cred.sh"}, {timeout = 10})
  local kc = {apiVersion = "v1", kind = "Config", ["current-context"] = "tls",
    clusters = {{name = "tls", cluster = {server = server,
      ["certificate-authority-data"] = base64.encode(certs["ca.crt"])}}},
    users = {{name = "exec", user = {exec = {apiVersion = "client.authentication.k8s.io/v1",
      command = dir .. "/cred.sh", interactiveMode = "Never"}}}},
    contexts = {{name = "tls", context = {cluster = "tls", user = "exec"}}}}
  -- no token here: a fake that lets anonymous requests in, behind a second front
  local open = k8s.fake.start{token = "unused"}
  local front2 = process.spawn({"python3", here .. "/tls_front.py", dir .. "/server.crt", dir .. "/server.key",
    dir .. "/ca.crt", tostring(open.port), "--require-client-cert"})
  local lines2 = front2:lines("stdout")
  local port2 = assert(lines2()):match("^port (%d+)$")
  kc.clusters[1].cluster.server = "https://127.0.0.1:" .. port2
  fs.write(dir .. "/exec-kubeconfig", json.encode(kc))
  local c = k8s.client{kubeconfig = dir .. "/exec-kubeconfig", timeout = 10}
  assert.eq(c:get("namespace", "default").kind, "Namespace")
  assert.eq(lines2(), "client CN=assay-admin")
  assert.eq(fs.read(dir .. "/runs"), "run\n")
  local out = sh{"kubectl", "--kubeconfig", dir .. "/exec-kubeconfig", "--cache-dir", dir .. "/cache2",
    "get", "namespace", "default", "-o", "jsonpath={.kind}"}
  assert.eq(out, "Namespace")
  assert.eq(lines2(), "client CN=assay-admin")
  front2:close_stdin(); front2:wait()
  open:stop()
end)

test("stop", function()
  front:close_stdin()
  front:wait()
  fake:stop()
  fs.remove(dir, {recursive = true})
end)
