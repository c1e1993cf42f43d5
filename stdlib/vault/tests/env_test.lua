-- vault.client's defaults from the environment, and the package under --sandbox: each case
-- runs a child assay (support.child) with the variables set.
local S = require("support")

local home = fs.tempdir()
fs.write(home .. "/.vault-token", "token-from-helper\n")
local REQ = 'local vault = require("assay.vault")\n'

test("VAULT_ADDR, VAULT_TOKEN and VAULT_NAMESPACE are the defaults", function()
  local out = S.child(REQ .. [[
    local c = vault.client()
    print(c.url, c.token, c.namespace)
  ]], {VAULT_ADDR = "http://127.0.0.1:1/", VAULT_TOKEN = "from-env", VAULT_NAMESPACE = "team-a",
    HOME = home})
  assert.eq(out, "http://127.0.0.1:1\tfrom-env\tteam-a\n")
end)

test("an empty VAULT_TOKEN is unset: the CLI's token helper file ~/.vault-token", function()
  local out = S.child(REQ .. [[
    print(vault.client().token, vault.client{token = "given"}.token)
  ]], {HOME = home})
  assert.eq(out, "token-from-helper\tgiven\n")
end)

test("without url, VAULT_ADDR (or with it empty): http://127.0.0.1:8200, as the vault CLI", function()
  local out = S.child(REQ .. [[
    local c = vault.client()
    print(c.url, c.token, c.namespace)
  ]], {HOME = "/nonexistent"})
  assert.eq(out, "http://127.0.0.1:8200\tnil\tnil\n")
end)

test("explicit options win over the environment", function()
  local out = S.child(REQ .. [[
    local c = vault.client{url = "http://127.0.0.1:3", token = "t", namespace = "ns"}
    print(c.url, c.token, c.namespace)
  ]], {VAULT_ADDR = "http://127.0.0.1:1", VAULT_TOKEN = "env", VAULT_NAMESPACE = "env-ns"})
  assert.eq(out, "http://127.0.0.1:3\tt\tns\n")
end)

test("under --sandbox the package loads and works with an explicit token; ~/.vault-token is ignored", function()
  local p = S.unique("sandboxed")
  local out = S.child(REQ .. ([[
    print(vault.client().token)
    local c = vault.client{url = %q, token = %q}
    print(c:kv_put("secret", %q, {k = "v"}).version)
    print(c:kv_get("secret", %q).k, c:kv_metadata_delete("secret", %q))
    print(select(2, pcall(c.login_kubernetes, c, "r")))
    print(select(2, pcall(function() c:kv_get(nil, "x") end)))
  ]]):format(S.addr, S.token, p, p, p), {HOME = home}, {"--sandbox"})
  -- without debug.getinfo a bad argument carries no position
  assert.eq(out, "nil\n1\nv\ttrue\nvault.login_kubernetes: no jwt given and "
    .. "/var/run/secrets/kubernetes.io/serviceaccount/token cannot be read: fs.read is not "
    .. "available in sandbox\n"
    .. "vault.kv_get: bad argument #1 'mount' (string expected, got nil)\n")
end)

test("cleanup", function()
  fs.remove(home, {recursive = true})
end)
