-- Run by packaging/build inside an unpacked image (chroot, as the image's own user, with its
-- environment and entrypoint): checks that the image holds exactly the plugins and packages
-- it should, and that they work there.
--
--   assay /verify/image.lua '<expectations as JSON>'
--
-- Expectations: {image, plugins = [names], packages = [names], url, body, tls_url, ca}: `url`
-- is a local peer's page (http://127.0.0.1:PORT/...) whose body is `body`; `tls_url` an HTTPS
-- server on loopback whose certificate `ca` (a PEM file in the image) signed. With
-- {image, only = "writable"}, only the last check runs. Prints one line per check; the first
-- failure raises (exit 1).
local want = json.parse(assert(arg[1], "usage: assay image.lua '<expectations as JSON>'"))

-- Nothing of the image is writable by its user but /tmp and its home: every folder refuses a
-- new file, every file refuses to open for writing (the mounts a runtime adds are skipped).
local function unwritable_image()
  local home = env.get("HOME") or "/home/assay"
  local skip = {["/tmp"] = true, ["/proc"] = true, ["/dev"] = true, ["/verify"] = true, [home] = true,
    ["/etc/hosts"] = true, ["/etc/resolv.conf"] = true}
  local writable, seen = {}, 0
  local function walk(dir)
    seen = seen + 1
    if pcall(fs.write, (dir == "/" and "" or dir) .. "/.assay-write-probe", "") then
      writable[#writable + 1] = dir .. "/"
      fs.remove((dir == "/" and "" or dir) .. "/.assay-write-probe")
    end
    for _, name in ipairs(fs.list(dir)) do
      local path = (dir == "/" and "" or dir) .. "/" .. name
      if not skip[path] then
        local stat = fs.stat(path)
        if stat.is_dir then
          walk(path)
        else
          seen = seen + 1
          local f = io.open(path, "r+")
          if f then
            f:close()
            writable[#writable + 1] = path
          end
        end
      end
    end
  end
  walk("/")
  return writable, seen
end

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

if want.only == "writable" then
  local writable, seen = unwritable_image()
  check(("none of the image's %d files and folders is writable by its user"):format(seen), #writable == 0,
    table.concat(writable, ", "))
  print(("verified %s: nothing of it is writable by its user"):format(want.image))
  return
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
  -- Names resolve as in a container: /etc/hosts (bound in by the runtime) through glibc's NSS.
  local by_name = want.url:gsub("^http://127%.0%.0%.1:", "http://localhost:")
  local ok, named = pcall(http.get, by_name, {timeout = 10})
  check("localhost resolves (/etc/hosts, nsswitch.conf)", ok and named.status == 200, not ok and named or nil)
  -- TLS: verification is on with the image's trust roots (the peer's private CA is not among
  -- them), and the TLS stack works with that CA given.
  local refused_ok, refusal = pcall(http.get, want.tls_url, {timeout = 10})
  check("an unknown CA is refused", not refused_ok and tostring(refusal):find("signed by an unknown CA", 1, true) ~= nil,
    refused_ok and "it was accepted" or tostring(refusal))
  local secure = http.client({ca_cert = want.ca, timeout = 10}):get(want.tls_url)
  check("https with the peer's CA", secure.status == 200, "status " .. secure.status)
else
  local r = process.run({"assay", "-e", ("http.get(%q)"):format(want.url)}, {timeout = 30})
  check("a script using http fails, naming the missing plugin",
    r.status == 1 and r.stderr:find("provided by the plugin 'http', which is not installed", 1, true) ~= nil,
    ("exit %s: %s"):format(tostring(r.status), r.stderr))
end

-- The core's own builtins, and the image's shape: a non-root user who cannot write the image,
-- a writable /tmp, trust roots for TLS.
check("json round trip", json.encode(json.parse('{"a":[1,2]}')) == '{"a":[1,2]}')
local writable, seen = unwritable_image()
check(("none of the image's %d files and folders is writable by its user"):format(seen), #writable == 0,
  table.concat(writable, ", "))
local scratch = fs.tempdir()
fs.write(scratch .. "/x", "y")
check("a temporary folder is writable", fs.read(scratch .. "/x") == "y")
local roots = fs.stat("/etc/ssl/certs/ca-certificates.crt")
check("CA certificates are there", roots and roots.size > 100000)
print(("verified %s: plugins {%s}, %d packages"):format(want.image, set_of(plugins), #packages))
