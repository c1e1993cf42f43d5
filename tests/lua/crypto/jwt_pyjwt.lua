-- JWT interop with PyJWT: PyJWT verifies a token crypto.jwt_sign made with every algorithm,
-- and crypto.jwt_verify verifies a token PyJWT made with every algorithm. The Python side
-- (pyjwt_peer.py) runs in the venv that tests/conformance/ensure-pyjwt makes on first use;
-- when that cannot be made, this test fails (it never skips).

local KEYS = "../../../plugins/crypto/tests/keys/"
local SECRET = "assay-pyjwt-interop-secret-0123456789abcdef0123456789abcdef012345"
local AUD, ISS = "assay-tests", "https://issuer.example"
-- algorithm -> {signing key, verifying key} (file names, or the shared secret)
local ALGS = {
  HS256 = {SECRET, SECRET}, HS384 = {SECRET, SECRET}, HS512 = {SECRET, SECRET},
  RS256 = {"rsa-private.pem", "rsa-public.pem"},
  RS384 = {"rsa-private.pem", "rsa-public.pem"},
  RS512 = {"rsa-private.pem", "rsa-public.pem"},
  PS256 = {"rsa-private.pem", "rsa-public.pem"},
  PS384 = {"rsa-private.pem", "rsa-public.pem"},
  PS512 = {"rsa-private.pem", "rsa-public.pem"},
  ES256 = {"ec256-private.pem", "ec256-public.pem"},
  ES384 = {"ec384-private.pem", "ec384-public.pem"},
  EdDSA = {"ed25519-private.pem", "ed25519-public.pem"},
}

local function key(name)
  if name == SECRET then return SECRET end
  return fs.read(KEYS .. name)
end

local function quote(s)
  return "'" .. s:gsub("'", [['\'']]) .. "'"
end

-- Runs a command; its stdout, or an error with the exit status (its stderr shows in ours).
local function capture(cmd)
  local pipe = assert(io.popen(cmd, "r"))
  local out = pipe:read("a")
  local ok, how, code = pipe:close()
  if not ok then
    error(("%s failed (%s %s); stdout:\n%s"):format(cmd, how, code, out), 2)
  end
  return out
end

local python = capture("bash ../../conformance/ensure-pyjwt"):gsub("%s+$", "")
assert.matches(python, "python")

-- Assay signs one token per algorithm.
local now = os.time()
local function claims_for(alg)
  return {
    sub = "from-assay", alg_used = alg, aud = AUD, iss = ISS, iat = now, exp = now + 300,
    roles = {"admin", "ops"}, ratio = 0.25, nested = {deep = {ok = true}},
  }
end
local request = {secret = SECRET, aud = AUD, iss = ISS, algs = ALGS, tokens = {}, tampered = {}}
for alg, keys in pairs(ALGS) do
  local token = crypto.jwt_sign(claims_for(alg), key(keys[1]), {alg = alg, kid = "assay-" .. alg})
  request.tokens[alg] = token
  local header, _, signature = token:match("^([^.]+)%.([^.]+)%.([^.]+)$")
  local evil = base64.encode(json.encode({sub = "admin", aud = AUD, iss = ISS}), {url = true})
  request.tampered[alg] = header .. "." .. evil .. "." .. signature
end

local dir = fs.tempdir()
local request_file = dir .. "/request.json"
fs.write(request_file, json.encode(request))
local response = json.parse(capture(("%s pyjwt_peer.py %s %s"):format(
  quote(python), quote(KEYS), quote(request_file))))
fs.remove(dir, {recursive = true})

local count = 0
for alg, keys in pairs(ALGS) do
  count = count + 1
  -- PyJWT accepts Assay's token and reads the same claims and header.
  local verdict = response.verified[alg]
  assert(verdict.ok, ("PyJWT %s refused Assay's %s token: %s"):format(response.pyjwt, alg, verdict.error))
  assert.eq(verdict.claims, claims_for(alg), "claims PyJWT read from Assay's " .. alg .. " token")
  assert.eq(verdict.header, {alg = alg, typ = "JWT", kid = "assay-" .. alg})
  -- PyJWT refuses the tampered one.
  assert.eq(response.tampered[alg].ok, false, alg .. " tampered")
  assert.contains(response.tampered[alg].error, "InvalidSignatureError")

  -- Assay accepts PyJWT's token and reads the same claims and header.
  local token = response.signed[alg]
  local claims = crypto.jwt_verify(token, key(keys[2]), {aud = AUD, iss = ISS})
  assert.eq(claims.sub, "from-pyjwt")
  assert.eq(claims.alg_used, alg)
  assert.eq(claims.nested, {n = {1, 2.5, json.null}, yes = true})
  assert.eq(crypto.jwt_decode(token).header.kid, "py-" .. alg)
  -- and refuses it with the wrong audience, a tampered payload, or an algorithm not allowed
  assert.raises(function() crypto.jwt_verify(token, key(keys[2]), {aud = "other", iss = ISS}) end,
    "wrong audience")
  local header, _, signature = token:match("^([^.]+)%.([^.]+)%.([^.]+)$")
  local evil = base64.encode(json.encode({sub = "admin"}), {url = true})
  assert.raises(function() crypto.jwt_verify(header .. "." .. evil .. "." .. signature, key(keys[2])) end,
    [[crypto\.jwt_verify: bad signature$]])
  local other = alg == "HS256" and "HS512" or "HS256"
  assert.raises(function() crypto.jwt_verify(token, key(keys[2]), {algs = {other}}) end,
    "algorithm not allowed")
end
assert.eq(count, 12)

-- PyJWT's expired token is refused as expired.
assert.raises(function() crypto.jwt_verify(response.expired, SECRET) end, [[crypto\.jwt_verify: token expired \(exp \d+, now \d+, leeway 0s\)$]])

-- Algorithm confusion: PyJWT's RS256 token re-signed as HS256 with the public PEM as secret.
local pem = key("rsa-public.pem")
local forged_header = base64.encode(json.encode({alg = "HS256", typ = "JWT"}), {url = true})
local payload = response.signed.RS256:match("^[^.]+%.([^.]+)%.")
local signed = forged_header .. "." .. payload
local mac = base64.encode(crypto.hmac(pem, signed, "sha256", {encoding = "raw"}), {url = true})
assert.raises(function() crypto.jwt_verify(signed .. "." .. mac, pem, {aud = AUD, iss = ISS}) end,
  "algorithm not allowed: HS256")

print(("jwt interop with PyJWT %s ok: %d algorithms both ways"):format(response.pyjwt, count))
