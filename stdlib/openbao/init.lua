--- assay.openbao: the vault package for OpenBao (API-compatible with Vault). Everything is
--- assay.vault's; only the client's defaults differ: BAO_ADDR, BAO_TOKEN, BAO_CACERT,
--- BAO_NAMESPACE and BAO_SKIP_VERIFY (each falling back to its VAULT_* name, as the bao CLI
--- does), and error messages start with "openbao." instead of "vault.".
---
--- local bao = require("assay.openbao")
--- local c = bao.client()                       -- $BAO_ADDR, $BAO_TOKEN
--- c:kv_put("secret", "app", {password = "s3cret"})

local vault = require("assay.vault")
-- bad arguments are raised at the caller's position, past this file's frames too
vault._internal.own_source(function() return debug.getinfo(1, "S") end)

local ENV = {
  pkg = "openbao",
  addr = {"BAO_ADDR", "VAULT_ADDR"},
  token = {"BAO_TOKEN", "VAULT_TOKEN"},
  cacert = {"BAO_CACERT", "VAULT_CACERT"},
  namespace = {"BAO_NAMESPACE", "VAULT_NAMESPACE"},
  skip_verify = {"BAO_SKIP_VERIFY", "VAULT_SKIP_VERIFY"},
}

---@class openbao: table
local M = {}

--- Makes a client (see assay.vault's client) with OpenBao's environment defaults.
---@param opts? vault.ClientOptions url (default $BAO_ADDR, then $VAULT_ADDR), token ($BAO_TOKEN, then $VAULT_TOKEN), ...
---@return vault.Client
function M.client(opts)
  return vault._internal.new_client(opts, ENV)
end

-- Everything else (pki, transit, ...) is the vault module's.
setmetatable(M, {__index = vault})
return M
