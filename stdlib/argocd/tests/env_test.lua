-- argocd.client's defaults from the environment. The environment cannot change once the http
-- plugin runs, so each case runs a child assay (this same binary, with this run's lib path)
-- with the variables set (an empty one counts as unset).

local function lib_path() return env.get("ASSAY_LIB_PATH") end  -- --lib-path is exported there

local LIB = lib_path()

local function child(code, vars)
  local e = {ARGOCD_URL = "", ARGOCD_SERVER = "", ARGOCD_AUTH_TOKEN = "", ARGOCD_USERNAME = "", ARGOCD_PASSWORD = ""}
  for k, v in pairs(vars) do e[k] = v end
  local argv = {"/proc/self/exe"}
  if LIB then argv[#argv + 1] = "--lib-path"; argv[#argv + 1] = LIB end
  argv[#argv + 1] = "-e"
  argv[#argv + 1] = 'local argocd = require("assay.argocd")\n' .. code
  local r = process.run(argv, {env = e, timeout = 20})
  if r.status ~= 0 then error("child failed: " .. r.stderr, 0) end
  return r.stdout
end

test("without url or variables: http://localhost:8080, no credentials", function()
  assert.eq(child("local c = argocd.client(); print(c.url, c._token, c._username)", {}),
    "http://localhost:8080\tnil\tnil\n")
end)

test("ARGOCD_URL and ARGOCD_AUTH_TOKEN; ARGOCD_SERVER (the CLI's) gets https://", function()
  assert.eq(child("local c = argocd.client(); print(c.url, c._token)",
    {ARGOCD_URL = "http://argocd.local:8080/", ARGOCD_AUTH_TOKEN = "tok"}), "http://argocd.local:8080\ttok\n")
  assert.eq(child("print(argocd.client().url)", {ARGOCD_SERVER = "argocd.example.com"}), "https://argocd.example.com\n")
  assert.eq(child("print(argocd.client().url)", {ARGOCD_SERVER = "http://argocd:80"}), "http://argocd:80\n")
end)

test("ARGOCD_USERNAME/ARGOCD_PASSWORD win over the token variable; options over both", function()
  assert.eq(child("local c = argocd.client(); print(c._username, c._password, c._token)",
    {ARGOCD_USERNAME = "admin", ARGOCD_PASSWORD = "pw", ARGOCD_AUTH_TOKEN = "tok"}), "admin\tpw\tnil\n")
  assert.eq(child("local c = argocd.client{token = 'opt'}; print(c._username, c._token)",
    {ARGOCD_USERNAME = "admin", ARGOCD_AUTH_TOKEN = "tok"}), "nil\topt\n")
end)
