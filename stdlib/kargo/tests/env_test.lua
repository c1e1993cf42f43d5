-- kargo.client's defaults from the environment. The environment cannot change once the http
-- plugin runs, so each case runs a child assay (this same binary, with this run's lib path)
-- with the variables set (an empty one counts as unset).

local function lib_path() return env.get("ASSAY_LIB_PATH") end  -- --lib-path is exported there

local LIB = lib_path()

local function child(code, vars)
  local e = {KARGO_URL = "", KARGO_TOKEN = "", KARGO_ADMIN_PASSWORD = ""}
  for k, v in pairs(vars) do e[k] = v end
  local argv = {"/proc/self/exe"}
  if LIB then argv[#argv + 1] = "--lib-path"; argv[#argv + 1] = LIB end
  argv[#argv + 1] = "-e"
  argv[#argv + 1] = 'local kargo = require("assay.kargo")\n' .. code
  local r = process.run(argv, {env = e, timeout = 20})
  if r.status ~= 0 then error("child failed: " .. r.stderr, 0) end
  return r.stdout
end

test("without url or variables: http://localhost:8080, no credentials", function()
  assert.eq(child("local c = kargo.client(); print(c.url, c._token, c._password)", {}), "http://localhost:8080\tnil\tnil\n")
end)

test("KARGO_URL and KARGO_TOKEN; KARGO_ADMIN_PASSWORD only without a token", function()
  assert.eq(child("local c = kargo.client(); print(c.url, c._token, c._password)",
    {KARGO_URL = "https://kargo.example.com/", KARGO_TOKEN = "tok", KARGO_ADMIN_PASSWORD = "pw"}),
    "https://kargo.example.com\ttok\tnil\n")
  assert.eq(child("local c = kargo.client(); print(c._token, c._password)", {KARGO_ADMIN_PASSWORD = "pw"}), "nil\tpw\n")
end)
