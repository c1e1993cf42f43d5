--- assay.k8s.fake_rules: the API machinery rules assay.k8s.fake follows (not a public API):
--- Status objects and failures, label and field selectors, merge and JSON patches, where
--- objects are kept and how a version sees them.

local R = {}

local function now_iso() return os.date("!%Y-%m-%dT%H:%M:%SZ") end

local function deepcopy(v)
  if type(v) ~= "table" then return v end
  local out = {}
  for k, x in pairs(v) do out[k] = deepcopy(x) end
  return setmetatable(out, getmetatable(v))
end

local function is_array(t)
  if type(t) ~= "table" then return false end
  local mt = getmetatable(t)
  if mt and mt.__name == "json.array" then return true end
  if next(t) == nil then return false end
  local n = 0
  for k in pairs(t) do
    if type(k) ~= "number" then return false end
    n = n + 1
  end
  return n == #t
end

local function is_object(t) return type(t) == "table" and not is_array(t) end

local function gv(group, version) return group == "" and version or group .. "/" .. version end

-- Status objects --------------------------------------------------------------------------------

local REASONS = {[400] = "BadRequest", [401] = "Unauthorized", [404] = "NotFound", [405] = "MethodNotAllowed",
  [409] = "Conflict", [410] = "Expired", [415] = "UnsupportedMediaType", [422] = "Invalid",
  [500] = "InternalError"}

local function status_obj(code, message, reason, details)
  return {kind = "Status", apiVersion = "v1", metadata = json.object({}), status = "Failure",
    message = message, reason = reason or REASONS[code], details = details, code = code}
end

local function fail(code, message, reason, details)
  error({k8s = status_obj(code, message, reason, details)}, 0)
end

local function resp(code, body)
  return {status = code, headers = {["content-type"] = "application/json"}, body = json.encode(body)}
end

-- label and field selectors ---------------------------------------------------------------------

