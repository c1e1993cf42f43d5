-- Kubernetes auth: the real OpenBao dev server (scripts/bao-server) calls a fake Kubernetes API
-- written here with http.server, which answers TokenReview as the API server documents
-- (POST /apis/authentication.k8s.io/v1/tokenreviews) and checks every request it gets.
local vault = require("assay.vault")
local S = require("support")

local c = S.root()
local REVIEWER_JWT = "reviewer-" .. uuid.v4()
local NS, SA, UID = "payments", "api", "6f1c0a8e-0000-4000-8000-" .. string.rep("a", 12)

-- A service account token as Kubernetes issues it (legacy secret-based claims); the auth
-- method parses it without verifying its signature (no pem_keys configured), and asks the
-- TokenReview endpoint whether it is valid.
local dir = fs.tempdir()
local key_path = dir .. "/sa.key"
process.run({"openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
  "-out", key_path}, {check = true, timeout = 30})
-- The auth method insists on a CA certificate (it would trust it for an https host); the fake
-- is plain http on loopback, so any CA does.
local ca_path = dir .. "/ca.pem"
process.run({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
  "-nodes", "-days", "1", "-subj", "/CN=fake kubernetes CA", "-keyout", dir .. "/ca.key",
  "-out", ca_path}, {check = true, timeout = 30})
local function sa_jwt(ns, name, uid)
  return crypto.jwt_sign({
    iss = "kubernetes/serviceaccount",
    sub = "system:serviceaccount:" .. ns .. ":" .. name,
    ["kubernetes.io/serviceaccount/namespace"] = ns,
    ["kubernetes.io/serviceaccount/secret.name"] = name .. "-token-abcde",
    ["kubernetes.io/serviceaccount/service-account.name"] = name,
    ["kubernetes.io/serviceaccount/service-account.uid"] = uid,
  }, fs.read(key_path), {alg = "ES256"})
end

