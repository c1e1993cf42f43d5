-- test: flags --memory-limit 16M
-- test: stdout ^max output ok\n$
-- 200 MB of output under a 16 MiB memory limit: the capture keeps the first max_output bytes
-- (a quarter of the limit by default), reads and drops the rest, and says so.
local r = process.shell("yes | head -c 200000000")
assert.eq(r.status, 0)
assert.eq(#r.stdout, 4 * 1024 * 1024)
assert.eq(r.stdout_truncated, true)
assert.eq(r.stdout:sub(1, 4), "y\ny\n")
r = process.shell("yes | head -c 200000000; echo tail >&2", {max_output = 1000})
assert.eq({#r.stdout, r.stdout_truncated, r.stderr, r.stderr_truncated}, {1000, true, "tail\n", false})
-- Eight at once: together they hold no more than the limit outside Lua (each is cut sooner
-- when the others hold the rest), and none aborts.
local tasks = {}
for i = 1, 8 do
  tasks[i] = async.spawn(function()
    local out = process.shell("yes | head -c 50000000")
    return #out.stdout, out.stdout_truncated, out.status
  end)
end
for _, task in ipairs(tasks) do
  local n, cut, status = task:await()
  assert(n <= 4 * 1024 * 1024, n)
  assert.eq({cut, status}, {true, 0})
end
-- Asking for more than fits in memory is Lua's own "not enough memory", never an abort.
local ok, err = pcall(process.shell, "yes | head -c 100000000", {max_output = 64 * 1024 * 1024})
assert.eq(ok, false)
assert.matches(err, "not enough memory")
print("max output ok")

-- A line longer than max_output comes from lines() in pieces, and its newline ends it (a line
-- of exactly twice the bound used to be followed by an empty line that was never written).
local long = process.spawn({"printf", "abcdefgh\nxy\nabcdefghij\n"}, {max_output = 4})
local pieces = {}
for line in long:lines() do pieces[#pieces + 1] = line end
assert.eq(pieces, {"abcd", "efgh", "xy", "abcd", "efgh", "ij"})
assert.eq(long:wait().stdout_truncated, false)
