-- fs.write through symlinks: the link stays, the file it leads to gets the data, atomically
-- (a Kubernetes ConfigMap mount is app.yaml -> ..data/app.yaml, ..data -> ..<timestamp>).
local dir = fs.tempdir()
local function sh(command)
  assert(os.execute(command), command)
end
local function is_link(path)
  return os.execute("test -L '" .. path .. "'") == true
end

-- the ConfigMap layout: relative links, through a linked folder
fs.mkdir(dir .. "/..2026_12_06")
fs.write(dir .. "/..2026_12_06/app.yaml", "replicas: 1\n")
sh("chmod 640 '" .. dir .. "/..2026_12_06/app.yaml'")
sh("cd '" .. dir .. "' && ln -s ..2026_12_06 ..data && ln -s ..data/app.yaml app.yaml")
fs.write(dir .. "/app.yaml", "replicas: 2\n")
assert(is_link(dir .. "/app.yaml"), "the link must stay a link")
assert(is_link(dir .. "/..data"))
assert.eq(fs.read(dir .. "/..2026_12_06/app.yaml"), "replicas: 2\n")
assert.eq(fs.read(dir .. "/app.yaml"), "replicas: 2\n")
-- the target keeps its permissions, and no temporary file is left in either folder
assert.eq(fs.stat(dir .. "/..2026_12_06/app.yaml").mode, tonumber("640", 8))
assert.eq(fs.list(dir), {"..2026_12_06", "..data", "app.yaml"})
assert.eq(fs.list(dir .. "/..2026_12_06"), {"app.yaml"})

-- an absolute link into another folder
fs.mkdir(dir .. "/real")
fs.write(dir .. "/real/config.json", "{}")
sh("ln -s '" .. dir .. "/real/config.json' '" .. dir .. "/config.json'")
fs.write(dir .. "/config.json", '{"ok":true}')
assert(is_link(dir .. "/config.json"))
assert.eq(fs.read(dir .. "/real/config.json"), '{"ok":true}')

-- a link to a name that does not exist yet creates it, as `echo > link` does
sh("ln -s real/new.txt '" .. dir .. "/dangling'")
fs.write(dir .. "/dangling", "created")
assert(is_link(dir .. "/dangling"))
assert.eq(fs.read(dir .. "/real/new.txt"), "created")

-- errors say where the link led; a loop is an error, not a hang
sh("ln -s missing/file '" .. dir .. "/broken'")
assert.raises(function() fs.write(dir .. "/broken", "x") end,
  [[fs\.write: .*/broken \(a link to .*/missing/file\): No such file or directory]])
sh("cd '" .. dir .. "' && ln -s loop2 loop1 && ln -s loop1 loop2")
assert.raises(function() fs.write(dir .. "/loop1", "x") end,
  [[fs\.write: .*/loop1: too many levels of symbolic links]])
assert(is_link(dir .. "/broken") and is_link(dir .. "/loop1"))

-- fs.append writes through links too, as it always did (it opens the path)
fs.append(dir .. "/app.yaml", "image: web\n")
assert.eq(fs.read(dir .. "/..2026_12_06/app.yaml"), "replicas: 2\nimage: web\n")
fs.remove(dir, {recursive = true})
print("fs symlinks ok")
