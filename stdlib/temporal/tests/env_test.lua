-- temporal.client's defaults from the environment. The environment cannot change once the http
-- plugin runs, so each case runs a child assay (this same binary, with this run's lib path)
-- with the variables set (an empty one counts as unset).

local function lib_path() return env.get("ASSAY_LIB_PATH") end  -- --lib-path is exported there

local LIB = lib_path()

local function child(code, vars)
  local e = {TEMPORAL_HTTP_URL = "", TEMPORAL_NAMESPACE = "", TEMPORAL_API_KEY = ""}
  for k, v in pairs(vars) do e[k] = v end
  local argv = {"/proc/self/exe"}
  if LIB then argv[#argv + 1] = "--lib-path"; argv[#argv + 1] = LIB end
  argv[#argv + 1] = "-e"
  argv[#argv + 1] = 'local temporal = require("assay.temporal")\n' .. code
  local r = process.run(argv, {env = e, timeout = 20})
  if r.status ~= 0 then error("child failed: " .. r.stderr, 0) end
  return r.stdout
end

test("without url or variables: http://localhost:7243, namespace default", function()
  assert.eq(child("local c = temporal.client(); print(c.url, c.namespace)", {}), "http://localhost:7243\tdefault\n")
end)

test("TEMPORAL_HTTP_URL, TEMPORAL_NAMESPACE; TEMPORAL_API_KEY sent as a bearer token", function()
  assert.eq(child("local c = temporal.client(); print(c.url, c.namespace)",
    {TEMPORAL_HTTP_URL = "https://t.example.com:7243/", TEMPORAL_NAMESPACE = "orders"}), "https://t.example.com:7243\torders\n")
  local out = child([[
    local srv = http.server({GET = {["/api/v1/namespaces/default"] = function(req)
      return {status = 200, json = {namespaceInfo = {name = req.headers.authorization}}}
    end}}, {host = "127.0.0.1", port = 0})
    local c = temporal.client{url = "http://127.0.0.1:" .. srv.port}
    print(c:namespace_describe().namespaceInfo.name)
    srv:stop()
  ]], {TEMPORAL_API_KEY = "env-key"})
  assert.eq(out, "Bearer env-key\n")
end)
