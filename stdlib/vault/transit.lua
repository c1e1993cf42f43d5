--- assay.vault.transit: the Transit secrets engine (encryption as a service), reached as
--- `c.transit` on a vault client (loaded on first use). Plaintexts, contexts, HMAC and signature
--- inputs are plain Lua strings: the base64 Vault wants is done here, and decrypt, datakey and
--- random return raw bytes.
---
--- local ct = c.transit:encrypt("transit", "app", "hello")     -- "vault:v1:..."
--- assert(c.transit:decrypt("transit", "app", ct) == "hello")

local vault = require("assay.vault")
local I = vault._internal
I.own_source(function() return debug.getinfo(1, "S") end)
local check_arg, check_opts, mpath = I.check_arg, I.check_opts, I.mpath

---@class vault.Transit
---@field client vault.Client
local Transit = {}
Transit.__index = Transit

local M = {}

--- Binds the Transit operations to a client (what `c.transit` returns).
---@param client vault.Client
---@return vault.Transit
function M.new(client)
  return setmetatable({client = client}, Transit)
end

local function pkg(self)
  return rawget(self.client, "_pkg") .. ".transit"
end

local function call(self, fname, method, path, spec)
  -- Error messages read "<pkg>.transit.<fname>: ...".
  return self.client:_call("transit." .. fname, method, path, spec)
end

local function copy(t)
  local out = {}
  if t then for k, v in pairs(t) do out[k] = v end end
  return out
end

--- Creates a named key.
---@param mount string e.g. "transit"
---@param name string
---@param params? table Vault's parameters: type ("aes256-gcm96" default, "ecdsa-p256", "ed25519", "rsa-2048", ...), exportable, derived, ...
---@return true
function Transit:create_key(mount, name, params)
  check_arg(pkg(self), "create_key", 1, "mount", mount, "string")
  check_arg(pkg(self), "create_key", 2, "name", name, "string")
  check_arg(pkg(self), "create_key", 3, "params", params, "?table")
  call(self, "create_key", "POST", mpath(mount, "keys", name), {body = params or {}})
  return true
end

--- Reads a key's settings and versions, or nil when there is no such key.
---@param mount string
---@param name string
---@return table|nil key {name, type, latest_version, min_decryption_version, keys, ...}
function Transit:read_key(mount, name)
  check_arg(pkg(self), "read_key", 1, "mount", mount, "string")
  check_arg(pkg(self), "read_key", 2, "name", name, "string")
  local body, err = self.client:_get("transit.read_key", mpath(mount, "keys", name))
  if not body then return nil, err end
  return body.data
end

--- The keys' names (empty when none).
---@param mount string
---@return string[]
function Transit:list_keys(mount)
  check_arg(pkg(self), "list_keys", 1, "mount", mount, "string")
  return self.client:_list("transit.list_keys", mpath(mount, "keys"))
end

--- Adds a new version of the key (new encryptions use it; old ciphertexts still decrypt).
---@param mount string
---@param name string
---@return true
function Transit:rotate_key(mount, name)
  check_arg(pkg(self), "rotate_key", 1, "mount", mount, "string")
  check_arg(pkg(self), "rotate_key", 2, "name", name, "string")
  call(self, "rotate_key", "POST", mpath(mount, "keys", name, "rotate"), {body = {}})
  return true
end

--- Updates a key's configuration (min_decryption_version, deletion_allowed, exportable, ...).
---@param mount string
---@param name string
---@param params table
---@return true
function Transit:configure_key(mount, name, params)
  check_arg(pkg(self), "configure_key", 1, "mount", mount, "string")
  check_arg(pkg(self), "configure_key", 2, "name", name, "string")
  check_arg(pkg(self), "configure_key", 3, "params", params, "table")
  call(self, "configure_key", "POST", mpath(mount, "keys", name, "config"), {body = params})
  return true
end

--- Deletes a key (Vault refuses unless its config has deletion_allowed = true).
---@param mount string
---@param name string
---@return true|nil ok true, or nil when the server answers 404
---@return table|nil body the decoded error body on 404
function Transit:delete_key(mount, name)
  check_arg(pkg(self), "delete_key", 1, "mount", mount, "string")
  check_arg(pkg(self), "delete_key", 2, "name", name, "string")
  return self.client:_delete("transit.delete_key", mpath(mount, "keys", name))
end

local CTX_OPTS = {context = true, key_version = true, nonce = true, associated_data = true}

