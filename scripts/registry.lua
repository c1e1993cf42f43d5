-- A static package registry made from stdlib/ (issue 19): every package packed by
-- `assay package` (reproducible archives) into OUT/, and OUT/index.json listing them:
--
--   {"format": 1, "packages": {"<name>": [{name, version, description, requires, depends,
--                                          sha256, size, file}, ...]}}
--
-- `file` is relative to the index; versions of a package newest first. Serve OUT/ over HTTP, or
-- point a registry at file://OUT. Adding to an existing OUT keeps the versions already listed
-- (a registry only grows); packing a version again must give the same sha256, or it is an error
-- (a published version never changes).
--
-- Usage (from the repository's root): assay scripts/registry.lua OUT [STDLIB]
local out, stdlib = arg[1], arg[2] or "stdlib"
assert(out and out ~= "", "usage: assay scripts/registry.lua OUT [STDLIB]")
fs.mkdir(out, {parents = true})

-- this very binary packs them
local exe = "/proc/self/exe"

local index = {format = 1, packages = {}}
local index_path = out .. "/index.json"
if fs.exists(index_path) then
  index = json.parse(fs.read(index_path))
  assert(index.format == 1, index_path .. ": not a format 1 index")
end

local names = {}
for _, entry in ipairs(fs.list(stdlib)) do
  if fs.stat(stdlib .. "/" .. entry).is_dir and fs.exists(stdlib .. "/" .. entry .. "/manifest.yaml") then
    names[#names + 1] = entry
  end
end
table.sort(names)
assert(#names > 0, "no package manifests under " .. stdlib)

local function newer(a, b)
  local function parts(v)
    local x, y, z, pre = v:match("^(%d+)%.(%d+)%.(%d+)(.*)$")
    return tonumber(x), tonumber(y), tonumber(z), pre
  end
  local a1, a2, a3, ap = parts(a)
  local b1, b2, b3, bp = parts(b)
  if a1 ~= b1 then return a1 > b1 end
  if a2 ~= b2 then return a2 > b2 end
  if a3 ~= b3 then return a3 > b3 end
  -- a release sorts after its pre-releases
  if (ap == "") ~= (bp == "") then return ap == "" end
  return ap > bp
end

-- packed beside, moved in once checked: a published archive is never overwritten
local staging = fs.tempdir()
for _, name in ipairs(names) do
  local r = process.run({exe, "package", stdlib .. "/" .. name, "--out", staging}, {timeout = 60})
  if r.status ~= 0 then error("packing " .. name .. " failed: " .. r.stderr, 0) end
  local entry = json.parse(r.stdout)
  local versions = index.packages[name] or {}
  local kept = {}
  for _, v in ipairs(versions) do
    if v.version == entry.version then
      if v.sha256 ~= entry.sha256 then
        error(("%s %s is already published with sha256 %s; packing it again gave %s: bump the version")
          :format(name, entry.version, v.sha256, entry.sha256), 0)
      end
    else
      kept[#kept + 1] = v
    end
  end
  kept[#kept + 1] = entry
  fs.copy(staging .. "/" .. entry.file, out .. "/" .. entry.file)
  fs.remove(staging .. "/" .. entry.file)
  table.sort(kept, function(a, b) return newer(a.version, b.version) end)
  index.packages[name] = kept
  print(("%-14s %-8s %s"):format(name, entry.version, entry.sha256))
end

fs.remove(staging, {recursive = true})
fs.write(index_path, json.encode(index, {pretty = true, sort_keys = true}) .. "\n")
print("wrote " .. index_path)
