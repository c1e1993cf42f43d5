-- fs: read/write/append, atomic writes keep permissions, listing, globbing, stat, errors.

local dir = fs.tempdir()
assert(fs.exists(dir))
assert.eq(fs.stat(dir).is_dir, true)
assert.eq(fs.stat(dir).mode, tonumber("700", 8))

local file = dir .. "/data.bin"
fs.write(file, "one\0two")
assert.eq(fs.read(file), "one\0two")
fs.append(file, "+three")
assert.eq(fs.read(file), "one\0two+three")
fs.append(dir .. "/new.txt", "created")
assert.eq(fs.read(dir .. "/new.txt"), "created")

-- an atomic overwrite keeps the file's permissions and leaves no temporary file behind
os.execute("chmod 640 " .. file)
fs.write(file, "replaced")
assert.eq(fs.read(file), "replaced")
assert.eq(fs.stat(file).mode, tonumber("640", 8))
assert.eq(fs.list(dir), {"data.bin", "new.txt"})

local st = fs.stat(file)
assert.eq(st.size, 8)
assert.eq(st.is_file, true)
assert.eq(st.is_dir, false)
assert.gt(st.mtime, time() - 60)

fs.mkdir(dir .. "/a/b/c", {parents = true})
fs.write(dir .. "/a/b/c/x.lua", "return 1")
fs.write(dir .. "/a/y.lua", "return 2")
assert.eq(fs.glob(dir .. "/a/**/*.lua"), {dir .. "/a/b/c/x.lua", dir .. "/a/y.lua"})
assert.eq(fs.glob(dir .. "/*.txt"), {dir .. "/new.txt"})

fs.copy(file, dir .. "/copy.bin")
assert.eq(fs.read(dir .. "/copy.bin"), "replaced")
fs.rename(dir .. "/copy.bin", dir .. "/moved.bin")
assert.eq(fs.exists(dir .. "/copy.bin"), false)
assert.eq(fs.exists(dir .. "/moved.bin"), true)

-- errors name the function, the path and the reason
assert.raises(function() fs.read(dir .. "/missing") end, "fs.read: .*/missing: No such file or directory")
assert.raises(function() fs.mkdir(dir .. "/x/y") end, "fs.mkdir: .*: No such file or directory")
assert.raises(function() fs.remove(dir .. "/a") end, "directory not empty .*recursive = true")
assert.raises(function() fs.write(dir .. "/no/such/dir/f", "x") end, "fs.write: .*No such file or directory")
assert.raises(function() fs.read("") end, [[bad argument #1 'path' \(empty path\)]])
assert.raises(function() fs.write(file) end, [[bad argument #2 'data' \(string expected, got no value\)]])
assert.raises(function() fs.glob("[") end, [[bad argument #1 'pattern']])
assert.raises(function() fs.mkdir(dir, {parents = 1}) end, [[field 'parents' \(boolean expected, got number\)]])
-- a failed write leaves the old content whole
assert.eq(fs.read(file), "replaced")

-- a path through a file names nothing (as Python's os.path.exists)
assert.eq(fs.exists(file .. "/child"), false)

fs.remove(dir .. "/a", {recursive = true})
fs.remove(file)
assert.eq(fs.exists(file), false)
fs.remove(dir, {recursive = true})
assert.eq(fs.exists(dir), false)
print("fs ok")
