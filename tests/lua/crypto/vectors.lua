-- crypto through Lua: digests, HMAC, random bytes and JWT, every encoding, and errors that
-- name the argument.

local KEYS = "../../../plugins/crypto/tests/keys/"

-- hash: NIST vectors, sha256 by default, hex / base64 / raw
assert.eq(crypto.hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
assert.eq(crypto.hash("", "sha224"), "d14a028c2a3a2bc9476102bb288234c415a2b01f828ea62ac5b3e42f")
assert.eq(crypto.hash("abc", "sha384"),
  "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7")
assert.eq(crypto.hash("abc", "sha3-256"), "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532")
assert.eq(crypto.hash(string.rep("a", 1000000), "sha256"),
  "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
assert.eq(crypto.hash("", "sha512", {encoding = "base64"}),
  "z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==")
assert.eq(crypto.hash("", {encoding = "base64"}), "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")
local raw = crypto.hash("abc", "sha256", {encoding = "raw"})
assert.eq(#raw, 32)
assert.eq(raw:byte(1), 0xba)
assert.eq(crypto.hash("abc", nil, {encoding = "hex"}), crypto.hash("abc"))
-- strings are bytes
assert.eq(crypto.hash("\0\255"), "06eb7d6a69ee19e5fbdf749018d3d2abfa04bcbd1365db312eb86dc7169389b8")

-- md5 and sha1 (checksums and legacy protocols): RFC 1321 and FIPS 180 examples, RFC 2202
assert.eq(crypto.hash("abc", "md5"), "900150983cd24fb0d6963f7d28e17f72")
assert.eq(crypto.hash("abc", "SHA1"), "a9993e364706816aba3e25717850c26c9cd0d89d")
assert.eq(crypto.hmac("Jefe", "what do ya want for nothing?", "md5"), "750c783e6ab0b503eaa86e310a5db738")
assert.eq(crypto.hmac("Jefe", "what do ya want for nothing?", "sha1"),
  "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79")

-- hash_file: the same digest as hash of the same bytes, in every encoding, from a task too
local dir = fs.tempdir()
local data = string.rep("\0\1\2 assay \255", 100000)
fs.write(dir .. "/data.bin", data)
for _, alg in ipairs({"md5", "sha1", "sha224", "sha256", "sha384", "sha512", "sha3-256", "sha3-512"}) do
  assert.eq(crypto.hash_file(dir .. "/data.bin", alg), crypto.hash(data, alg), alg)
end
assert.eq(crypto.hash_file(dir .. "/data.bin"), crypto.hash(data))
assert.eq(crypto.hash_file(dir .. "/data.bin", {encoding = "base64"}), crypto.hash(data, {encoding = "base64"}))
assert.eq(async.spawn(crypto.hash_file, dir .. "/data.bin", "md5"):await(), crypto.hash(data, "md5"))
assert.raises(function() crypto.hash_file(dir .. "/missing") end,
  [[crypto\.hash_file: cannot read .*/missing: No such file or directory]])
assert.raises(function() crypto.hash_file(dir) end, [[crypto\.hash_file: cannot read .*: it is a directory, not a regular file]])
-- A FIFO nobody writes to is refused at once, not waited on (the open would block).
assert(os.execute("mkfifo '" .. dir .. "/fifo'"))
assert.raises(function() crypto.hash_file(dir .. "/fifo") end,
  [[crypto\.hash_file: cannot read .*/fifo: it is a FIFO, not a regular file]])
assert.raises(function() crypto.hash_file(nil) end, [[crypto\.hash_file: bad argument #1 'path' \(string expected, got nil\)]])
fs.remove(dir, {recursive = true})

-- equal: constant-time comparison of byte strings
assert.eq(crypto.equal("sig", "sig"), true)
assert.eq(crypto.equal("sig", "sih"), false)
assert.eq(crypto.equal("sig", "sig "), false)
assert.eq(crypto.equal("\0", "\0"), true)
assert.raises(function() crypto.equal("a") end, [[crypto\.equal: bad argument #2 'b' \(string expected, got no value\)]])

-- hmac: RFC 4231 case 2, and a well-known example
assert.eq(crypto.hmac("Jefe", "what do ya want for nothing?"),
  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
assert.eq(crypto.hmac("Jefe", "what do ya want for nothing?", "sha512", {encoding = "base64"}),
  "Fkt6e/z4GeLjlfvnO1bgo4e9ZCIugx/WECcM1+olBVSXWL91wFqZSm0DT2X48Ob9yuqxo01Ka0tjbgcKOLznNw==")
assert.eq(crypto.hmac("key", "The quick brown fox jumps over the lazy dog", "sha256"),
  "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8")
assert.eq(#crypto.hmac("k", "d", "sha384", {encoding = "raw"}), 48)

-- random: hex by default, lengths, no repeats
local r = crypto.random(16)
assert.eq(#r, 32)
assert.matches(r, "^[0-9a-f]{32}$")
assert.ne(r, crypto.random(16))
assert.eq(#crypto.random(16, {encoding = "raw"}), 16)
assert.eq(#crypto.random(3, {encoding = "base64"}), 4)
assert.eq(crypto.random(0), "")
local seen = {}
for _ = 1, 200 do
  local v = crypto.random(8)
  assert.is_nil(seen[v], "a repeated random value")
  seen[v] = true
end

-- errors name the argument, after the function's name
assert.raises(function() crypto.hash(nil) end, [[crypto\.hash: bad argument #1 'data' \(string expected, got nil\)]])
assert.raises(function() crypto.hash({}) end, [[bad argument #1 'data' \(string expected, got table\)]])
assert.raises(function() crypto.hash("x", "md4") end, [[crypto\.hash: bad argument #2 'alg' \(unknown algorithm 'md4'; expected sha224, sha256, sha384, sha512, sha3-256, sha3-512, md5 or sha1\)]])
assert.raises(function() crypto.hash("x", "sha256", {encoding = "hexx"}) end,
  [[bad argument #3 'opts' \(field 'encoding': expected 'hex', 'base64' or 'raw', got 'hexx'\)]])
assert.raises(function() crypto.hmac(nil, "x") end, [[crypto\.hmac: bad argument #1 'key' \(string expected, got nil\)]])
assert.raises(function() crypto.hmac("k") end, [[crypto\.hmac: bad argument #2 'data' \(string expected, got no value\)]])
assert.raises(function() crypto.random(2 ^ 21) end,
  [[crypto\.random: bad argument #1 'n' \(must be between 0 and 1048576, got 2097152\)]])
assert.raises(function() crypto.random(-1) end, [[bad argument #1 'n' \(must be between 0 and 1048576, got -1\)]])
assert.raises(function() crypto.random("8") end, [[bad argument #1 'n' \(integer expected, got string\)]])

-- jwt: sign, decode, verify with a secret
local now = os.time()
local token = crypto.jwt_sign({sub = "ci", exp = now + 60, roles = {"a", "b"}}, "secret", {kid = "k1"})
assert.matches(token, [[^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$]])
local parts = crypto.jwt_decode(token)
assert.eq(parts.header, {alg = "HS256", typ = "JWT", kid = "k1"})
assert.eq(parts.claims, {sub = "ci", exp = now + 60, roles = {"a", "b"}})
assert.eq(crypto.jwt_verify(token, "secret"), {sub = "ci", exp = now + 60, roles = {"a", "b"}})
assert.raises(function() crypto.jwt_verify(token, "other") end, [[crypto\.jwt_verify: bad signature$]])
assert.raises(function() crypto.jwt_verify(token, "secret", {algs = {"HS512"}}) end,
  [[crypto\.jwt_verify: algorithm not allowed: HS256 \(allowed: HS512\)$]])
-- claims checks
local expired = crypto.jwt_sign({exp = now - 30}, "secret")
assert.raises(function() crypto.jwt_verify(expired, "secret") end, [[crypto\.jwt_verify: token expired]])
assert.eq(crypto.jwt_verify(expired, "secret", {leeway = 60}).exp, now - 30)
local later = crypto.jwt_sign({nbf = now + 3600}, "secret")
assert.raises(function() crypto.jwt_verify(later, "secret") end, "token not yet valid")
local scoped = crypto.jwt_sign({aud = {"api", "web"}, iss = "auth"}, "secret", {alg = "HS512"})
assert.eq(crypto.jwt_verify(scoped, "secret", {aud = "web", iss = "auth"}).iss, "auth")
assert.raises(function() crypto.jwt_verify(scoped, "secret", {aud = "cli", iss = "auth"}) end,
  [[wrong audience: 'api' or 'web', expected 'cli']])
assert.raises(function() crypto.jwt_verify(scoped, "secret", {aud = "api", iss = "evil"}) end,
  [[wrong issuer: 'auth', expected 'evil']])

-- jwt with PEM keys; the algorithm comes from the key
local ec_private, ec_public = fs.read(KEYS .. "ec256-private.pem"), fs.read(KEYS .. "ec256-public.pem")
local es = crypto.jwt_sign({sub = "ec"}, ec_private)
assert.eq(crypto.jwt_decode(es).header.alg, "ES256")
assert.eq(crypto.jwt_verify(es, ec_public).sub, "ec")
local ed = crypto.jwt_sign({sub = "ed"}, fs.read(KEYS .. "ed25519-private.pem"), {alg = "EdDSA"})
assert.eq(crypto.jwt_verify(ed, fs.read(KEYS .. "ed25519-public.pem")).sub, "ed")
local rsa_public = fs.read(KEYS .. "rsa-public.pem")
local ps = crypto.jwt_sign({sub = "rsa"}, fs.read(KEYS .. "rsa-private.pem"), {alg = "PS256"})
assert.eq(crypto.jwt_verify(ps, rsa_public, {algs = {"PS256"}}).sub, "rsa")

-- algorithm confusion: an HS256 token whose secret is the RSA public key PEM
local signed = base64.encode(json.encode({alg = "HS256", typ = "JWT"}), {url = true}) .. "."
  .. base64.encode(json.encode({sub = "admin"}), {url = true})
local forged = signed .. "." .. base64.encode(crypto.hmac(rsa_public, signed, "sha256", {encoding = "raw"}), {url = true})
assert.raises(function() crypto.jwt_verify(forged, rsa_public) end,
  [[crypto\.jwt_verify: algorithm not allowed: HS256 \(allowed: RS256, RS384, RS512, PS256, PS384, PS512\)$]])
assert.raises(function() crypto.jwt_verify(forged, rsa_public, {algs = {"HS256"}}) end,
  [[algorithm not allowed: HS256 cannot be used with an RSA public key]])
assert.raises(function() crypto.jwt_sign({}, rsa_public, {alg = "HS256"}) end,
  [[crypto\.jwt_sign: bad argument #2 'key' \(HS256 cannot be used with an RSA public key: HS256 takes a shared secret, and a PEM key is never used as one \(this key takes RS256, RS384, RS512, PS256, PS384, PS512\)\)$]])

-- jwt argument errors
assert.raises(function() crypto.jwt_sign({}, nil) end, [[crypto\.jwt_sign: bad argument #2 'key' \(string expected, got nil\)]])
assert.raises(function() crypto.jwt_sign("claims", "k") end, [[bad argument #1 'claims' \(table expected, got string\)]])
assert.raises(function() crypto.jwt_sign({f = print}, "k") end, [[bad argument #1 'claims' \(a function cannot be encoded as JSON at \$\.f\)]])
assert.raises(function() crypto.jwt_sign({}, "k", {alg = "none"}) end, [[bad argument #3 'opts' \(field 'alg': unknown algorithm 'none']])
assert.raises(function() crypto.jwt_verify(nil, "k") end, [[crypto\.jwt_verify: bad argument #1 'token' \(string expected, got nil\)]])
assert.raises(function() crypto.jwt_verify("a.b", "k") end, [[crypto\.jwt_verify: malformed token: expected three parts]])
assert.raises(function() crypto.jwt_verify(token, "k", {leeway = "lots"}) end,
  [[bad argument #3 'opts' \(field 'leeway': number expected, got string\)]])
assert.raises(function() crypto.jwt_decode(42) end, [[crypto\.jwt_decode: bad argument #1 'token' \(string expected, got number\)]])

print("crypto vectors ok")

-- An option that does not exist is an error, not silently ignored.
assert.raises(function() crypto.hash("abc", {encodng = "raw"}) end,
  [[crypto\.hash: bad argument #2 'opts' \(unknown option 'encodng'; expected encoding\)]])
assert.raises(function() crypto.jwt_sign({sub = "x"}, "secret", {algorithm = "HS512"}) end,
  [[unknown option 'algorithm'; expected alg, kid, header]])
assert.raises(function() crypto.jwt_verify("a.b.c", "secret", {audience = "x"}) end,
  [[unknown option 'audience'; expected algs, aud, iss, leeway]])
