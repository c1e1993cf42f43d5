-- Shared by the vault package's tests: the real OpenBao dev server scripts/bao-server started.
-- A missing server fails the tests (never skips).
local vault = require("assay.vault")

local M = {}

local function need(name)
  local v = env.get(name)
  if v == nil or v == "" then
    error(name .. " is unset: these tests need a real OpenBao; start it with "
      .. "`scripts/bao-server start DIR` and export the lines it prints (DIR/env)", 0)
  end
  return v
end

M.addr = need("ASSAY_TEST_BAO_ADDR")
M.token = need("ASSAY_TEST_BAO_TOKEN")

--- A client with the dev server's root token.
function M.root()
  return vault.client{url = M.addr, token = M.token, timeout = 30}
end

--- A name no other test (or earlier run) uses: tests share the server.
function M.unique(prefix)
  return prefix .. "-" .. uuid.v4():sub(1, 8)
end

--- The bao binary (for the seal tests' own server).
function M.bin()
  return need("ASSAY_TEST_BAO_BIN")
end

--- A TCP port on 127.0.0.1 that nothing listens on (the kernel's pick, closed again).
function M.free_port()
  local r = process.run({"python3", "-c", "import socket; s = socket.socket(); "
    .. "s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"}, {check = true, timeout = 10})
  return tonumber((r.stdout:gsub("%s+$", "")))
end

return M
