--- assay.vault.pki: the PKI secrets engine, reached as `c.pki` on a vault client (loaded on
--- first use). Parameters are Vault's own (common_name, ttl, alt_names, ip_sans, ...), passed
--- through as given.
---
--- c:secrets_enable("pki", {config = {max_lease_ttl = "87600h"}})
--- c.pki:generate_root("pki", "internal", {common_name = "Example Root", ttl = "87600h"})
--- c.pki:write_role("pki", "web", {allowed_domains = "example.com", allow_subdomains = true})
--- local cert = c.pki:issue("pki", "web", {common_name = "www.example.com"})
--- fs.write("ca.pem", c.pki:ca_pem("pki"))

local vault = require("assay.vault")
local I = vault._internal
I.own_source(function() return debug.getinfo(1, "S") end)
local check_arg, mpath = I.check_arg, I.mpath

---@class vault.PKI
---@field client vault.Client
local PKI = {}
PKI.__index = PKI

local M = {}

--- Binds the PKI operations to a client (what `c.pki` returns).
---@param client vault.Client
---@return vault.PKI
function M.new(client)
  return setmetatable({client = client}, PKI)
end

local function pkg(self)
  return rawget(self.client, "_pkg") .. ".pki"
end

local function post(self, fname, path, body)
  local _, resp = self.client:_call("pki." .. fname, "POST", path, {body = body or {}})
  return resp and resp.data
end

local function check_kind(self, fname, kind)
  check_arg(pkg(self), fname, 2, "kind", kind, "string")
  if kind ~= "internal" and kind ~= "exported" and kind ~= "existing" and kind ~= "kms" then
    I.raise(pkg(self) .. "." .. fname .. ": bad argument #2 'kind' (\"internal\", \"exported\", "
      .. "\"existing\" or \"kms\" expected, got \"" .. kind .. "\")")
  end
end

--- Generates a self-signed root CA in the mount (`kind` "exported" also returns its private key;
--- Vault calls it the type).
---@param mount string e.g. "pki"
---@param kind "internal"|"exported"|"existing"|"kms"
---@param params table common_name, ttl, key_type, issuer_name, ...
---@return table data {certificate, issuing_ca, serial_number, issuer_id, private_key?}
function PKI:generate_root(mount, kind, params)
  check_arg(pkg(self), "generate_root", 1, "mount", mount, "string")
  check_kind(self, "generate_root", kind)
  check_arg(pkg(self), "generate_root", 3, "params", params, "table")
  return post(self, "generate_root", mpath(mount, "root/generate", kind), params)
end

--- Generates an intermediate CA's key and CSR in the mount.
---@param mount string
---@param kind "internal"|"exported"|"existing"|"kms"
---@param params table common_name, key_type, ...
---@return table data {csr, key_id, private_key?}
function PKI:generate_intermediate(mount, kind, params)
  check_arg(pkg(self), "generate_intermediate", 1, "mount", mount, "string")
  check_kind(self, "generate_intermediate", kind)
  check_arg(pkg(self), "generate_intermediate", 3, "params", params, "table")
  return post(self, "generate_intermediate", mpath(mount, "intermediate/generate", kind), params)
end

--- Signs an intermediate CA's CSR with this mount's CA.
---@param mount string the parent CA's mount
---@param csr string PEM
---@param params? table common_name, ttl, format, use_csr_values, ...
---@return table data {certificate, issuing_ca, ca_chain, serial_number}
function PKI:sign_intermediate(mount, csr, params)
  check_arg(pkg(self), "sign_intermediate", 1, "mount", mount, "string")
  check_arg(pkg(self), "sign_intermediate", 2, "csr", csr, "string")
  check_arg(pkg(self), "sign_intermediate", 3, "params", params, "?table")
  local body = {}
  for k, v in pairs(params or {}) do body[k] = v end
  body.csr = csr
  return post(self, "sign_intermediate", mpath(mount, "root/sign-intermediate"), body)
end

