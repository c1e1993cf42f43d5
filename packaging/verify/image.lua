-- Run by packaging/build inside an unpacked image (chroot, as the image's own user, with its
-- environment and entrypoint): checks that the image holds exactly the plugins and packages
-- it should, and that they work there.
--
--   assay /verify/image.lua '<expectations as JSON>'
--
-- Expectations: {image, plugins = [names], packages = [names], url, body}: `url` is a local
-- peer's page whose body is `body`. Prints one line per check; the first failure raises (exit 1).
local want = json.parse(assert(arg[1], "usage: assay image.lua '<expectations as JSON>'"))

local function check(what, ok, detail)
  if not ok then error(("%s: %s%s"):format(want.image, what, detail and (" (" .. detail .. ")") or ""), 0) end
  print("ok   " .. what)
end

local function set_of(list)
  local copy = {}
  for i, v in ipairs(list) do copy[i] = v end
  table.sort(copy)
  return table.concat(copy, ",")
end

-- The image's own assay, found on the image's PATH, listing what its lib path holds.
local function listing(what)
  local r = process.run({"assay", what, "--json"}, {timeout = 30})
  check("assay " .. what .. " --json runs", r.ok, r.stderr)
  local names, bad = {}, {}
  for _, entry in ipairs(json.parse(r.stdout)[what]) do
    names[#names + 1] = entry.name
    if entry.status ~= "compatible" and entry.status ~= "usable" then
      bad[#bad + 1] = ("%s is %s: %s"):format(entry.name, entry.status, tostring(entry.reason))
    end
  end
  return names, bad
end

local plugins, refused = listing("plugins")
check(("plugins are exactly {%s}"):format(set_of(want.plugins)), set_of(plugins) == set_of(want.plugins),
  "found {" .. set_of(plugins) .. "}")
check("every plugin loads", #refused == 0, table.concat(refused, "; "))

local packages, unusable = listing("packages")
check(("packages are exactly {%s}"):format(set_of(want.packages)), set_of(packages) == set_of(want.packages),
  "found {" .. set_of(packages) .. "}")
check("every package is usable", #unusable == 0, table.concat(unusable, "; "))

for _, name in ipairs(want.packages) do
  local ok, module = pcall(require, "assay." .. name)
  check(("require('assay.%s')"):format(name), ok and module ~= nil, not ok and tostring(module) or nil)
end

local has_http = false
for _, name in ipairs(want.plugins) do has_http = has_http or name == "http" end
if has_http then
  local resp = http.get(want.url, {timeout = 10})
  check("http.get of a local peer", resp.status == 200 and resp.body == want.body,
    ("status %d, body %q"):format(resp.status, resp.body))
else
  local r = process.run({"assay", "-e", ("http.get(%q)"):format(want.url)}, {timeout = 30})
  check("a script using http fails, naming the missing plugin",
    r.status == 1 and r.stderr:find("provided by the plugin 'http', which is not installed", 1, true) ~= nil,
    ("exit %s: %s"):format(tostring(r.status), r.stderr))
end

-- The core's own builtins, and the image's shape: a non-root user who cannot write the image,
-- a writable /tmp, trust roots for TLS.
check("json round trip", json.encode(json.parse('{"a":[1,2]}')) == '{"a":[1,2]}')
check("the image's files are not writable by its user", not pcall(fs.write, "/usr/local/bin/assay", ""))
local scratch = fs.tempdir()
fs.write(scratch .. "/x", "y")
check("a temporary folder is writable", fs.read(scratch .. "/x") == "y")
local roots = fs.stat("/etc/ssl/certs/ca-certificates.crt")
check("CA certificates are there", roots and roots.size > 100000)
print(("verified %s: plugins {%s}, %d packages"):format(want.image, set_of(plugins), #packages))
