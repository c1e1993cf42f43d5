-- init, seal status, unseal, wait_unsealed and health's status codes, against a real non-dev
-- OpenBao this test starts itself (init and unseal change a server for good, so each run needs a
-- new one) with the binary scripts/bao-server names in ASSAY_TEST_BAO_BIN.
local vault = require("assay.vault")
local S = require("support")

local dir = fs.tempdir()
local port = S.free_port()
local addr = "http://127.0.0.1:" .. port
fs.write(dir .. "/config.hcl", string.format([[
storage "inmem" {}
listener "tcp" {
  address     = "127.0.0.1:%d"
  tls_disable = true
}
api_addr = "%s"
]], port, addr))
-- sh only to send the server's output to a file; exec keeps one process to kill
local server = process.spawn({"sh", "-c", 'exec "$0" server -config="$1" >"$2" 2>&1', S.bin(),
  dir .. "/config.hcl", dir .. "/log"}, {cwd = dir, env = {HOME = dir}})

local c = vault.client{url = addr, token = "", timeout = 10}
c:set_token(nil)

local function stop()
  pcall(server.kill, server)
  pcall(server.wait, server)
  fs.remove(dir, {recursive = true})
end

-- the server answers within 30 s, or the whole file fails with its log
local up = false
for _ = 1, 300 do
  if pcall(c.health, c) then up = true break end
  sleep(0.1)
end
if not up then
  local log = fs.exists(dir .. "/log") and fs.read(dir .. "/log") or ""
  stop()
  error("the non-dev OpenBao at " .. addr .. " did not answer within 30 s:\n" .. log, 0)
end

local keys, root_token

test("uninitialized: health answers 501 as data, wait_unsealed times out saying so", function()
  local h, status = c:health()
  assert.eq(status, 501)
  assert.eq(h.initialized, false)
  assert.eq(c:init_status(), false)
  local err = assert.raises(function() c:wait_unsealed{timeout = 0.3, interval = 0.1} end)
  assert.eq(err, "vault.wait_unsealed: not unsealed after 0.3s: not initialized")
end)

test("init: keys and a root token; then sealed (health 503 as data)", function()
  local r = c:init{secret_shares = 3, secret_threshold = 2}
  assert.eq(#r.keys, 3)
  assert.eq(#r.keys_base64, 3)
  assert.ne(r.root_token, nil)
  keys, root_token = r.keys, r.root_token
  local h, status = c:health()
  assert.eq(status, 503)
  assert.eq(h.initialized, true)
  assert.eq(h.sealed, true)
  local st = c:seal_status()
  assert.eq({st.sealed, st.t, st.n, st.progress}, {true, 2, 3, 0})
  -- a second init: the server's text
  assert.raises(function() c:init{} end, "^vault\\.init: POST /v1/sys/init: 400 .*already initialized")
end)

test("unseal: progress, a timeout naming it, then wait_unsealed returns while a task unseals", function()
  local st = c:unseal(keys[1])
  assert.eq({st.sealed, st.progress}, {true, 1})
  local err = assert.raises(function() c:wait_unsealed{timeout = 0.3, interval = 0.1} end)
  assert.eq(err, "vault.wait_unsealed: not unsealed after 0.3s: sealed, unseal progress 1/2")
  local task = async.spawn(function()
    sleep(0.3)
    return c:unseal(keys[2])
  end)
  local t0 = time.monotonic()
  local done = c:wait_unsealed{timeout = 20, interval = 0.1}
  assert.eq(done.sealed, false)
  assert.ge(time.monotonic() - t0, 0.25)
  assert.eq(task:await().sealed, false)
  -- a wrong key share is refused with the server's text
  assert.raises(function() c:unseal("00") end, "^vault\\.unseal: POST /v1/sys/unseal: 400 ")
end)

test("active, then sealed again with the root token", function()
  local status
  for _ = 1, 100 do
    local _, s = c:health()
    status = s
    if s == 200 then break end
    sleep(0.1)
  end
  assert.eq(status, 200)
  c:set_token(root_token)
  assert.contains(c:token_lookup_self().policies, "root")
  assert.eq(c:seal(), true)
  local h, s = c:health()
  assert.eq(s, 503)
  assert.eq(h.sealed, true)
  -- standbyok changes nothing for a sealed server; the option is checked
  assert.eq(select(2, c:health{standbyok = true}), 503)
  assert.raises(function() c:health{standby_ok = true} end, "unknown option 'standby_ok'")
  -- sealed: other calls raise with the server's text
  assert.raises(function() c:kv_get("secret", "x") end, "^vault\\.kv_get: GET /v1/secret/data/x: 503 ")
end)

test("stop the server", function()
  stop()
end)
