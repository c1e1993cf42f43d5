--- assay.k8s.config: where a Kubernetes client connects and how it authenticates.
--- `config.load(opts)` reads the in-cluster service account or kubeconfig files (merged as kubectl
--- does) into a plain table; `config.token_source(cfg)` gives the bearer token before each request
--- (token file re-read, exec credential plugins run and cached). See k8s/README.md, "Configuration".
local api = require("assay.apiclient")
api.own_source()
local kubeconfig = require("assay.k8s.kubeconfig")

local M = {}

--- The service-account folder of a pod.
M.SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"

---@class k8s.ExecConfig
---@field command string the plugin (a path with "/" is resolved against the kubeconfig's folder)
---@field args string[]
---@field env {name: string, value: string}[] added to the plugin's environment
---@field api_version string "client.authentication.k8s.io/v1" or ".../v1beta1"
---@field install_hint? string shown when the plugin fails
---@field interactive_mode string "Never", "IfAvailable" or "Always"
---@field provide_cluster_info boolean

---@class k8s.Config
---@field server string "https://host:port" (no trailing slash)
---@field ca_cert? string PEM text
---@field insecure boolean insecure-skip-tls-verify
---@field tls_server_name? string
---@field client_cert? string PEM text
---@field client_key? string PEM text
---@field namespace string the context's (or the namespace file's), else "default"
---@field token? string a static bearer token
---@field token_file? string a file holding the token, re-read by the token source
---@field username? string basic auth
---@field password? string basic auth
---@field exec? k8s.ExecConfig a credential plugin
---@field proxy_url? string
---@field context? string the kubeconfig context (nil in-cluster)
---@field source string "in-cluster" or "kubeconfig"

---@class k8s.ConfigLoadOptions
---@field kubeconfig? string|string[] a path (must exist) or a list of paths (missing ones skipped); default KUBECONFIG split on ":", else ~/.kube/config
---@field context? string default the current-context
---@field in_cluster? boolean true: in-cluster only; false: kubeconfig only; nil: see README
---@field service_account_dir? string default /var/run/secrets/kubernetes.io/serviceaccount

local function fail(msg) error("k8s.config.load: " .. msg, 0) end

local function read_trimmed(path)
  local ok, text = pcall(fs.read, path)
  if not ok then return nil, (api.strip_position(text):gsub("^fs%.read: ", "")) end
  return (text:gsub("^%s+", ""):gsub("%s+$", ""))
end

local function is_file(path)
  local ok, st = pcall(fs.stat, path)
  return ok and type(st) == "table" and st.is_file == true
end

local function nonempty_env(name)
  local v = env.get(name)
  if v == nil or v == "" then return nil end
  return v
end

--- Whether in-cluster configuration is possible, as client-go's inClusterClientConfig.Possible:
--- KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT set and the token a file.
---@param dir? string the service-account folder
---@return boolean
function M.in_cluster_possible(dir)
  dir = dir or M.SERVICE_ACCOUNT_DIR
  return nonempty_env("KUBERNETES_SERVICE_HOST") ~= nil and nonempty_env("KUBERNETES_SERVICE_PORT") ~= nil
    and is_file(dir .. "/token")
end

local function load_in_cluster(dir)
  local host, port = nonempty_env("KUBERNETES_SERVICE_HOST"), nonempty_env("KUBERNETES_SERVICE_PORT")
  if not host or not port then
    fail("not in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set for in-cluster configuration")
  end
  local token_file = dir .. "/token"
  local tok, why = read_trimmed(token_file)
  if not tok then fail("in-cluster token: " .. why) end
  if host:find(":", 1, true) and not host:match("^%[") then host = "[" .. host .. "]" end
  -- client-go logs and goes on without a CA when ca.crt cannot be read; so does this
  local ok, ca = pcall(fs.read, dir .. "/ca.crt")
  local ns = read_trimmed(dir .. "/namespace")
  return {
    server = "https://" .. host .. ":" .. port, ca_cert = ok and ca or nil, insecure = false,
    token_file = token_file, namespace = (ns and ns ~= "") and ns or "default", source = "in-cluster",
  }
end