--- Imports the signed intermediate certificate (and chain) into the intermediate's mount.
---@param mount string the intermediate's mount
---@param certificate string PEM (the certificate, optionally followed by its chain)
---@return table|nil data {imported_issuers, imported_keys, mapping, ...}
function PKI:set_signed(mount, certificate)
  check_arg(pkg(self), "set_signed", 1, "mount", mount, "string")
  check_arg(pkg(self), "set_signed", 2, "certificate", certificate, "string")
  return post(self, "set_signed", mpath(mount, "intermediate/set-signed"), {certificate = certificate})
end

--- Sets the issuing certificate and CRL distribution URLs written into certificates.
---@param mount string
---@param params table issuing_certificates, crl_distribution_points, ocsp_servers (lists)
---@return true
function PKI:set_urls(mount, params)
  check_arg(pkg(self), "set_urls", 1, "mount", mount, "string")
  check_arg(pkg(self), "set_urls", 2, "params", params, "table")
  post(self, "set_urls", mpath(mount, "config/urls"), params)
  return true
end

--- Creates or updates a role.
---@param mount string
---@param name string
---@param params table allowed_domains, allow_subdomains, allow_localhost, allow_ip_sans, max_ttl, key_type, ...
---@return true
function PKI:write_role(mount, name, params)
  check_arg(pkg(self), "write_role", 1, "mount", mount, "string")
  check_arg(pkg(self), "write_role", 2, "name", name, "string")
  check_arg(pkg(self), "write_role", 3, "params", params, "table")
  post(self, "write_role", mpath(mount, "roles", name), params)
  return true
end

--- A role's settings, or nil when there is no such role.
---@param mount string
---@param name string
---@return table|nil role
function PKI:read_role(mount, name)
  check_arg(pkg(self), "read_role", 1, "mount", mount, "string")
  check_arg(pkg(self), "read_role", 2, "name", name, "string")
  local body, err = self.client:_get("pki.read_role", mpath(mount, "roles", name))
  if not body then return nil, err end
  return body.data
end

--- The roles' names (empty when none).
---@param mount string
---@return string[]
function PKI:list_roles(mount)
  check_arg(pkg(self), "list_roles", 1, "mount", mount, "string")
  return self.client:_list("pki.list_roles", mpath(mount, "roles"))
end

--- Deletes a role.
---@param mount string
---@param name string
---@return true|nil ok true, or nil when the server answers 404
---@return table|nil body the decoded error body on 404
function PKI:delete_role(mount, name)
  check_arg(pkg(self), "delete_role", 1, "mount", mount, "string")
  check_arg(pkg(self), "delete_role", 2, "name", name, "string")
  return self.client:_delete("pki.delete_role", mpath(mount, "roles", name))
end

--- Issues a certificate and its private key under a role.
---@param mount string
---@param role string
---@param params table common_name, alt_names, ip_sans, ttl, format, ...
---@return table data {certificate, private_key, private_key_type, issuing_ca, ca_chain, serial_number, expiration}
function PKI:issue(mount, role, params)
  check_arg(pkg(self), "issue", 1, "mount", mount, "string")
  check_arg(pkg(self), "issue", 2, "role", role, "string")
  check_arg(pkg(self), "issue", 3, "params", params, "table")
  return post(self, "issue", mpath(mount, "issue", role), params)
end

--- Signs a CSR under a role (the key stays with the caller).
---@param mount string
---@param role string
---@param csr string PEM
---@param params? table common_name, alt_names, ttl, ...
---@return table data {certificate, issuing_ca, ca_chain, serial_number, expiration}
function PKI:sign(mount, role, csr, params)
  check_arg(pkg(self), "sign", 1, "mount", mount, "string")
  check_arg(pkg(self), "sign", 2, "role", role, "string")
  check_arg(pkg(self), "sign", 3, "csr", csr, "string")
  check_arg(pkg(self), "sign", 4, "params", params, "?table")
  local body = {}
  for k, v in pairs(params or {}) do body[k] = v end
  body.csr = csr
  return post(self, "sign", mpath(mount, "sign", role), body)
