-- The openbao package against the real OpenBao dev server (scripts/bao-server): the vault
-- module with BAO_* defaults. The defaults are tested in child assays with the variables set
-- (the environment cannot change once the http plugin runs).
local addr, token = env.get("ASSAY_TEST_BAO_ADDR"), env.get("ASSAY_TEST_BAO_TOKEN")
if not addr or addr == "" or not token or token == "" then
  error("ASSAY_TEST_BAO_ADDR / ASSAY_TEST_BAO_TOKEN are unset: these tests need a real OpenBao; "
    .. "start it with `scripts/bao-server start DIR` and export the lines it prints (DIR/env)", 0)
end
local bao = require("assay.openbao")
local vault = require("assay.vault")

local function lib_path() return env.get("ASSAY_LIB_PATH") end  -- --lib-path is exported there
local LIB = lib_path()

-- Runs code in a child assay whose VAULT_* and BAO_* variables are empty but those in vars.
local function child(code, vars)
  local e = {}
  for _, n in ipairs({"ADDR", "TOKEN", "CACERT", "NAMESPACE", "SKIP_VERIFY"}) do
    e["VAULT_" .. n] = ""
    e["BAO_" .. n] = ""
  end
  for k, v in pairs(vars) do e[k] = v end
  local argv = {"/proc/self/exe"}
  if LIB then argv[#argv + 1] = "--lib-path"; argv[#argv + 1] = LIB end
  argv[#argv + 1] = "-e"
  argv[#argv + 1] = 'local bao = require("assay.openbao")\nlocal vault = require("assay.vault")\n'
    .. code
  local r = process.run(argv, {env = e, timeout = 30})
  if r.status ~= 0 then error("child failed: " .. r.stderr, 0) end
  return r.stdout
end

test("the same module: submodules and functions are vault's", function()
  assert.eq(bao.pki, vault.pki)
  assert.eq(bao.transit, vault.transit)
  assert.eq(bao._internal, vault._internal)
end)

test("client() defaults to BAO_ADDR and BAO_TOKEN (over VAULT_*) and works", function()
  local p = "openbao-test-" .. uuid.v4():sub(1, 8)
  local out = child(([[
    local c = bao.client()
    print(c.url, c.token == %q)
    local h, status = c:health()
    print(status, h.sealed)
    print(c:kv_put("secret", %q, {k = "v"}).version, c:kv_get("secret", %q).k)
    print(c:kv_metadata_delete("secret", %q))
    print(vault.client().url)   -- vault.client still reads VAULT_*
  ]]):format(token, p, p, p), {BAO_ADDR = addr, BAO_TOKEN = token,
    VAULT_ADDR = "http://127.0.0.1:1", VAULT_TOKEN = "not-this-one"})
  assert.eq(out, addr .. "\ttrue\n200\tfalse\n1\tv\ntrue\nhttp://127.0.0.1:1\n")
end)

test("the bao CLI's fallback: VAULT_* when BAO_* is unset or empty; else 127.0.0.1:8200", function()
  local out = child("print(bao.client().url, bao.client().token)",
    {VAULT_ADDR = "http://127.0.0.1:1", VAULT_TOKEN = "vt", HOME = "/nonexistent"})
  assert.eq(out, "http://127.0.0.1:1\tvt\n")
  out = child("print(bao.client().url)", {HOME = "/nonexistent"})
  assert.eq(out, "http://127.0.0.1:8200\n")
end)

test("errors start with openbao.", function()
  local bad = bao.client{url = addr, token = "wrong-token-xyz"}
  local ok, err = pcall(bad.kv_get, bad, "secret", "x")
  assert.eq(ok, false)
  assert.eq(err, "openbao.kv_get: GET /v1/secret/data/x: 403 permission denied")
  assert.raises(function() bad.transit:encrypt("transit", "k", "x") end,
    "^openbao\\.transit\\.encrypt: POST /v1/transit/encrypt/k: 403 permission denied$")
  assert.raises(function() bao.client{adress = "x"} end,
    "^.*_test\\.lua:\\d+: openbao\\.client: bad argument #1 'opts' \\(unknown option 'adress'; expected ca_cert, "
    .. "headers, insecure, namespace, timeout, token, url\\)$")
  assert.raises(function() bao.client{url = "u:hunter2@bao:8200"} end,
    '^.*_test\\.lua:\\d+: openbao\\.client: bad url \\(an http\\(s\\) URL expected, got "u:\\*\\*\\*@bao:8200"\\)$')
  assert.eq(tostring(bao.client{url = "http://u:hunter2@127.0.0.1:1"}), "openbao.client(http://127.0.0.1:1)")
end)

test("vault.client takes one parameter: the environment spec is not public", function()
  local c = vault.client({url = "http://127.0.0.1:1"}, {pkg = "x", addr = {}, token = {},
    cacert = {}, namespace = {}, skip_verify = {}})
  assert.eq(tostring(c), "vault.client(http://127.0.0.1:1)")
end)