-- The kubeconfig paths: an explicit option, else KUBECONFIG (as filepath.SplitList, empty entries
-- and repeats dropped), else ~/.kube/config. Second value: every path must exist.
local function kubeconfig_paths(opt)
  if type(opt) == "string" then return {opt}, true end
  if type(opt) == "table" then return opt, false end
  local list = nonempty_env("KUBECONFIG")
  if list then
    local paths, seen = {}, {}
    for p in list:gmatch("[^:]+") do
      if not seen[p] then seen[p] = true; paths[#paths + 1] = p end
    end
    return paths, false
  end
  local home = nonempty_env("HOME")
  if not home then fail("no kubeconfig: KUBECONFIG and HOME are unset and not in a cluster") end
  return {home .. "/.kube/config"}, false
end

--- Loads the configuration: in-cluster or from kubeconfig files. Raises with the file and field at
--- fault. See k8s/README.md, "Configuration", for the rules.
---@param opts? k8s.ConfigLoadOptions
---@return k8s.Config
function M.load(opts)
  opts = api.check_options("k8s.config", "load", 1, opts,
    {"kubeconfig", "context", "in_cluster", "service_account_dir"})
  local kc = opts.kubeconfig
  if kc ~= nil and type(kc) ~= "string" and type(kc) ~= "table" then
    api.raise(("k8s.config.load: bad argument #1 'opts' (field 'kubeconfig': string or list of strings expected, got %s)"):format(type(kc)))
  end
  if type(kc) == "table" then
    for i, p in ipairs(kc) do
      if type(p) ~= "string" then
        api.raise(("k8s.config.load: bad argument #1 'opts' (field 'kubeconfig[%d]': string expected, got %s)"):format(i, type(p)))
      end
    end
  end
  if kc == "" then api.raise("k8s.config.load: bad argument #1 'opts' (field 'kubeconfig': empty path)") end
  api.check_field("k8s.config", "load", 1, "context", opts.context, "string")
  api.check_field("k8s.config", "load", 1, "in_cluster", opts.in_cluster, "boolean")
  api.check_field("k8s.config", "load", 1, "service_account_dir", opts.service_account_dir, "string")
  local dir = opts.service_account_dir or M.SERVICE_ACCOUNT_DIR
  local explicit = kc ~= nil or opts.context ~= nil
  if opts.in_cluster == true then
    if explicit then
      api.raise("k8s.config.load: bad argument #1 'opts' (in_cluster = true takes no kubeconfig or context)")
    end
    return load_in_cluster(dir)
  end
  if opts.in_cluster == nil and not explicit and M.in_cluster_possible(dir) then
    return load_in_cluster(dir)
  end
  local paths, required = kubeconfig_paths(kc)
  if #paths == 0 then fail("no kubeconfig paths given") end
  local ok, cfg = pcall(kubeconfig.load, paths, opts.context, required)
  if ok then return cfg end
  -- nothing at all to go on (kubectl would try localhost:8080): say where it looked
  if opts.in_cluster == nil and not explicit and tostring(cfg):find("no kubeconfig found", 1, true) then
    error(tostring(cfg) .. "; and not in a cluster (KUBERNETES_SERVICE_HOST is not set or " .. dir ..
      "/token is missing): set KUBECONFIG, or give kubeconfig or server", 0)
  end
  error(cfg, 0)
end

-- Credentials ------------------------------------------------------------------------------------

---@class k8s.ExecCredential
---@field token? string status.token
---@field client_cert? string status.clientCertificateData (PEM text)
---@field client_key? string status.clientKeyData (PEM text)
---@field expires_at? number status.expirationTimestamp as epoch seconds (nil: never expires)

local function last_line(s)
  local last
  for line in (s or ""):gmatch("[^\r\n]+") do
    if line:match("%S") then last = line end
  end
  return last
end

-- The ExecCredential input (KUBERNETES_EXEC_INFO) for cfg's plugin.
local function exec_info(cfg)
  local spec = {interactive = false}
  if cfg.exec.provide_cluster_info then
    spec.cluster = {
      server = cfg.server, ["tls-server-name"] = cfg.tls_server_name,
      ["insecure-skip-tls-verify"] = cfg.insecure or nil,
      ["certificate-authority-data"] = cfg.ca_cert and base64.encode(cfg.ca_cert) or nil,
      ["proxy-url"] = cfg.proxy_url, config = cfg._exec_cluster_config or json.null, -- null as kubectl sends it
    }
  end
  return json.encode({apiVersion = cfg.exec.api_version, kind = "ExecCredential", spec = spec})
end

-- Runs the plugin once; returns a k8s.ExecCredential or raises (prefix: the caller's name).
local function run_plugin(cfg, fname, timeout)
  local ex = cfg.exec
  local prefix = "k8s.config." .. fname .. ": exec plugin " .. ex.command
  local hint = ex.install_hint and ("\n\n" .. ex.install_hint) or ""
  if ex.interactive_mode == "Always" then
    error(prefix .. ": interactiveMode Always needs a terminal, and assay runs plugins without one" .. hint, 0)
  end
  local vars = {}
  for _, v in ipairs(ex.env) do vars[v.name] = v.value end
  vars.KUBERNETES_EXEC_INFO = exec_info(cfg)
  local argv = {ex.command}
  for _, a in ipairs(ex.args) do argv[#argv + 1] = a end
  local ok, r = pcall(process.run, argv, {env = vars, timeout = timeout})
  if not ok then
    local why = api.strip_position(r):gsub("^process%.run: ", "")
    error(prefix .. ": " .. why .. hint, 0)
  end
  if r.timed_out then error(("%s: timed out after %gs%s"):format(prefix, timeout, hint), 0) end
  if r.status ~= 0 then
    local line = last_line(r.stderr)
    error(("%s: failed with exit code %s%s%s"):format(prefix, tostring(r.status or r.signal),
      line and (": " .. line) or "", hint), 0)
  end
  local pok, cred = pcall(json.parse, r.stdout)
  if not pok or type(cred) ~= "table" then
    error(prefix .. ": decoding stdout: not an ExecCredential JSON object", 0)
  end
  if cred.apiVersion ~= ex.api_version or cred.kind ~= "ExecCredential" then
    error(("%s: is configured to use API version %s, plugin returned %s %s"):format(prefix, ex.api_version,
      tostring(cred.apiVersion), tostring(cred.kind)), 0)
  end
  local st = cred.status
  if type(st) ~= "table" then error(prefix .. ": didn't return a status field", 0) end
  local function s(k) return (type(st[k]) == "string" and st[k] ~= "") and st[k] or nil end
  local out = {token = s("token"), client_cert = s("clientCertificateData"), client_key = s("clientKeyData")}
  if not out.token and not out.client_cert and not out.client_key then
    error(prefix .. ": didn't return a token or cert/key pair", 0)
  end
  if (out.client_cert == nil) ~= (out.client_key == nil) then
    error(prefix .. ": returned only certificate or key, not both", 0)
  end
  local exp = s("expirationTimestamp")
  if exp then
    local eok, t = pcall(time.parse, exp)
    if not eok then error(prefix .. ": status.expirationTimestamp is not RFC 3339: " .. exp, 0) end
    out.expires_at = t
  end
  return out
end

---@class k8s.TokenSource
---@field period number seconds a token_file's content is kept before it is re-read (default 60, client-go's)
---@field margin number an exec credential is renewed this many seconds before its expiry (default 10)
---@field timeout number seconds an exec plugin may run (default 60)
---@field now fun(): number the clock, epoch seconds (default `time`); tests may replace it
---@field invalidate fun() forget the cached token/credential (call on a 401): the next call re-reads or re-runs
---@field credential fun(): k8s.ExecCredential|nil the exec plugin's credential (nil without exec)
---@overload fun(): string|nil

-- One source per cfg table, so token_source(cfg) and exec_credential(cfg) share the cache.
local SOURCES = setmetatable({}, {__mode = "k"})

--- The bearer token before each request: `source()` returns it or nil (no token: client
--- certificate, basic auth or anonymous). Precedence as client-go's: token_file (re-read every
--- `period` s; the last good value kept when a re-read fails) over token, and an exec plugin only
--- when neither, nor basic auth, nor a client certificate is configured.
---@param cfg k8s.Config
---@return k8s.TokenSource
function M.token_source(cfg)
  if type(cfg) ~= "table" then
    api.raise(("k8s.config.token_source: bad argument #1 'cfg' (table expected, got %s)"):format(type(cfg)))
  end
  if SOURCES[cfg] then return SOURCES[cfg] end
  local src = {period = 60, margin = 10, timeout = 60, now = time}
  local file_token, file_read_at -- token_file's last good content and when it was read
  local cred -- the exec plugin's cached credential

  local function exec_cred(fname)
    if not cfg.exec then return nil end
    if cred and (cred.expires_at == nil or src.now() < cred.expires_at - src.margin) then return cred end
    cred = run_plugin(cfg, fname, src.timeout)
    return cred
  end

  function src.invalidate() file_read_at = nil; cred = nil end
  function src.credential() return exec_cred("exec_credential") end

  local function token()
    if cfg.token_file then
      if file_read_at == nil or src.now() - file_read_at >= src.period then
        local t, why = read_trimmed(cfg.token_file)
        if t and t ~= "" then
          file_token, file_read_at = t, src.now()
        elseif not file_token and not cfg.token then
          error(("k8s.config.token_source: token file %s: %s"):format(cfg.token_file, why or "empty"), 0)
        end
      end
      if file_token then return file_token end
    end
    if cfg.token then return cfg.token end
    if cfg.exec and not cfg.username and not cfg.client_cert then return exec_cred("token_source").token end
    return nil
  end

  setmetatable(src, {__call = function() return token() end})
  SOURCES[cfg] = src
  return src
end

--- The exec plugin's credential (run once and cached with the token source of the same cfg):
--- `{token, client_cert, client_key, expires_at}`, or nil when cfg has no exec plugin. A plugin
--- that returns a client certificate gives it here: build the http client with it, and again once
--- `expires_at` has passed.
---@param cfg k8s.Config
---@return k8s.ExecCredential|nil
function M.exec_credential(cfg)
  if type(cfg) ~= "table" then
    api.raise(("k8s.config.exec_credential: bad argument #1 'cfg' (table expected, got %s)"):format(type(cfg)))
  end
  return M.token_source(cfg).credential()
end

return M