-- What the fake saw, and what was wrong with it.
local seen, problems = {}, {}
local valid_tokens = {}
local function expect(cond, what)
  if not cond then problems[#problems + 1] = what end
  return cond
end

local api = http.server({
  POST = {
    ["/apis/authentication.k8s.io/v1/tokenreviews"] = function(req)
      seen[#seen + 1] = req
      local ok = expect(req.headers.authorization == "Bearer " .. REVIEWER_JWT,
        "authorization is not the reviewer's bearer token: " .. tostring(req.headers.authorization))
      ok = expect((req.headers["content-type"] or ""):find("application/json", 1, true) ~= nil,
        "content-type: " .. tostring(req.headers["content-type"])) and ok
      local okj, body = pcall(json.parse, req.body)
      ok = expect(okj and type(body) == "table", "body is not JSON: " .. tostring(req.body)) and ok
      if not ok then
        return {status = 400, json = {kind = "Status", apiVersion = "v1", status = "Failure",
          message = table.concat(problems, "; "), reason = "BadRequest", code = 400}}
      end
      -- The plugin marshals a typed authv1.TokenReview with an empty TypeMeta, so apiVersion
      -- and kind are omitted (the API server takes them from the path); when present they must
      -- be these.
      expect(body.apiVersion == nil or body.apiVersion == "authentication.k8s.io/v1",
        "apiVersion: " .. tostring(body.apiVersion))
      expect(body.kind == nil or body.kind == "TokenReview", "kind: " .. tostring(body.kind))
      expect(body.spec.audiences == nil or body.spec.audiences == json.null
        or #body.spec.audiences == 0, "audiences asked though the role sets none")
      expect(type(body.spec) == "table" and type(body.spec.token) == "string", "spec.token missing")
      for k in pairs(body) do
        expect(k == "apiVersion" or k == "kind" or k == "spec" or k == "metadata" or k == "status",
          "unexpected field " .. k)
      end
      local who = valid_tokens[body.spec.token]
      local status
      if who then
        status = {authenticated = true, user = {username = "system:serviceaccount:" .. who.ns
          .. ":" .. who.name, uid = who.uid, groups = {"system:serviceaccounts",
          "system:serviceaccounts:" .. who.ns, "system:authenticated"}}}
      else
        status = {authenticated = false, error = "[invalid bearer token, token lookup failed]",
          user = json.object({})}
      end
      -- the documented answer: the request echoed with its status filled in
      return {status = 201, json = {kind = "TokenReview", apiVersion = "authentication.k8s.io/v1",
        metadata = {creationTimestamp = json.null}, spec = body.spec, status = status}}
    end,
  },
}, {host = "127.0.0.1"})

local mount = S.unique("k8s")
local pol = S.unique("k8s-pol")
c:auth_enable("kubernetes", {path = mount})
c:kubernetes_configure({kubernetes_host = "http://127.0.0.1:" .. api.port,
  kubernetes_ca_cert = fs.read(ca_path), token_reviewer_jwt = REVIEWER_JWT,
  disable_local_ca_jwt = true}, {mount = mount})
c:policy_write(pol, 'path "secret/data/k8s/*" { capabilities = ["read"] }')
c:kubernetes_write_role("api", {bound_service_account_names = {SA},
  bound_service_account_namespaces = {NS}, token_policies = {pol}, token_ttl = "10m"},
  {mount = mount})

test("login_kubernetes: TokenReview is asked, the token is kept and used", function()
  local jwt = sa_jwt(NS, SA, UID)
  valid_tokens[jwt] = {ns = NS, name = SA, uid = UID}
  c:kv_put("secret", "k8s/app", {dsn = "postgres://x"})
  local pod = vault.client{url = S.addr, token = ""}
  pod:set_token(nil)
  local auth = pod:login_kubernetes("api", jwt, {mount = mount})
  assert.eq(problems, {})
  assert.eq(#seen, 1)
  assert.eq(json.parse(seen[1].body).spec.token, jwt)
  assert.eq(seen[1].method, "POST")
  assert.eq(pod.token, auth.client_token)
  assert.contains(auth.policies, pol)
  assert.eq(auth.metadata.service_account_name, SA)
  assert.eq(auth.metadata.service_account_namespace, NS)
  assert.eq(pod:kv_get("secret", "k8s/app"), {dsn = "postgres://x"})
  assert.raises(function() pod:kv_put("secret", "k8s/app", {dsn = "y"}) end, "403 permission denied")
  assert.eq(pod:token_lookup_self().meta.service_account_uid, UID)
end)

test("a token TokenReview rejects: 403 with the server's text, no token in it", function()
  local before = #seen
  local jwt = sa_jwt(NS, SA, UID)   -- same claims, different signature: not in valid_tokens
  jwt = jwt:sub(1, -3) .. (jwt:sub(-2, -2) == "A" and "BB" or "AA")
  local pod = vault.client{url = S.addr, token = ""}
  local ok, err = pcall(pod.login_kubernetes, pod, "api", jwt, {mount = mount})
  assert.eq(ok, false)
  assert.eq(#seen, before + 1)
  assert.eq(problems, {})
  assert.eq(err, "vault.login_kubernetes: POST /v1/auth/" .. mount .. "/login: 403 permission denied")
  assert.eq(err:find(jwt, 1, true), nil)
end)

test("a service account the role does not bind is refused before TokenReview", function()
  local before = #seen
  local jwt = sa_jwt("other-ns", SA, UID)
  valid_tokens[jwt] = {ns = "other-ns", name = SA, uid = UID}
  local pod = vault.client{url = S.addr, token = ""}
  assert.raises(function() pod:login_kubernetes("api", jwt, {mount = mount}) end,
    "^vault\\.login_kubernetes: POST /v1/auth/" .. mount .. "/login: 403 .*namespace")
  assert.eq(#seen, before)
end)

test("no jwt and no service account file: a clear error", function()
  local pod = vault.client{url = S.addr, token = ""}
  if not fs.exists("/var/run/secrets/kubernetes.io/serviceaccount/token") then
    assert.raises(function() pod:login_kubernetes("api", nil, {mount = mount}) end,
      "^vault\\.login_kubernetes: no jwt given and /var/run/secrets/kubernetes\\.io/serviceaccount/token "
      .. "cannot be read: fs\\.read: /var/run/secrets/kubernetes\\.io/serviceaccount/token: No such file")
  end
end)

test("cleanup", function()
  api:stop()
  c:auth_disable(mount)
  c:policy_delete(pol)
  fs.remove(dir, {recursive = true})
end)
