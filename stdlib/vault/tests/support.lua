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

-- This run's lib path (the child assays below need the same packages and plugins).
local function lib_path() return env.get("ASSAY_LIB_PATH") end  -- --lib-path is exported there
local LIB = lib_path()

--- Runs `code` in a child assay (this same binary, this run's lib path; `flags` such as
--- {"--sandbox"} before it) whose environment has every VAULT_* and BAO_* variable empty but
--- those in vars (the environment cannot change once the http plugin runs, so the client's
--- defaults are tested this way). Returns its stdout, or raises with its stderr.
function M.child(code, vars, flags)
  local e = {}
  for _, n in ipairs({"ADDR", "TOKEN", "CACERT", "NAMESPACE", "SKIP_VERIFY"}) do
    e["VAULT_" .. n] = ""
    e["BAO_" .. n] = ""
  end
  for k, v in pairs(vars or {}) do e[k] = v end
  local argv = {"/proc/self/exe"}
  for _, f in ipairs(flags or {}) do argv[#argv + 1] = f end
  if LIB then argv[#argv + 1] = "--lib-path"; argv[#argv + 1] = LIB end
  argv[#argv + 1] = "-e"
  argv[#argv + 1] = code
  local r = process.run(argv, {env = e, timeout = 30})
  if r.status ~= 0 then error("child failed: " .. r.stderr, 0) end
  return r.stdout
end

return M