end

--- Revokes a certificate by serial number ("1a:2b:..." as Vault prints it).
---@param mount string
---@param serial string
---@return table data {revocation_time, revocation_time_rfc3339, state}
function PKI:revoke(mount, serial)
  check_arg(pkg(self), "revoke", 1, "mount", mount, "string")
  check_arg(pkg(self), "revoke", 2, "serial", serial, "string")
  return post(self, "revoke", mpath(mount, "revoke"), {serial_number = serial})
end

--- Reads a certificate by serial number (or "ca", "crl", "ca_chain"), or nil when unknown.
---@param mount string
---@param serial string
---@return table|nil data {certificate, revocation_time, ...}
function PKI:read_cert(mount, serial)
  check_arg(pkg(self), "read_cert", 1, "mount", mount, "string")
  check_arg(pkg(self), "read_cert", 2, "serial", serial, "string")
  local body, err = self.client:_get("pki.read_cert", mpath(mount, "cert", serial))
  if not body then return nil, err end
  return body.data
end

--- The serial numbers of the certificates the mount has stored.
---@param mount string
---@return string[]
function PKI:list_certs(mount)
  check_arg(pkg(self), "list_certs", 1, "mount", mount, "string")
  return self.client:_list("pki.list_certs", mpath(mount, "certs"))
end

local function raw_pem(self, fname, path)
  local _, _, raw = self.client:_call("pki." .. fname, "GET", path, {raw = true})
  return raw
end

--- The default issuer's CA certificate, PEM (GET <mount>/ca/pem; "" when the mount has no CA).
---@param mount string
---@return string pem
function PKI:ca_pem(mount)
  check_arg(pkg(self), "ca_pem", 1, "mount", mount, "string")
  return raw_pem(self, "ca_pem", mpath(mount, "ca/pem"))
end

--- The CA chain, PEM (GET <mount>/ca_chain).
---@param mount string
---@return string pem
function PKI:ca_chain_pem(mount)
  check_arg(pkg(self), "ca_chain_pem", 1, "mount", mount, "string")
  return raw_pem(self, "ca_chain_pem", mpath(mount, "ca_chain"))
end

--- The current CRL, PEM (GET <mount>/crl/pem).
---@param mount string
---@return string pem
function PKI:crl_pem(mount)
  check_arg(pkg(self), "crl_pem", 1, "mount", mount, "string")
  return raw_pem(self, "crl_pem", mpath(mount, "crl/pem"))
end

--- Rebuilds the CRL now.
---@param mount string
---@return true
function PKI:rotate_crl(mount)
  check_arg(pkg(self), "rotate_crl", 1, "mount", mount, "string")
  self.client:_call("pki.rotate_crl", "GET", mpath(mount, "crl/rotate"))
  return true
end

--- Starts a tidy of the certificate store and revocation list (runs in the server's background;
--- Vault answers 202).
---@param mount string
---@param params? table tidy_cert_store (default true), tidy_revoked_certs (default true), safety_buffer, ...
---@return table|nil body the server's answer (warnings)
function PKI:tidy(mount, params)
  check_arg(pkg(self), "tidy", 1, "mount", mount, "string")
  check_arg(pkg(self), "tidy", 2, "params", params, "?table")
  local body = {tidy_cert_store = true, tidy_revoked_certs = true}
  for k, v in pairs(params or {}) do body[k] = v end
  local _, resp = self.client:_call("pki.tidy", "POST", mpath(mount, "tidy"), {body = body})
  return resp
end

--- The status of the last tidy: {state = "Running"|"Finished"|"Error"|"Inactive", ...}.
---@param mount string
---@return table status
function PKI:tidy_status(mount)
  check_arg(pkg(self), "tidy_status", 1, "mount", mount, "string")
  local _, resp = self.client:_call("pki.tidy_status", "GET", mpath(mount, "tidy-status"))
  return resp.data
end

return M
