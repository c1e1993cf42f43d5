-- KV version 2 and version 1 against the real OpenBao dev server (scripts/bao-server).
local vault = require("assay.vault")
local S = require("support")

local c = S.root()

describe("kv v2", function()
  local mount = S.unique("kv2")
  c:secrets_enable("kv", {path = mount, options = {version = "2"}})

  test("put then get round-trips the data; metadata comes second", function()
    local meta = c:kv_put(mount, "app/db", {user = "web", password = "s3cret", port = "5432"})
    assert.eq(meta.version, 1)
    local data, m = c:kv_get(mount, "app/db")
    assert.eq(data, {user = "web", password = "s3cret", port = "5432"})
    assert.eq(m.version, 1)
    assert.eq(m.destroyed, false)
  end)

  test("a missing secret is nil with the error body, not an error", function()
    local data, body = c:kv_get(mount, "no/such/secret")
    assert.is_nil(data)
    assert.eq(type(body), "table")
  end)

  test("versions: an older one is read with {version}", function()
    c:kv_put(mount, "ver", {n = "1"})
    c:kv_put(mount, "ver", {n = "2"})
    assert.eq(c:kv_get(mount, "ver").n, "2")
    assert.eq(c:kv_get(mount, "ver", {version = 1}).n, "1")
    assert.is_nil(c:kv_get(mount, "ver", {version = 7}))
  end)

  test("cas: a stale version is refused with the server's text", function()
    c:kv_put(mount, "cas", {v = "a"}, {cas = 0})
    assert.eq(c:kv_put(mount, "cas", {v = "b"}, {cas = 1}).version, 2)
    local ok, err = pcall(c.kv_put, c, mount, "cas", {v = "c"}, {cas = 1})
    assert.eq(ok, false)
    assert.eq(err, "vault.kv_put: POST /v1/" .. mount .. "/data/cas: 400 "
      .. "check-and-set parameter did not match the current version")
    -- cas = 0 on an existing secret: refused too
    assert.raises(function() c:kv_put(mount, "cas", {v = "d"}, {cas = 0}) end,
      "check-and-set parameter did not match")
    assert.eq(c:kv_get(mount, "cas").v, "b")
  end)

  test("patch merges fields (json.null removes one)", function()
    c:kv_put(mount, "patch", {a = "1", b = "2"})
    local meta = c:kv_patch(mount, "patch", {b = "two", c = "3"})
    assert.eq(meta.version, 2)
    assert.eq(c:kv_get(mount, "patch"), {a = "1", b = "two", c = "3"})
    c:kv_patch(mount, "patch", {a = json.null})
    assert.eq(c:kv_get(mount, "patch"), {b = "two", c = "3"})
    -- patch with cas
    assert.raises(function() c:kv_patch(mount, "patch", {d = "4"}, {cas = 1}) end,
      "400 check-and-set")
    -- nothing to patch: 404 raises (a patch is not a read)
    assert.raises(function() c:kv_patch(mount, "nothing-here", {a = "1"}) end,
      "^vault\\.kv_patch: PATCH /v1/" .. mount .. "/data/nothing-here: 404")
  end)

  test("delete, undelete, destroy", function()
    c:kv_put(mount, "life", {v = "1"})
    c:kv_put(mount, "life", {v = "2"})
    assert.eq(c:kv_delete(mount, "life"), true)                       -- the latest version
    local data, body = c:kv_get(mount, "life")
    assert.is_nil(data)
    assert.ne(body.data.metadata.deletion_time, "")
    assert.eq(c:kv_get(mount, "life", {version = 1}).v, "1")
    assert.eq(c:kv_undelete(mount, "life", {2}), true)
    assert.eq(c:kv_get(mount, "life").v, "2")
    assert.eq(c:kv_delete(mount, "life", {versions = {1}}), true)
    assert.is_nil(c:kv_get(mount, "life", {version = 1}))
    assert.eq(c:kv_destroy(mount, "life", {2}), true)
    assert.is_nil(c:kv_get(mount, "life"))
    local meta = c:kv_metadata(mount, "life")
    assert.eq(meta.current_version, 2)
    assert.eq(meta.versions["2"].destroyed, true)
    assert.ne(meta.versions["1"].deletion_time, "")
    assert.eq(c:kv_metadata_delete(mount, "life"), true)
    assert.is_nil(c:kv_metadata(mount, "life"))
  end)

  test("list and metadata", function()
    c:kv_put(mount, "tree/a", {x = "1"})
    c:kv_put(mount, "tree/b", {x = "1"})
    c:kv_put(mount, "tree/sub/c", {x = "1"})
    local keys = c:kv_list(mount, "tree")
    table.sort(keys)
    assert.eq(keys, {"a", "b", "sub/"})
    assert.eq(#c:kv_list(mount, "empty/folder"), 0)
    assert.eq(c:kv_metadata_put(mount, "tree/a", {max_versions = 3, custom_metadata = {owner = "ops"}}), true)
    local meta = c:kv_metadata(mount, "tree/a")
    assert.eq(meta.max_versions, 3)
    assert.eq(meta.custom_metadata.owner, "ops")
    assert.is_nil(c:kv_metadata(mount, "tree/none"))
  end)

  test("paths are URL-encoded per segment", function()
    c:kv_put(mount, "odd/name with space & ?", {x = "y"})
    assert.eq(c:kv_get(mount, "odd/name with space & ?").x, "y")
    assert.contains(c:kv_list(mount, "odd"), "name with space & ?")
  end)

  test("the dev server's own secret/ mount works as KV v2", function()
    local p = S.unique("kv-test")
    c:kv_put("secret", p, {hello = "world"})
    assert.eq(c:kv_get("secret", p), {hello = "world"})
    c:kv_metadata_delete("secret", p)
  end)
end)

describe("kv v1", function()
  local mount = S.unique("kv1")
  c:secrets_enable("kv", {path = mount, options = {version = "1"}})

  test("put, get, list, delete", function()
    c:kv1_put(mount, "app/db", {password = "pw", n = 3})
    assert.eq(c:kv1_get(mount, "app/db"), {password = "pw", n = 3})
    assert.eq(c:kv1_put(mount, "app/web", {x = "1"}), true)
    local keys = c:kv1_list(mount, "app")
    table.sort(keys)
    assert.eq(keys, {"db", "web"})
    assert.eq(c:kv1_list(mount), {"app/"})
    assert.eq(c:kv1_delete(mount, "app/db"), true)
    assert.is_nil(c:kv1_get(mount, "app/db"))
    assert.eq(#c:kv1_list(mount, "nothing"), 0)
  end)
end)

describe("errors", function()
  test("403 carries the server's text and never the token", function()
    local secret_token = "s.not-a-real-token-" .. uuid.v4()
    local bad = vault.client{url = S.addr, token = secret_token}
    local ok, err = pcall(bad.kv_get, bad, "secret", "x")
    assert.eq(ok, false)
    assert.eq(err, "vault.kv_get: GET /v1/secret/data/x: 403 permission denied")
    ok, err = pcall(bad.token_lookup_self, bad)
    assert.matches(err, "^vault\\.token_lookup_self: GET /v1/auth/token/lookup-self: 403 ")
    assert.eq(err:find(secret_token, 1, true), nil)
    -- token_lookup of a bad token: the server may echo input; the message must not
    ok, err = pcall(c.token_lookup, c, secret_token)
    assert.eq(ok, false)
    assert.eq(err:find(secret_token, 1, true), nil)
    assert.eq(err:find(S.token, 1, true), nil)
  end)

  test("no server: the http client's reason after the prefix", function()
    local port = S.free_port()
    local gone = vault.client{url = "http://127.0.0.1:" .. port, token = "t", timeout = 5}
    local ok, err = pcall(gone.kv_get, gone, "secret", "x")
    assert.eq(ok, false)
    assert.matches(err, "^vault\\.kv_get: ")
    assert.matches(err, "127\\.0\\.0\\.1:" .. port)
    -- wait_unsealed keeps polling, then names the last failure
    err = assert.raises(function() gone:wait_unsealed{timeout = 0.3, interval = 0.1} end)
    assert.matches(err, "^vault\\.wait_unsealed: not unsealed after 0\\.3s: http\\.Client:request: "
      .. "cannot connect to 127\\.0\\.0\\.1:" .. port)
  end)

  test("bad arguments and unknown options raise naming them", function()
    assert.raises(function() c:kv_get(nil, "x") end,
      "^.*_test\\.lua:\\d+: vault\\.kv_get: bad argument #1 'mount' \\(string expected, got nil\\)$")
    assert.raises(function() c:kv_put("secret", "x", "notatable") end, "'data' \\(table expected")
    assert.raises(function() c:kv_get("secret", "x", {versoin = 1}) end,
      "^.*_test\\.lua:\\d+: vault\\.kv_get: bad argument #3 'opts' \\(unknown option 'versoin'; expected version\\)$")
    assert.raises(function() c:kv_get("secret", "x", {version = "2"}) end,
      "^.*_test\\.lua:\\d+: vault\\.kv_get: bad argument #3 'opts' \\(field 'version': number expected, got string\\)$")
    assert.raises(function() vault.client{url = S.addr, tokn = "x"} end,
      "^.*_test\\.lua:\\d+: vault\\.client: bad argument #1 'opts' \\(unknown option 'tokn'; expected ca_cert, headers, "
      .. "insecure, namespace, timeout, token, url\\)$")
    assert.raises(function() vault.client{url = "vault:8200"} end,
      '^.*_test\\.lua:\\d+: vault\\.client: bad url \\(an http\\(s\\) URL expected, got "vault:8200"\\)$')
    assert.raises(function() vault.client{url = 8200} end,
      "^.*_test\\.lua:\\d+: vault\\.client: bad argument #1 'opts' \\(field 'url': string expected, got number\\)$")
  end)
end)
