--- assay.k8s.kubeconfig: kubeconfig files read, merged and resolved to one context as client-go's
--- clientcmd does. Internal to assay.k8s.config (use `config.load`); documented in k8s/README.md,
--- "Configuration".
local api = require("assay.apiclient")
api.own_source()

local M = {}

local EXEC_VERSIONS = {
  ["client.authentication.k8s.io/v1"] = true,
  ["client.authentication.k8s.io/v1beta1"] = true,
}
local INTERACTIVE = {Never = true, IfAvailable = true, Always = true}

local function fail(msg) error("k8s.config.load: " .. msg, 0) end

local function dirname(p)
  local d = p:match("^(.*)/[^/]*$")
  if d == nil then return "." end
  if d == "" then return "/" end
  return d
end

-- A path from a kubeconfig resolved against the folder of the file that named it (client-go's
-- ResolveLocalPaths); absolute paths and "" unchanged.
-- "." segments and "x/.." pairs removed, as Go's filepath.Join cleans the paths it joins.
local function clean(p)
  local abs, parts = p:sub(1, 1) == "/", {}
  for seg in p:gmatch("[^/]+") do
    if seg == ".." and #parts > 0 and parts[#parts] ~= ".." then
      parts[#parts] = nil
    elseif seg ~= "." and not (seg == ".." and abs) then
      parts[#parts + 1] = seg
    end
  end
  local out = table.concat(parts, "/")
  if abs then return "/" .. out end
  return out == "" and "." or out
end

local function resolve(base, p)
  if p == nil or p == "" or p:sub(1, 1) == "/" then return p end
  local r = clean(base .. "/" .. p)
  -- keep it a path (not a PATH lookup for an exec command) when the kubeconfig is in "."
  if not r:find("/", 1, true) then r = "./" .. r end
  return r
end

local function q(s) return '"' .. tostring(s) .. '"' end

-- Reads a file named by a kubeconfig field; raises naming the kubeconfig, the entry and the field.
local function read_field_file(where, field, path)
  local ok, text = pcall(fs.read, path)
  if not ok then
    fail(("%s: %s%s %s"):format(where.file, where.what, field, (api.strip_position(text):gsub("^fs%.read: ", ""))))
  end
  return text
end

-- Field accessors with type checks (Go's decoder refuses a wrongly typed field as well).
local function get(where, t, key, want)
  local v = t[key]
  if v == nil or v == json.null then return nil end
  if type(v) ~= want then
    fail(("%s: %s%s: %s expected, got %s"):format(where.file, where.what, key, want, type(v)))
  end
  return v
end

local function str(where, t, key)
  local v = get(where, t, key, "string")
  if v == "" then return nil end
  return v
end

local function b64(where, t, key)
  local v = str(where, t, key)
  if v == nil then return nil end
  local ok, out = pcall(base64.decode, (v:gsub("[\r\n]", "")))
  if not ok then fail(("%s: %s%s: not valid base64"):format(where.file, where.what, key)) end
  return out
end

-- One named list (clusters, users, contexts) of a parsed file, as name -> {body, origin}.
local function named_list(path, doc, key, inner)
  local list = doc[key]
  local out = {}
  if list == nil or list == json.null then return out end
  local is_list = type(list) == "table"
  if is_list then
    for k in pairs(list) do
      if math.type(k) ~= "integer" then is_list = false; break end
    end
  end
  if not is_list then
    fail(("%s: %s: a list expected, got %s"):format(path, key, type(list) == "table" and "a mapping" or type(list)))
  end
  for i, item in ipairs(list) do
    if type(item) ~= "table" or type(item.name) ~= "string" or item.name == "" then
      fail(("%s: %s[%d]: an entry with a non-empty name expected"):format(path, key, i))
    end
    if out[item.name] then fail(("%s: %s: duplicate name %s"):format(path, key, q(item.name))) end
    local body = item[inner]
    if body == nil or body == json.null then body = {} end
    if type(body) ~= "table" then
      fail(("%s: %s %s: %s: a mapping expected, got %s"):format(path, key, q(item.name), inner, type(body)))
    end
    out[item.name] = {body = body, origin = path}
  end
  return out
end

--- Reads and parses one kubeconfig file (YAML or JSON); nil and the reason when it cannot be read.
---@param path string
---@return table|nil file {path, clusters, users, contexts, current_context}
---@return string|nil why
function M.parse_file(path)
  local ok, text = pcall(fs.read, path)
  if not ok then return nil, api.strip_position(text) end
  local pok, doc = pcall(yaml.parse, text)
  if not pok then fail(("%s: %s"):format(path, api.strip_position(doc))) end
  if doc == nil or doc == json.null then doc = {} end
  if type(doc) ~= "table" then fail(("%s: a mapping expected at the top, got %s"):format(path, type(doc))) end
  local cc = doc["current-context"]
  if cc ~= nil and cc ~= json.null and type(cc) ~= "string" then
    fail(("%s: current-context: string expected, got %s"):format(path, type(cc)))
  end
  local file = {
    path = path,
    clusters = named_list(path, doc, "clusters", "cluster"),
    users = named_list(path, doc, "users", "user"),
    contexts = named_list(path, doc, "contexts", "context"),
    current_context = (cc ~= "" and cc ~= json.null) and cc or nil,
  }
  -- client-go decodes every *-data field when it loads a file: a bad one fails the whole file
  for name, e in pairs(file.clusters) do
    b64({file = path, what = "cluster " .. q(name) .. ": "}, e.body, "certificate-authority-data")
  end
  for name, e in pairs(file.users) do
    local where = {file = path, what = "user " .. q(name) .. ": "}
    b64(where, e.body, "client-certificate-data")
    b64(where, e.body, "client-key-data")
  end
  return file
end

--- Merges parsed files as clientcmd does: for each named cluster, user and context the first file
--- that defines it wins (the entry whole, never field by field); so does the first non-empty
--- current-context.
---@param files table[] parsed files, in KUBECONFIG order
---@return table merged {clusters, users, contexts, current_context, paths}
function M.merge(files)
  local merged = {clusters = {}, users = {}, contexts = {}, paths = {}}
  for _, f in ipairs(files) do
    merged.paths[#merged.paths + 1] = f.path
    for _, kind in ipairs({"clusters", "users", "contexts"}) do
      for name, e in pairs(f[kind]) do
        if merged[kind][name] == nil then merged[kind][name] = e end
      end
    end
    if merged.current_context == nil then merged.current_context = f.current_context end
  end
  return merged
end

local function exec_config(where, e, base)
  local cmd = str(where, e, "command")
  if not cmd then fail(("%s: %sexec.command must be set to use an exec plugin"):format(where.file, where.what)) end
  local version = str(where, e, "apiVersion")
  if not version then fail(("%s: %sexec.apiVersion must be set to use an exec plugin"):format(where.file, where.what)) end
  if not EXEC_VERSIONS[version] then
    fail(("%s: %sexec.apiVersion %s is not supported (client.authentication.k8s.io/v1 or v1beta1)"):format(
      where.file, where.what, q(version)))
  end
  local mode = str(where, e, "interactiveMode")
  if mode == nil and version ~= "client.authentication.k8s.io/v1" then mode = "IfAvailable" end
  if mode == nil then
    fail(("%s: %sexec.interactiveMode must be set (Never, IfAvailable or Always) for apiVersion %s"):format(
      where.file, where.what, version))
  end
  if not INTERACTIVE[mode] then fail(("%s: %sexec.interactiveMode: invalid %s"):format(where.file, where.what, q(mode))) end
  local args, env_list = {}, {}
  for i, a in ipairs(get(where, e, "args", "table") or {}) do
    if type(a) ~= "string" then fail(("%s: %sexec.args[%d]: string expected"):format(where.file, where.what, i)) end
    args[i] = a
  end
  for i, v in ipairs(get(where, e, "env", "table") or {}) do
    if type(v) ~= "table" or type(v.name) ~= "string" or v.name == "" then
      fail(("%s: %sexec.env[%d]: a name must be set"):format(where.file, where.what, i))
    end
    env_list[i] = {name = v.name, value = type(v.value) == "string" and v.value or ""}
  end
  -- a command with a "/" is a path: relative to the kubeconfig's folder; else looked up in PATH
  if cmd:find("/", 1, true) then cmd = resolve(base, cmd) end
  return {
    command = cmd, args = args, env = env_list, api_version = version,
    install_hint = str(where, e, "installHint"), interactive_mode = mode,
    provide_cluster_info = get(where, e, "provideClusterInfo", "boolean") == true,
  }
end

local function list_paths(paths) return table.concat(paths, ":") end

--- The configuration of one context of a merged kubeconfig (see `config.load` for its fields).
---@param merged table from M.merge
---@param context? string a context name (default: current-context)
---@return table cfg
function M.resolve(merged, context)
  local files = list_paths(merged.paths)
  local name = context or merged.current_context
  if name == nil then
    fail(("no current-context in %s and no context given: set one with `kubectl config use-context NAME` or pass {context = NAME}"):format(files))
  end
  local ctx = merged.contexts[name]
  if ctx == nil then fail(("context %s not found in %s"):format(q(name), files)) end
  local cwhere = {file = ctx.origin, what = "context " .. q(name) .. ": "}
  local cluster_name, user_name = str(cwhere, ctx.body, "cluster"), str(cwhere, ctx.body, "user")
  if cluster_name == nil then fail(("%s: context %s names no cluster"):format(ctx.origin, q(name))) end
  local cl = merged.clusters[cluster_name]
  if cl == nil then
    fail(("%s: context %s names cluster %s, which is not defined in %s"):format(ctx.origin, q(name), q(cluster_name), files))
  end
  local us
  if user_name then
    us = merged.users[user_name]
    if us == nil then
      fail(("%s: context %s names user %s, which is not defined in %s"):format(ctx.origin, q(name), q(user_name), files))
    end
  end

  local cfg = {context = name, source = "kubeconfig", namespace = str(cwhere, ctx.body, "namespace") or "default"}

  -- the cluster
  local w = {file = cl.origin, what = "cluster " .. q(cluster_name) .. ": "}
  local c, base = cl.body, dirname(cl.origin)
  local server = str(w, c, "server")
  if server == nil then fail(("%s: cluster %s has no server"):format(cl.origin, q(cluster_name))) end
  cfg.insecure = get(w, c, "insecure-skip-tls-verify", "boolean") == true
  cfg.tls_server_name = str(w, c, "tls-server-name")
  cfg.proxy_url = str(w, c, "proxy-url")
  local ca_file = resolve(base, str(w, c, "certificate-authority"))
  cfg.ca_cert = b64(w, c, "certificate-authority-data")
  if ca_file and cfg.ca_cert then
    fail(("%s: cluster %s: certificate-authority-data and certificate-authority are both set"):format(cl.origin, q(cluster_name)))
  end
  if ca_file then cfg.ca_cert = read_field_file(w, "certificate-authority", ca_file) end
  if cfg.insecure and cfg.ca_cert then
    fail(("%s: cluster %s: insecure-skip-tls-verify together with a certificate authority is not allowed"):format(
      cl.origin, q(cluster_name)))
  end
  -- a server without a scheme gets http://, as kubectl (1.32) connects to it, CA or not
  if not server:find("://", 1, true) then server = "http://" .. server end
  cfg.server = (server:gsub("/+$", ""))
  local ext = get(w, c, "extensions", "table")
  for _, x in ipairs(ext or {}) do
    if type(x) == "table" and x.name == "client.authentication.k8s.io/exec" then cfg._exec_cluster_config = x.extension end
  end

  -- the user
  if us then
    local uw = {file = us.origin, what = "user " .. q(user_name) .. ": "}
    local u, ubase = us.body, dirname(us.origin)
    local provider = get(uw, u, "auth-provider", "table")
    if provider then
      local pname = type(provider.name) == "string" and provider.name or "?"
      local hint = ({gcp = ' (kubectl 1.26+ removed it too: use the "gke-gcloud-auth-plugin" exec plugin)',
        azure = ' (kubectl 1.26+ removed it too: use the "kubelogin" exec plugin)',
        oidc = ' (use an exec plugin such as "kubelogin" / kubectl oidc-login)'})[pname] or " (use an exec plugin)"
      fail(("%s: user %s: auth-provider %s is not supported%s"):format(us.origin, q(user_name), q(pname), hint))
    end
    cfg.token = str(uw, u, "token")
    cfg.token_file = resolve(ubase, str(uw, u, "tokenFile"))
    cfg.username, cfg.password = str(uw, u, "username"), str(uw, u, "password")
    if cfg.token and (cfg.username or cfg.password) then
      fail(("%s: user %s: more than one authentication method (token and username/password); only one is allowed"):format(
        us.origin, q(user_name)))
    end
    if cfg.token_file and not cfg.token then
      -- client-go reads it when it loads (and fails when it cannot); the token source re-reads it
      read_field_file(uw, "tokenFile", cfg.token_file)
    end
    local cert_file = resolve(ubase, str(uw, u, "client-certificate"))
    local key_file = resolve(ubase, str(uw, u, "client-key"))
    cfg.client_cert, cfg.client_key = b64(uw, u, "client-certificate-data"), b64(uw, u, "client-key-data")
    if cert_file and cfg.client_cert then
      fail(("%s: user %s: client-certificate-data and client-certificate are both set"):format(us.origin, q(user_name)))
    end
    if key_file and cfg.client_key then
      fail(("%s: user %s: client-key-data and client-key are both set"):format(us.origin, q(user_name)))
    end
    if cert_file then cfg.client_cert = read_field_file(uw, "client-certificate", cert_file) end
    if key_file then cfg.client_key = read_field_file(uw, "client-key", key_file) end
    if cfg.client_cert and not cfg.client_key then
      fail(("%s: user %s: client-key-data or client-key must be set with a client certificate"):format(us.origin, q(user_name)))
    end
    if cfg.client_key and not cfg.client_cert then
      fail(("%s: user %s: client-certificate-data or client-certificate must be set with a client key"):format(us.origin, q(user_name)))
    end
    local ex = get(uw, u, "exec", "table")
    if ex then cfg.exec = exec_config(uw, ex, ubase) end
  end
  return cfg
end

--- Loads a list of kubeconfig files (missing ones skipped unless `required`), merges them and
--- resolves a context.
---@param paths string[]
---@param context? string
---@param required? boolean every path must exist (an explicitly given single path)
---@return table cfg
function M.load(paths, context, required)
  local files, missing = {}, {}
  for _, p in ipairs(paths) do
    local f, why = M.parse_file(p)
    if f then
      files[#files + 1] = f
    elseif required or fs.exists(p) then
      fail(why:gsub("^fs%.read: ", ""))
    else
      missing[#missing + 1] = p
    end
  end
  if #files == 0 then
    fail(("no kubeconfig found (%s does not exist)"):format(list_paths(missing)))
  end
  return M.resolve(M.merge(files), context)
end

return M
