-- Every stdlib package's manifest lists exactly the builtins its code calls (STDLIB.md): a
-- missing one lets `require` succeed where the package cannot work (a plugin not installed, the
-- sandbox), an extra one refuses it where it would. A call wrapped as
-- `pcall(function() return fs.read(p) end)` is optional (the package works without it: vault
-- reads ~/.vault-token that way) and need not be listed. Test files are not the package's code.
local ASSAY = {"async", "base64", "compress", "crypto", "db", "env", "fs", "hex", "http", "json", "log",
  "process", "regex", "template", "time", "toml", "url", "uuid", "ws", "yaml"}
local GLOBAL = {}
for _, g in ipairs(ASSAY) do GLOBAL[g] = true end
-- callable globals: `time()` and `sleep(...)`
local CALLS = {"time", "sleep"}

local function strip_comments(src)
  src = src:gsub("%-%-%[(=*)%[.-%]%1%]", "")
  return (src:gsub("%-%-[^\n]*", ""))
end

-- The builtins a package's files call ({name = file}), and those only ever called optionally.
local function calls(dir)
  local used, count, wrapped = {}, {}, {}
  local function scan(folder)
    for _, f in ipairs(fs.list(folder)) do
      local p = folder .. "/" .. f
      if f ~= "tests" and fs.stat(p).is_dir then
        scan(p)
      elseif f:match("%.lua$") then
        local src = strip_comments(fs.read(p))
        for name in src:gmatch("pcall%(function%(%)%s*return%s+([%a_][%w_]*%.[%a_][%w_]*)%s*%(") do
          wrapped[name] = (wrapped[name] or 0) + 1
        end
        for g, fn in src:gmatch("%f[%w_.:]([%a_][%w_]*)%.([%a_][%w_]*)") do
          if GLOBAL[g] then
            local name = g .. "." .. fn
            used[name] = used[name] or p
            count[name] = (count[name] or 0) + 1
          end
        end
        for _, c in ipairs(CALLS) do
          if src:find("%f[%w_.:]" .. c .. "%s*%(") then used[c] = used[c] or p end
        end
      end
    end
  end
  scan(dir)
  local optional = {}
  for name, n in pairs(wrapped) do
    if n == count[name] then
      optional[name] = true
      used[name] = nil
    end
  end
  return used, optional
end

local root = "stdlib"
local packages = {}
for _, name in ipairs(fs.list(root)) do
  if fs.exists(root .. "/" .. name .. "/manifest.yaml") then packages[#packages + 1] = name end
end
table.sort(packages)

test("the stdlib's packages are found", function()
  assert.ge(#packages, 8)
end)

for _, name in ipairs(packages) do
  test(name .. ": requires_builtins lists exactly what the code calls", function()
    local m = yaml.parse(fs.read(root .. "/" .. name .. "/manifest.yaml"))
    local listed = {}
    for _, b in ipairs(m.requires_builtins or {}) do listed[b] = true end
    local used, optional = calls(root .. "/" .. name)
    local missing, extra = {}, {}
    for u, file in pairs(used) do
      if not listed[u] then missing[#missing + 1] = u .. " (" .. file .. ")" end
    end
    for l in pairs(listed) do
      if not used[l] and not optional[l] then extra[#extra + 1] = l end
    end
    table.sort(missing); table.sort(extra)
    assert.eq({missing = missing, unused = extra}, {missing = {}, unused = {}})
  end)
end
