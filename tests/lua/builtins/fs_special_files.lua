-- fs.write to a character device or a FIFO writes in place (as `> /dev/null` does): the atomic
-- temporary-file-and-rename is for regular files, and renaming over /dev/null would replace
-- the device with a regular file. A directory is an error naming it.
local dir = fs.tempdir()
local function sh(command)
  assert(os.execute(command), command)
end
local function kind(path)
  local p = io.popen("stat -L -c %F '" .. path .. "'")
  local text = p:read("l")
  p:close()
  return text
end

fs.write("/dev/null", "discarded")
assert.eq(kind("/dev/null"), "character special file")
assert.eq(#fs.list(dir), 0)

local fifo = dir .. "/pipe"
sh("mkfifo '" .. fifo .. "'")
-- Nobody reads it: an error at once, not a wait for a reader.
assert.raises(function() fs.write(fifo, "x") end, "fs.write: .*/pipe: it is a FIFO with no reader")
-- With a reader, the data goes through the FIFO, which stays a FIFO.
sh("(cat '" .. fifo .. "' > '" .. dir .. "/got') &")
local ok, err
for _ = 1, 200 do
  ok, err = pcall(fs.write, fifo, "through the pipe")
  if ok then break end
  sleep(0.01)
end
assert(ok, err)
for _ = 1, 200 do
  if fs.exists(dir .. "/got") and fs.read(dir .. "/got") ~= "" then break end
  sleep(0.01)
end
assert.eq(fs.read(dir .. "/got"), "through the pipe")
assert.eq(kind(fifo), "fifo")

assert.raises(function() fs.write(dir, "x") end, "fs.write: .*: it is a directory")
print("ok")

-- /dev/stdout when stdout is a pipe: written through, not resolved to a pipe's non-path.
local first = -1
while arg[first - 1] do first = first - 1 end
local through = process.run({arg[first], "-e", 'fs.write("/dev/stdout", "to the pipe")'})
assert.eq({through.status, through.stdout}, {0, "to the pipe"})
