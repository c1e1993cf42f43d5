-- test: stdout ^spawn ok\nlate line\n$
-- process.spawn: a handle to a running program.
local function alive(pid) return fs.exists("/proc/" .. pid) and
  not (fs.read("/proc/" .. pid .. "/stat"):match("^%d+ %b() Z")) end

local h = process.spawn({"sh", "-c", "echo one; echo two >&2; echo three; exit 5"})
assert.eq(math.type(h.pid), "integer")
assert.matches(tostring(h), "^process \\d+ \\(")
local lines = {}
for line in h:lines("stdout") do lines[#lines + 1] = line end
assert.eq(lines, {"one", "three"})
local r = h:wait()
-- Output read with lines() is not in the result; the rest is.
assert.eq({r.status, r.stdout, r.stderr}, {5, "", "two\n"})
assert.eq(h:wait(), r, "a second wait gives the same result")
assert.matches(tostring(h), "exited 5")

-- stdin through :write, a last line without "\n", close_stdin.
local c = process.spawn({"cat"})
assert.eq(c:write("a\nb"), true)
assert.eq(c:close_stdin(), true)
assert.eq(c:close_stdin(), false)
local got = {}
for line in c:lines() do got[#got + 1] = line end
assert.eq(got, {"a", "b"})
assert.raises(function() c:write("more") end, "stdin is closed")

-- kill: a signal by name or number; false once it has exited.
local s = process.spawn({"sleep", "987.71"})
assert.eq(s:kill("TERM"), true)
local sr = s:wait()
assert.eq({sr.status, sr.signal}, {nil, 15})
assert.eq(s:kill(), false)
assert.raises(function() s:kill("NOPE") end, "unknown signal name 'NOPE'")
assert.raises(function() s:kill(999) end, "999 is not a signal number")

-- A handle closed while its process runs terminates it.
local pid
do
  local k <close> = process.spawn({"sleep", "987.72"})
  pid = k.pid
  assert(alive(pid))
end
sleep(0.3)
assert(not alive(pid), "the closed handle's process still runs")

-- A collected handle terminates its process too.
pid = process.spawn({"sleep", "987.73"}).pid
collectgarbage()
collectgarbage()
sleep(0.3)
assert(not alive(pid), "the collected handle's process still runs")

-- Errors: lines of a stream that is not a pipe; bad stream names; methods need a handle.
local quiet = process.spawn({"true"}, {stdout = "null"})
assert.raises(function() quiet:lines("stdout") end, "stdout is not a pipe")
assert.raises(function() quiet:lines("both") end, "\"stdout\" or \"stderr\" expected")
assert.raises(function() quiet.wait() end, "bad argument #1 'self'")
assert.raises(function() process.spawn({"cat"}, {stdin = "data"}) end,
  "write data with handle:write")
quiet:wait()

-- wait closes stdin, as Python's communicate: a cat waiting for input ends.
assert.eq(process.spawn({"cat"}):wait().status, 0)
-- Numbers are written as tostring writes them.
local n = process.spawn({"cat"})
n:write(42)
assert.eq(n:wait().stdout, "42")

-- A handle closed while its output is unread and full: the program still ends (drained).
do
  local full <close> = process.spawn({"sh", "-c", "head -c 3000000 /dev/zero; echo more"},
    {max_output = 3})
  sleep(0.2)
end
-- Killed with unread output: no hang either.
local killed = process.spawn({"sh", "-c", "head -c 3000000 /dev/zero; sleep 987.74"})
sleep(0.2)
assert.eq(killed:kill("KILL"), true)

-- A child that exited while its group holds the output: close and kill still reach the group.
pid = nil
do
  local g <close> = process.spawn({"sh", "-c", "sleep 987.75 & echo started"})
  assert.eq(g:lines()(), "started")
end
sleep(0.3)
local left = process.run({"pgrep", "-f", "sleep 987.75"})
assert.eq(left.status, 1, "the group's sleep still runs: " .. left.stdout)
local g = process.spawn({"sh", "-c", "sleep 987.76 & echo started"})
assert.eq(g:lines()(), "started")
sleep(0.1)
assert.eq(g:kill(), true, "the group still holds the output")
assert.eq(g:wait().status, 0)

-- Two tasks waiting on one handle get the same result (the second used to get empty output).
local shared = process.spawn({"sh", "-c", "sleep 0.2; echo hi; exit 3"})
local first = async.spawn(function() return shared:wait() end)
local second = async.spawn(function() return shared:wait() end)
local a, b = first:await(), second:await()
assert.eq(a.stdout, "hi\n")
assert.eq(b, a)
assert.eq(shared:wait(), a)

print("spawn ok")
-- The program does not end while a spawned process runs: this line comes after the chunk.
process.spawn({"sh", "-c", "sleep 0.3; echo late line"}, {stdout = "inherit"})
