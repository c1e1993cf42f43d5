--- assay.apiclient.crd: what the packages built on assay.k8s share (certmanager, crossplane,
--- eso, velero): their client constructor's rule, k8s errors re-prefixed with the package's
--- method, condition reading and the bounded wait on an object. Not a public API.
---
--- local crd = require("assay.apiclient.crd")
--- local c = crd.client("velero", require("assay.k8s"), opts, {namespace = "velero"})
--- local b = crd.call("velero", "backup_get", c.k8s.get, c.k8s, "backups.velero.io", "b1")

local api = require("assay.apiclient")
api.own_source()

---@class apiclient.crd
local M = {}

-- the k8s.client options a package passes down (when no `k8s` client is given)
local K8S_OPTIONS = {"server", "token", "kubeconfig", "context", "in_cluster", "service_account_dir",
  "ca_cert", "client_cert", "client_key", "insecure", "timeout", "headers", "field_manager"}

---@class apiclient.crd.Client
---@field k8s k8s.Client the Kubernetes client underneath
---@field namespace string the namespace of calls that name none

--- A package's client table: `opts.k8s` (an assay.k8s client, reused as is) or the k8s.client
--- options (`server`, `token`, `kubeconfig`, `context`, ...; a new k8s client), never both; and
--- `namespace`, the package's default namespace (else `defaults.namespace`, else the k8s
--- client's). Unknown options raise.
---@param pkg string
---@param k8s table the assay.k8s module
---@param opts? table
---@param defaults? {namespace?: string}
---@return apiclient.crd.Client
function M.client(pkg, k8s, opts, defaults)
  local allowed = {"k8s", "namespace"}
  for _, k in ipairs(K8S_OPTIONS) do allowed[#allowed + 1] = k end
  opts = api.check_options(pkg, "client", 1, opts, allowed)
  api.check_field(pkg, "client", 1, "namespace", opts.namespace, "string")
  local kc = opts.k8s
  if kc ~= nil then
    if type(kc) ~= "table" or type(kc.get) ~= "function" or type(kc.resource) ~= "function" then
      api.raise(("%s.client: bad argument #1 'opts' (field 'k8s': an assay.k8s client expected, got %s)")
        :format(pkg, type(kc)))
    end
    for _, k in ipairs(K8S_OPTIONS) do
      if opts[k] ~= nil then
        api.raise(("%s.client: bad argument #1 'opts' (option '%s' cannot be given with 'k8s': the k8s client has its connection)")
          :format(pkg, k))
      end
    end
  else
    local kopts = {}
    for _, k in ipairs(K8S_OPTIONS) do kopts[k] = opts[k] end
    local ok, c = pcall(k8s.client, kopts)
    if not ok then M.fail(pkg, "client", c) end
    kc = c
  end
  return {k8s = kc, namespace = opts.namespace or (defaults and defaults.namespace) or kc.namespace}
end

--- Re-raises an error of the k8s client as the package's: "k8s.<fn>: rest" becomes
--- "<pkg>.<fname>: rest"; bad arguments keep the caller's position.
---@param pkg string
---@param fname string
---@param err any
function M.fail(pkg, fname, err)
  if type(err) ~= "string" then error(err, 0) end
  local text = api.strip_position(err)
  local rest = text:match("^k8s%.[%w_.]+: (.*)$")
  if rest then
    text = pkg .. "." .. fname .. ": " .. rest
  elseif text:sub(1, #pkg + 1) ~= pkg .. "." then
    text = pkg .. "." .. fname .. ": " .. text
  end
  if text:find(": bad argument #", 1, true) then api.raise(text) end
  error(text, 0)
end

--- Calls f(...) (a k8s client method) and returns what it returns; its error is re-raised as
--- the package's (see `fail`).
---@param pkg string
---@param fname string
---@param f function
---@return any ...
function M.call(pkg, fname, f, ...)
  local res = table.pack(pcall(f, ...))
  if res[1] then return table.unpack(res, 2, res.n) end
  M.fail(pkg, fname, res[2])
end

--- The condition of type ctype in obj.status.conditions, or nil.
---@param obj table
---@param ctype string
---@return table|nil
function M.condition(obj, ctype)
  for _, c in ipairs(type(obj.status) == "table" and obj.status.conditions or {}) do
    if c.type == ctype then return c end
  end
  return nil
end

--- A condition as a message shows it: "Ready=False (Pending: waiting for ...)", or
--- "no Ready condition yet".
---@param c table|nil
---@param ctype string
---@return string
function M.condition_text(c, ctype)
  if not c then return ("no %s condition yet"):format(ctype) end
  local detail = {}
  if c.reason and c.reason ~= "" then detail[#detail + 1] = c.reason end
  if c.message and c.message ~= "" then detail[#detail + 1] = c.message end
  return ("%s=%s%s"):format(ctype, tostring(c.status),
    #detail > 0 and (" (" .. table.concat(detail, ": ") .. ")") or "")
end

--- A rule (obj -> done, why) that holds when every condition of `types` is True; why names the
--- ones that are not, with their reason and message.
---@param types string[]
---@return fun(obj: table): boolean, string
function M.all_true(types)
  return function(o)
    local unmet, met = {}, {}
    for _, t in ipairs(types) do
      local c = M.condition(o, t)
      if c and c.status == "True" then met[#met + 1] = t .. "=True"
      else unmet[#unmet + 1] = M.condition_text(c, t) end
    end
    if #unmet == 0 then return true, table.concat(met, ", ") end
    return false, table.concat(unmet, "; ")
  end
end

--- "kind ns/name" (or "kind name" without a namespace), as the wait messages name an object.
---@param kind string
---@param ns string|nil
---@param name string
---@return string
function M.label(kind, ns, name)
  return ("%s %s%s"):format(kind, ns and (ns .. "/") or "", name)
end

--- Polls an object until `rule(obj)` says done, returning it. `rule` returns done, why (the
--- state, shown at the timeout) and failed (raise at once with why). A missing object is waited
--- for. Raises "<pkg>.<fname>: <what> not <state> after <timeout>s: <why>" at the timeout
--- (state: "ready" unless given).
---@param spec {pkg: string, fname: string, k8s: table, resource: string, name: string, namespace?: string, opts: table, argn?: integer, rule: function, what: string, state?: string}
---@return table
function M.wait(spec)
  local pkg, fname = spec.pkg, spec.fname
  local timeout, interval = api.wait_times(pkg, fname, spec.argn or 3, spec.opts)
  local kc = spec.k8s
  local ok, result = api.poll{timeout = timeout, interval = interval, try = function()
    local o = M.call(pkg, fname, kc.get, kc, spec.resource, spec.name, {namespace = spec.namespace})
    if o == nil then return false, "not found" end
    local done, why, failed = spec.rule(o)
    if failed then error(("%s.%s: %s: %s"):format(pkg, fname, spec.what, why), 0) end
    if done then return true, o end
    return false, why
  end}
  if ok then return result end
  error(("%s.%s: %s not %s after %ss: %s"):format(pkg, fname, spec.what, spec.state or "ready", tostring(timeout),
    tostring(result)), 0)
end

--- The items of a k8s list (the List envelope removed).
---@param list table
---@return table[]
function M.items(list) return list.items end

--- Checks a kind argument against a package's table of kinds (aliases -> entry); returns the
--- entry. Raises naming the argument and the kinds known.
---@param pkg string
---@param fname string
---@param argn integer
---@param kinds table<string, table>
---@param names string the kinds as the message lists them
---@param kind any
---@return table
function M.kind(pkg, fname, argn, kinds, names, kind)
  api.check_name(pkg, fname, argn, "kind", kind)
  local e = kinds[kind:lower()]
  if not e then
    api.raise(("%s.%s: bad argument #%d 'kind' (%s expected, got %q)"):format(pkg, fname, argn, names, kind))
  end
  return e
end

--- Checks the fields of an options table by kind: "string", "boolean", "table", "number",
--- "strings" (a list of non-empty strings), "duration" (a Go duration "720h0m0s" or seconds,
--- returned as the duration text). Returns a copy with durations converted.
---@param pkg string
---@param fname string
---@param argn integer
---@param opts table
---@param kinds table<string, string>
---@return table
function M.check_fields(pkg, fname, argn, opts, kinds)
  local out = {}
  for k, v in pairs(opts) do out[k] = v end
  for field, want in pairs(kinds) do
    local v = opts[field]
    if v ~= nil then
      local function bad(what)
        api.raise(("%s.%s: bad argument #%d 'opts' (field '%s': %s expected, got %s)"):format(
          pkg, fname, argn, field, what, type(v) == "string" and ("'" .. v .. "'") or type(v)))
      end
      if want == "strings" then
        if type(v) ~= "table" then bad("a list of strings") end
        for i, x in pairs(v) do
          if math.type(i) ~= "integer" or type(x) ~= "string" or x == "" then bad("a list of strings") end
        end
      elseif want == "duration" then
        if type(v) == "number" then
          if v < 0 or v ~= v or v == math.huge then bad("a duration (\"1h30m\" or seconds)") end
          local s = math.floor(v)
          out[field] = ("%dh%dm%ds"):format(s // 3600, s % 3600 // 60, s % 60)
        elseif type(v) ~= "string" or not v:match("^[%d%.]+%a") or v:find("[^%w%.µ]") then
          bad("a duration (\"1h30m\" or seconds)")
        end
      elseif type(v) ~= want then
        bad(want)
      end
    end
  end
  return out
end


--- A list method for a package's client: `c:<fname>(opts)` -> the items of `resource`, in the
--- client's namespace, `opts.namespace`, or all (`all_namespaces`) when `namespaced`;
--- `label_selector` either way.
---@param pkg string
---@param fname string
---@param resource string a resource name as assay.k8s takes it
---@param namespaced boolean
---@return fun(self: apiclient.crd.Client, opts?: table): table[]
function M.lister(pkg, fname, resource, namespaced)
  local allowed = namespaced and {"namespace", "all_namespaces", "label_selector"} or {"label_selector"}
  return function(self, opts)
    opts = api.check_options(pkg, fname, 1, opts, allowed)
    local kc = self.k8s
    local lopts = {label_selector = opts.label_selector}
    if namespaced then
      lopts.namespace, lopts.all_namespaces = opts.namespace or self.namespace, opts.all_namespaces
    end
    return M.items(M.call(pkg, fname, kc.list, kc, resource, lopts))
  end
end

--- A get method for a package's client: `c:<fname>(name, opts)` -> the object, or nil and the
--- API's Status; `opts.namespace` (else the client's) when `namespaced`.
---@param pkg string
---@param fname string
---@param resource string
---@param namespaced boolean
---@return fun(self: apiclient.crd.Client, name: string, opts?: table): table|nil, table|nil
function M.getter(pkg, fname, resource, namespaced)
  return function(self, name, opts)
    api.check_name(pkg, fname, 1, "name", name)
    opts = api.check_options(pkg, fname, 2, opts, namespaced and {"namespace"} or {})
    local kc = self.k8s
    return M.call(pkg, fname, kc.get, kc, resource, name,
      {namespace = namespaced and (opts.namespace or self.namespace) or nil})
  end
end

return M
