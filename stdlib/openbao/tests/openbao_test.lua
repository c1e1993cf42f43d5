-- The openbao package against the real OpenBao dev server (scripts/bao-server): the vault
-- module with BAO_* defaults. The defaults are read from a pretend environment (env.set is
-- process-wide, and refused once the http plugin runs in any test file of the run).
local addr, token = env.get("ASSAY_TEST_BAO_ADDR"), env.get("ASSAY_TEST_BAO_TOKEN")
if not addr or addr == "" or not token or token == "" then
  error("ASSAY_TEST_BAO_ADDR / ASSAY_TEST_BAO_TOKEN are unset: these tests need a real OpenBao; "
    .. "start it with `scripts/bao-server start DIR` and export the lines it prints (DIR/env)", 0)
end
local bao = require("assay.openbao")
local vault = require("assay.vault")
local fake_env = {BAO_ADDR = addr, BAO_TOKEN = token,
  VAULT_ADDR = "http://127.0.0.1:1", VAULT_TOKEN = "not-this-one"}   -- BAO_* wins over VAULT_*
vault._internal.getenv = function(name) return fake_env[name] end

test("the same module: submodules and functions are vault's", function()
  assert.eq(bao.pki, vault.pki)
  assert.eq(bao.transit, vault.transit)
  assert.eq(bao._internal, vault._internal)
end)

test("client() defaults to BAO_ADDR and BAO_TOKEN", function()
  local c = bao.client()
  assert.eq(c.url, addr)
  assert.eq(c.token, token)
  local h, status = c:health()
  assert.eq(status, 200)
  assert.eq(h.sealed, false)
  assert.contains(c:token_lookup_self().policies, "root")
  local p = "openbao-test-" .. uuid.v4():sub(1, 8)
  c:kv_put("secret", p, {k = "v"})
  assert.eq(c:kv_get("secret", p), {k = "v"})
  c:kv_metadata_delete("secret", p)
  -- vault.client still reads VAULT_*
  assert.eq(vault.client().url, "http://127.0.0.1:1")
  -- and the bao CLI's fallback: VAULT_* when BAO_* is unset
  fake_env.BAO_ADDR = nil
  assert.eq(bao.client().url, "http://127.0.0.1:1")
  fake_env.BAO_ADDR = addr
end)

test("errors start with openbao.", function()
  local bad = bao.client{token = "wrong-token-xyz"}
  local ok, err = pcall(bad.kv_get, bad, "secret", "x")
  assert.eq(ok, false)
  assert.eq(err, "openbao.kv_get: GET /v1/secret/data/x: 403 permission denied")
  assert.raises(function() bad.transit:encrypt("transit", "k", "x") end,
    "^openbao\\.transit\\.encrypt: POST /v1/transit/encrypt/k: 403 permission denied$")
  assert.raises(function() bao.client{adress = "x"} end, "^openbao\\.client: unknown option 'adress'")
end)