local function split_top(s)
  local out, depth, cur = {}, 0, {}
  for ch in s:gmatch(".") do
    if ch == "(" then depth = depth + 1 elseif ch == ")" then depth = depth - 1 end
    if ch == "," and depth == 0 then out[#out + 1] = table.concat(cur); cur = {}
    else cur[#cur + 1] = ch end
  end
  out[#out + 1] = table.concat(cur)
  return out
end

local function trim(s) return (s:gsub("^%s+", ""):gsub("%s+$", "")) end

--- Parses a label selector into a predicate over a labels table; raises a 400 on bad syntax.
---@param sel string
---@return fun(labels: table): boolean
function R.label_selector(sel)
  local preds = {}
  if sel and trim(sel) ~= "" then
    for _, term in ipairs(split_top(sel)) do
      term = trim(term)
      local k, op, vals = term:match("^([%w%._/%-]+)%s+(notin)%s*%((.*)%)$")
      if not k then k, op, vals = term:match("^([%w%._/%-]+)%s+(in)%s*%((.*)%)$") end
      if k then
        local set = {}
        for v in vals:gmatch("[^,]+") do set[trim(v)] = true end
        if op == "in" then preds[#preds + 1] = function(l) return l[k] ~= nil and set[l[k]] == true end
        else preds[#preds + 1] = function(l) return l[k] == nil or not set[l[k]] end end
      else
        local a, b = term:match("^([%w%._/%-]+)%s*!=%s*([%w%._%-]*)$")
        if a then preds[#preds + 1] = function(l) return l[a] ~= b end
        else
          a, b = term:match("^([%w%._/%-]+)%s*==?%s*([%w%._%-]*)$")
          if a then preds[#preds + 1] = function(l) return l[a] == b end
          else
            a = term:match("^!%s*([%w%._/%-]+)$")
            if a then preds[#preds + 1] = function(l) return l[a] == nil end
            else
              a = term:match("^([%w%._/%-]+)$")
              if not a then
                fail(400, "unable to parse requirement: found '" .. term .. "', expected: a label selector term")
              end
              preds[#preds + 1] = function(l) return l[a] ~= nil end
            end
          end
        end
      end
    end
  end
  return function(labels)
    labels = labels or {}
    for _, p in ipairs(preds) do if not p(labels) then return false end end
    return true
  end
end

-- the field labels the API server takes: every kind's metadata.name and metadata.namespace,
-- and the few more some kinds define (what kubectl and controllers select on)
local FIELDS = {"metadata.name", "metadata.namespace"}
local KIND_FIELDS = {
  Pod = {"spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
    "status.phase", "status.podIP", "status.nominatedNodeName"},
  Event = {"involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
    "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason",
    "reportingComponent", "source", "type"},
  Secret = {"type"},
  Namespace = {"status.phase"},
  Node = {"spec.unschedulable"},
  Job = {"status.successful"},
}

local function field_value(o, k)
  local v = o
  for part in k:gmatch("[^.]+") do
    if type(v) ~= "table" then return "" end
    v = v[part]
  end
  if v == nil then return "" end
  return tostring(v)
end

local function field_selector(sel, kind)
  local allowed = {}
  for _, f in ipairs(FIELDS) do allowed[f] = true end
  for _, f in ipairs(KIND_FIELDS[kind] or {}) do allowed[f] = true end
  local preds = {}
  if sel and trim(sel) ~= "" then
    for _, term in ipairs(split_top(sel)) do
      term = trim(term)
      local k, neg, v = term:match("^([%w%.]+)%s*(!?)==?%s*(.*)$")
      if not k or not allowed[k] then
        fail(400, 'field label not supported: ' .. (k or term))
      end
      local function get(o) return k == "metadata.namespace" and (o.metadata.namespace or "") or field_value(o, k) end
      if neg == "!" then preds[#preds + 1] = function(o) return get(o) ~= v end
      else preds[#preds + 1] = function(o) return get(o) == v end end
    end
  end
  return function(o)
    for _, p in ipairs(preds) do if not p(o) then return false end end
    return true
  end
end

-- patches ---------------------------------------------------------------------------------------

local function merge_patch(target, patch)
  if not is_object(patch) then return deepcopy(patch) end
  if not is_object(target) then target = {} end
  for k, v in pairs(patch) do
    if v == json.null then target[k] = nil
    else target[k] = merge_patch(target[k], v) end
  end
  return target
end

-- strategic merge: merge semantics, lists replaced; `$`-directives (kubectl's
-- $setElementOrder, $retainKeys, $patch...) are dropped.
local function strip_directives(v)
  if type(v) ~= "table" then return v end
  local out = {}
  for k, x in pairs(v) do
    if not (type(k) == "string" and k:sub(1, 1) == "$") then out[k] = strip_directives(x) end
  end
  return setmetatable(out, getmetatable(v))
end

local function unescape_ptr(s) return (s:gsub("~1", "/"):gsub("~0", "~")) end

local function ptr_parts(path)
  if path == "" then return {} end
  if path:sub(1, 1) ~= "/" then fail(422, "invalid JSON pointer: " .. path) end
  local parts = {}
  for p in (path:sub(2) .. "/"):gmatch("([^/]*)/") do parts[#parts + 1] = unescape_ptr(p) end
  return parts
end

local function ptr_key(container, p, adding)
  if is_array(container) or (type(container) == "table" and next(container) == nil and
      (p == "-" or p:match("^%d+$"))) then
    if p == "-" then return #container + 1 end
    local i = tonumber(p)
    if not i or p:match("^0%d") then fail(422, "invalid array index: " .. p) end
    if i > #container + (adding and 0 or -1) then fail(422, "array index out of range: " .. p) end
    return i + 1, true
  end
  return p, false
end

local function ptr_parent(doc, path)
  local parts = ptr_parts(path)
  if #parts == 0 then fail(422, "cannot operate on the whole document") end
  local cur = doc
  for i = 1, #parts - 1 do
    local k = ptr_key(cur, parts[i])
    if type(cur) ~= "table" or cur[k] == nil then fail(422, "path not found: " .. path) end
    cur = cur[k]
  end
  if type(cur) ~= "table" then fail(422, "path not found: " .. path) end
  return cur, parts[#parts]
end

local function ptr_get(doc, path)
  local parent, last = ptr_parent(doc, path)
  local k = ptr_key(parent, last)
  if parent[k] == nil then fail(422, "path not found: " .. path) end
  return parent[k]
end

local function ptr_remove(doc, path)
  local parent, last = ptr_parent(doc, path)
  local k, arr = ptr_key(parent, last)
  if parent[k] == nil then fail(422, "unable to remove nonexistent key: " .. path) end
  local v = parent[k]
  if arr then table.remove(parent, k) else parent[k] = nil end
  return v
end

local function ptr_add(doc, path, value)
  local parent, last = ptr_parent(doc, path)
  local k, arr = ptr_key(parent, last, true)
  if arr or (is_array(parent) and last == "-") then table.insert(parent, k, value)
  else parent[k] = value end
end

local function json_patch(doc, ops)
  if not is_array(ops) then fail(400, "json patch must be a list of operations") end
  for _, op in ipairs(ops) do
    local o, path = op.op, op.path
    if type(path) ~= "string" then fail(422, "json patch operation without a path") end
    if o == "add" then ptr_add(doc, path, deepcopy(op.value))
    elseif o == "remove" then ptr_remove(doc, path)
    elseif o == "replace" then ptr_remove(doc, path); ptr_add(doc, path, deepcopy(op.value))
    elseif o == "move" then local v = ptr_remove(doc, op.from); ptr_add(doc, path, v)
    elseif o == "copy" then ptr_add(doc, path, deepcopy(ptr_get(doc, op.from)))
    elseif o == "test" then
      if json.encode(ptr_get(doc, path)) ~= json.encode(op.value) then
        fail(422, "testing value " .. path .. " failed")
      end
    else fail(422, "unexpected json patch operation: " .. tostring(o)) end
  end
  return doc
end


-- where a resource's objects are kept: one store per group and plural, whatever the version
local function storage_key(r) return r.group .. "/" .. r.name end

local function okey(ns, name) return (ns or "") .. "/" .. name end

-- An object as a request through r's version sees it: the versions of a CRD share one store
-- and differ only in apiVersion (conversion strategy None, the CRD default).
local function view(r, o)
  local want = gv(r.group, r.version)
  if o.apiVersion == want then return o end
  local copy = {}
  for k, v in pairs(o) do copy[k] = v end
  copy.apiVersion = want
  return copy
end

local function random_suffix()
  local chars, out = "bcdfghjklmnpqrstvwxz2456789", {}
  for i = 1, 5 do
    local n = math.random(#chars)
    out[i] = chars:sub(n, n)
  end
  return table.concat(out)
end

local function sorted_items(bucket, ns)
  local keys = {}
  for k, o in pairs(bucket) do
    if ns == nil or o.metadata.namespace == ns then keys[#keys + 1] = k end
  end
  table.sort(keys)
  return keys
end

local function decode_segs(path)
  local segs = {}
  for s in path:gmatch("[^/]+") do segs[#segs + 1] = url.decode(s) end
  return segs
end

local function label_text(labels)
  local parts = {}
  for k, v in pairs(labels or {}) do parts[#parts + 1] = k .. "=" .. v end
  table.sort(parts)
  return table.concat(parts, ",")
end

R.now_iso = now_iso
R.deepcopy = deepcopy
R.is_array = is_array
R.is_object = is_object
R.gv = gv
R.status_obj = status_obj
R.fail = fail
R.resp = resp
R.trim = trim
R.field_selector = field_selector
R.merge_patch = merge_patch
R.strip_directives = strip_directives
R.json_patch = json_patch
R.storage_key = storage_key
R.okey = okey
R.view = view
R.random_suffix = random_suffix
R.sorted_items = sorted_items
R.decode_segs = decode_segs
R.label_text = label_text

return R
