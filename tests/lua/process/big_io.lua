-- test: stdout ^big io ok\n$
-- 20 MB in through stdin while 20 MB come out of stdout (and a little of stderr): the input
-- is written while the output is read, so neither side blocks the other for good.
local chunk = string.rep("0123456789abcdef", 64) -- 1 KiB
local input = string.rep(chunk, 20 * 1024)
local r = process.shell("cat; echo done >&2", {stdin = input})
assert.eq(#r.stdout, #input)
assert(r.stdout == input, "stdout differs from what went in")
assert.eq(r.stderr, "done\n")
-- And through a spawned handle, written in pieces while a task reads the lines.
local h = process.spawn({"cat"})
local reader = async.spawn(function()
  local n = 0
  for line in h:lines() do
    assert.eq(#line, 1023)
    n = n + 1
  end
  return n
end)
local line = string.rep("y", 1023) .. "\n"
local piece = string.rep(line, 1024)
for _ = 1, 20 do h:write(piece) end
h:close_stdin()
assert.eq(reader:await(), 20 * 1024)
assert.eq(h:wait().status, 0)
print("big io ok")
