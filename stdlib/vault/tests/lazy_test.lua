-- Submodules load lazily: requiring the package reads neither pki.lua nor transit.lua, and costs
-- well under a millisecond; the first touch of vault.pki / c.pki loads it. No server needed.

test("require reads no submodule; the first touch does", function()
  -- the http plugin loads on first use of `http`; its start-up is the core's, not the package's
  assert.eq(type(http.client), "function")
  local t0 = os.clock()
  local vault = require("assay.vault")
  local spent = os.clock() - t0
  assert.lt(spent, 0.005)      -- the contract is < 1 ms; a loaded CI machine gets slack
  assert.is_nil(package.loaded["assay.vault.admin"])
  assert.is_nil(package.loaded["assay.vault.pki"])
  assert.is_nil(package.loaded["assay.vault.transit"])
  local c = vault.client{url = "http://127.0.0.1:1", token = "t"}
  assert.is_nil(package.loaded["assay.vault.pki"])
  local pki = c.pki
  assert.not_nil(package.loaded["assay.vault.pki"])
  assert.is_nil(package.loaded["assay.vault.transit"])
  assert.eq(pki.client, c)
  assert.eq(c.pki, pki)
  assert.eq(vault.transit, require("assay.vault.transit"))
  assert.eq(type(c.transit.encrypt), "function")
  -- a name that is neither a method nor a submodule is nil, not an error
  assert.is_nil(c.nothing)
  -- the set-up and sys methods (admin.lua) load on the first touch of any of them
  assert.is_nil(package.loaded["assay.vault.admin"])
  assert.eq(type(c.health), "function")
  assert.not_nil(package.loaded["assay.vault.admin"])
  for name in pairs(vault._internal.lazy_methods) do
    assert.eq(type(c[name]), "function", name)
  end
end)

test("clients are independent and print without their token", function()
  local vault = require("assay.vault")
  local a = vault.client{url = "http://127.0.0.1:1/", token = "token-a"}
  local b = vault.client{url = "http://127.0.0.1:2", token = "token-b"}
  assert.eq(a.url, "http://127.0.0.1:1")
  assert.ne(a._http, b._http)
  assert.eq(tostring(a), "vault.client(http://127.0.0.1:1)")
  assert.eq(tostring(a):find("token-a", 1, true), nil)
end)