local function ctx_body(fname, self, opts, n)
  opts = check_opts(pkg(self), fname, n, opts, CTX_OPTS)
  local body = {}
  if opts.context ~= nil then
    check_arg(pkg(self), fname, n, "context", opts.context, "string")
    body.context = base64.encode(opts.context)
  end
  if opts.associated_data ~= nil then
    check_arg(pkg(self), fname, n, "associated_data", opts.associated_data, "string")
    body.associated_data = base64.encode(opts.associated_data)
  end
  if opts.nonce ~= nil then body.nonce = base64.encode(opts.nonce) end
  body.key_version = opts.key_version
  return body
end

--- Encrypts a plaintext (a plain string; base64 is done here).
---@param mount string
---@param name string key name
---@param plaintext string
---@param opts? {context?: string, key_version?: integer, associated_data?: string}
---@return string ciphertext "vault:v1:..."
function Transit:encrypt(mount, name, plaintext, opts)
  check_arg(pkg(self), "encrypt", 1, "mount", mount, "string")
  check_arg(pkg(self), "encrypt", 2, "name", name, "string")
  check_arg(pkg(self), "encrypt", 3, "plaintext", plaintext, "string")
  local body = ctx_body("encrypt", self, opts, 4)
  body.plaintext = base64.encode(plaintext)
  local _, resp = call(self, "encrypt", "POST", mpath(mount, "encrypt", name), {body = body})
  return resp.data.ciphertext
end

--- Decrypts a ciphertext; returns the plaintext as a plain string.
---@param mount string
---@param name string
---@param ciphertext string "vault:v1:..."
---@param opts? {context?: string, associated_data?: string}
---@return string plaintext
function Transit:decrypt(mount, name, ciphertext, opts)
  check_arg(pkg(self), "decrypt", 1, "mount", mount, "string")
  check_arg(pkg(self), "decrypt", 2, "name", name, "string")
  check_arg(pkg(self), "decrypt", 3, "ciphertext", ciphertext, "string")
  local body = ctx_body("decrypt", self, opts, 4)
  body.ciphertext = ciphertext
  local _, resp = call(self, "decrypt", "POST", mpath(mount, "decrypt", name), {body = body})
  return base64.decode(resp.data.plaintext or "")
end

--- Re-encrypts a ciphertext with the key's latest version (or key_version) without revealing
--- the plaintext.
---@param mount string
---@param name string
---@param ciphertext string
---@param opts? {context?: string, key_version?: integer}
---@return string ciphertext
function Transit:rewrap(mount, name, ciphertext, opts)
  check_arg(pkg(self), "rewrap", 1, "mount", mount, "string")
  check_arg(pkg(self), "rewrap", 2, "name", name, "string")
  check_arg(pkg(self), "rewrap", 3, "ciphertext", ciphertext, "string")
  local body = ctx_body("rewrap", self, opts, 4)
  body.ciphertext = ciphertext
  local _, resp = call(self, "rewrap", "POST", mpath(mount, "rewrap", name), {body = body})
  return resp.data.ciphertext
end

local SIGN_OPTS = {hash_algorithm = true, signature_algorithm = true, prehashed = true,
  key_version = true, context = true, marshaling_algorithm = true, salt_length = true}

local function sign_body(fname, self, opts, n)
  opts = check_opts(pkg(self), fname, n, opts, SIGN_OPTS)
  local body = copy(opts)
  body.hash_algorithm = nil
  if opts.context ~= nil then body.context = base64.encode(opts.context) end
  return body, opts.hash_algorithm
end

--- Signs an input (a plain string) with an asymmetric key.
---@param mount string
---@param name string
---@param input string
---@param opts? {hash_algorithm?: string, signature_algorithm?: string, prehashed?: boolean, key_version?: integer, context?: string, marshaling_algorithm?: string}
---@return string signature "vault:v1:..."
function Transit:sign(mount, name, input, opts)
  check_arg(pkg(self), "sign", 1, "mount", mount, "string")
  check_arg(pkg(self), "sign", 2, "name", name, "string")
  check_arg(pkg(self), "sign", 3, "input", input, "string")
  local body, hash = sign_body("sign", self, opts, 4)
  body.input = base64.encode(input)
  local path = hash and mpath(mount, "sign", name, hash) or mpath(mount, "sign", name)
  local _, resp = call(self, "sign", "POST", path, {body = body})
  return resp.data.signature
end

