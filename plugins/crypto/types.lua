---@meta _
-- The crypto plugin: digests, HMAC, random bytes and JSON Web Tokens (LuaCATS definitions,
-- copied by `assay types`). Digests are lower-case hex unless `encoding` says otherwise.

---@class assay.crypto
crypto = {}

---@alias assay.crypto.Algorithm "sha224"|"sha256"|"sha384"|"sha512"|"sha3-256"|"sha3-512"|"md5"|"sha1"

---@class (exact) assay.crypto.EncodingOptions
---@field encoding? "hex"|"base64"|"raw"

---@class (exact) assay.crypto.SignOptions
---@field alg? "HS256"|"HS384"|"HS512"|"RS256"|"RS384"|"RS512"|"PS256"|"ES256"|"ES384"|"EdDSA"
---@field kid? string
---@field header? table<string, any> More header fields.

---@class (exact) assay.crypto.VerifyOptions
---@field algs? string[] The algorithms accepted (default: those of the key's type).
---@field aud? string The audience the token must name.
---@field iss? string The issuer the token must name.
---@field leeway? number Seconds of clock skew allowed.

---@class assay.crypto.Decoded
---@field header table<string, any>
---@field claims table<string, any>

---@param data string
---@param alg? assay.crypto.Algorithm Default "sha256".
---@param opts? assay.crypto.EncodingOptions
---@return string digest
function crypto.hash(data, alg, opts) end

---The digest of a file, read in chunks while the script goes on.
---@param path string
---@param alg? assay.crypto.Algorithm
---@param opts? assay.crypto.EncodingOptions
---@return string digest
function crypto.hash_file(path, alg, opts) end

---Constant-time comparison.
---@param a string
---@param b string
---@return boolean
function crypto.equal(a, b) end

---@param key string
---@param data string
---@param alg? assay.crypto.Algorithm Default "sha256".
---@param opts? assay.crypto.EncodingOptions
---@return string mac
function crypto.hmac(key, data, alg, opts) end

---`n` bytes from the system's CSPRNG (hex unless told otherwise).
---@param n integer
---@param opts? assay.crypto.EncodingOptions
---@return string
function crypto.random(n, opts) end

---Signs `claims` with a shared secret or a PEM private key.
---@param claims table<string, any>
---@param key string
---@param opts? assay.crypto.SignOptions
---@return string token
function crypto.jwt_sign(claims, key, opts) end

---The claims of a valid token; raises saying why it is not.
---@param token string
---@param key string
---@param opts? assay.crypto.VerifyOptions
---@return table<string, any> claims
function crypto.jwt_verify(token, key, opts) end

---The header and claims, nothing verified.
---@param token string
---@return assay.crypto.Decoded
function crypto.jwt_decode(token) end
