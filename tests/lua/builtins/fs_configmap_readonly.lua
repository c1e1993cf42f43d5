-- fs.write on a Kubernetes ConfigMap volume as the kubelet mounts it: read-only, with
-- app.yaml -> ..data/app.yaml and ..data -> ..<timestamp>. The write fails naming the path and
-- the file the link leads to, and changes nothing. The read-only mount is made in a user
-- namespace (`unshare -rm`, util-linux), which needs no privileges.
local dir = fs.tempdir()
assert(os.execute("mkdir -p '" .. dir .. "/src/..2026_12_06' '" .. dir .. "/mnt'"))
fs.write(dir .. "/src/..2026_12_06/app.yaml", "replicas: 1\n")
assert(os.execute("cd '" .. dir .. "/src' && ln -s ..2026_12_06 ..data && ln -s ..data/app.yaml app.yaml"))
fs.write(dir .. "/write.lua", [[
local ok, err = pcall(fs.write, ..., "replicas: 2\n")
print(ok, err)
]])
local command = string.format(
  "unshare -rm sh -c 'mount --bind %s/src %s/mnt && mount -o remount,ro,bind %s/mnt && %s %s/write.lua %s/mnt/app.yaml' 2>&1",
  dir, dir, dir, arg[-1], dir, dir)
local pipe = assert(io.popen(command))
local out = pipe:read("a")
pipe:close()
assert(out:find("^false\t") and out:find("fs.write: " .. dir .. "/mnt/app.yaml (a link to " .. dir
  .. "/mnt/..data/app.yaml): Read-only file system\n", 1, true), out)
assert.eq(fs.read(dir .. "/src/..2026_12_06/app.yaml"), "replicas: 1\n")
fs.remove(dir, {recursive = true})
print("configmap ok")