--- Verifies a signature over an input; true or false (an invalid signature is an answer).
---@param mount string
---@param name string
---@param input string
---@param signature string "vault:v1:..."
---@param opts? {hash_algorithm?: string, signature_algorithm?: string, prehashed?: boolean, context?: string, marshaling_algorithm?: string}
---@return boolean valid
function Transit:verify(mount, name, input, signature, opts)
  check_arg(pkg(self), "verify", 1, "mount", mount, "string")
  check_arg(pkg(self), "verify", 2, "name", name, "string")
  check_arg(pkg(self), "verify", 3, "input", input, "string")
  check_arg(pkg(self), "verify", 4, "signature", signature, "string")
  local body, hash = sign_body("verify", self, opts, 5)
  body.input = base64.encode(input)
  body.signature = signature
  local path = hash and mpath(mount, "verify", name, hash) or mpath(mount, "verify", name)
  local _, resp = call(self, "verify", "POST", path, {body = body})
  return resp.data.valid == true
end

--- The HMAC of an input (a plain string) with the named key.
---@param mount string
---@param name string
---@param input string
---@param opts? {algorithm?: string, key_version?: integer} algorithm: "sha2-256" (default), "sha2-512", ...
---@return string hmac "vault:v1:..."
function Transit:hmac(mount, name, input, opts)
  check_arg(pkg(self), "hmac", 1, "mount", mount, "string")
  check_arg(pkg(self), "hmac", 2, "name", name, "string")
  check_arg(pkg(self), "hmac", 3, "input", input, "string")
  opts = check_opts(pkg(self), "hmac", 4, opts, {algorithm = true, key_version = true})
  local path = opts.algorithm and mpath(mount, "hmac", name, opts.algorithm) or mpath(mount, "hmac", name)
  local _, resp = call(self, "hmac", "POST", path,
    {body = {input = base64.encode(input), key_version = opts.key_version}})
  return resp.data.hmac
end

--- Checks an HMAC over an input; true or false.
---@param mount string
---@param name string
---@param input string
---@param hmac string "vault:v1:..."
---@param opts? {algorithm?: string}
---@return boolean valid
function Transit:verify_hmac(mount, name, input, hmac, opts)
  check_arg(pkg(self), "verify_hmac", 1, "mount", mount, "string")
  check_arg(pkg(self), "verify_hmac", 2, "name", name, "string")
  check_arg(pkg(self), "verify_hmac", 3, "input", input, "string")
  check_arg(pkg(self), "verify_hmac", 4, "hmac", hmac, "string")
  opts = check_opts(pkg(self), "verify_hmac", 5, opts, {algorithm = true})
  local path = opts.algorithm and mpath(mount, "verify", name, opts.algorithm) or mpath(mount, "verify", name)
  local _, resp = call(self, "verify_hmac", "POST", path,
    {body = {input = base64.encode(input), hmac = hmac}})
  return resp.data.valid == true
end

--- Generates a data key for envelope encryption: {ciphertext = "vault:v1:...", plaintext = raw
--- key bytes (only when kind is "plaintext"), key_version}.
---@param mount string
---@param name string
---@param opts? {kind?: "plaintext"|"wrapped", bits?: integer, context?: string}
---@return table datakey
function Transit:datakey(mount, name, opts)
  check_arg(pkg(self), "datakey", 1, "mount", mount, "string")
  check_arg(pkg(self), "datakey", 2, "name", name, "string")
  opts = check_opts(pkg(self), "datakey", 3, opts, {kind = true, bits = true, context = true})
  local kind = opts.kind or "plaintext"
  if kind ~= "plaintext" and kind ~= "wrapped" then
    I.raise(pkg(self) .. ".datakey: bad argument #3 'opts' (field 'kind': \"plaintext\" or "
      .. "\"wrapped\" expected, got \"" .. tostring(kind) .. "\")")
  end
  local body = {bits = opts.bits}
  if opts.context then body.context = base64.encode(opts.context) end
  local _, resp = call(self, "datakey", "POST", mpath(mount, "datakey", kind, name), {body = body})
  local d = resp.data
  local out = {ciphertext = d.ciphertext, key_version = d.key_version}
  if d.plaintext then out.plaintext = base64.decode(d.plaintext) end
  return out
end

--- Random bytes from the server's generator, raw.
---@param mount string
---@param bytes? integer how many (default 32)
---@return string bytes
function Transit:random(mount, bytes)
  check_arg(pkg(self), "random", 1, "mount", mount, "string")
  check_arg(pkg(self), "random", 2, "bytes", bytes, "?number")
  local n = math.tointeger(bytes or 32)
  if not n or n < 1 then
    I.raise(pkg(self) .. ".random: bad argument #2 'bytes' (positive integer expected)")
  end
  local _, resp = call(self, "random", "POST", mpath(mount, "random", tostring(n)),
    {body = {format = "base64"}})
  return base64.decode(resp.data.random_bytes)
end

return M
