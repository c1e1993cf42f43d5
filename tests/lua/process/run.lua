-- test: stdout ^inherited line\nprocess run ok\n$
-- process.run and process.shell: results, options, and errors that name what is wrong.

-- Exit status is data; stdout and stderr are captured apart.
local r = process.run({"sh", "-c", "printf out; printf err >&2; exit 3"})
assert.eq({r.status, r.signal, r.ok, r.stdout, r.stderr, r.timed_out},
          {3, nil, false, "out", "err", false})
assert.eq({r.stdout_truncated, r.stderr_truncated}, {false, false})
assert.eq(process.run({"true"}).ok, true)

-- A signal ends it: status nil, signal set.
r = process.run({"sh", "-c", "kill -KILL $$"})
assert.eq({r.status, r.signal, r.ok}, {nil, 9, false})

-- Arguments pass as they are, no shell in between.
r = process.run({"printf", "%s|", "a b", "$HOME", "*", "", 42})
assert.eq(r.stdout, "a b|$HOME|*||42|")

-- process.shell is sh -c.
assert.eq(process.shell("echo $((6 * 7)) | tr 4 X").stdout, "X2\n")

-- env is merged into the environment the script sees (env.set included); clear_env empties it.
env.set("ASSAY_PROCESS_PARENT", "from-parent")
r = process.shell("echo $ASSAY_PROCESS_PARENT $ASSAY_PROCESS_CHILD", {env = {ASSAY_PROCESS_CHILD = 7}})
assert.eq(r.stdout, "from-parent 7\n")
r = process.run({"/usr/bin/env"}, {clear_env = true, env = {ONLY = "this"}})
assert.eq(r.stdout, "ONLY=this\n")

-- cwd
local dir = fs.tempdir()
assert.eq(process.run({"pwd"}, {cwd = dir}).stdout, dir .. "\n")

-- stdin: a string is written in, always as data (even "null"); the default is /dev/null (a
-- read gets end of file at once).
assert.eq(process.run({"cat"}, {stdin = "fed in"}).stdout, "fed in")
assert.eq(process.run({"cat"}, {stdin = "null"}).stdout, "null")
assert.eq(process.run({"cat"}, {stdin = "inherit"}).stdout, "inherit")
assert.eq(process.run({"cat"}).stdout, "")
assert.eq(process.run({"wc", "-c"}, {stdin = ""}).stdout:match("%d+"), "0")

-- stdout/stderr: "null" discards (the field is nil), "inherit" passes through.
r = process.shell("echo gone; echo kept >&2", {stdout = "null"})
assert.eq({r.stdout, r.stderr}, {nil, "kept\n"})
r = process.shell("echo inherited line", {stdout = "inherit"})
assert.is_nil(r.stdout)

-- check = true raises with the status and the end of stderr; success passes.
assert.raises(function()
  process.shell("echo some detail >&2; exit 4", {check = true})
end, "process\\.shell: 'echo some detail >&2; exit 4' exited with status 4: some detail")
assert.raises(function() process.run({"false"}, {check = true}) end,
  "'false' exited with status 1$")
assert.eq(process.run({"true"}, {check = true}).status, 0)

-- Errors name the program, option or argument.
assert.raises(function() process.run({"assay-no-such-program"}) end,
  "process\\.run: program 'assay-no-such-program' not found in PATH")
assert.raises(function() process.run({"/no/such/path"}) end,
  "program '/no/such/path' not found")
local script = dir .. "/not-executable.sh"
fs.write(script, "echo hi\n")
assert.raises(function() process.run({script}) end, "cannot be run: permission denied")
assert.raises(function() process.run({"ls"}, {cwd = "/no/such/dir"}) end,
  "field 'cwd' \\('/no/such/dir': No such file or directory\\)")
assert.raises(function() process.run({"ls"}, {cwd = script}) end, "is not a folder")
assert.raises(function() process.run({"ls"}, {tiemout = 1}) end, "unknown option 'tiemout'")
assert.raises(function() process.run({"ls"}, {timeout = "1"}) end,
  "field 'timeout' \\(number expected, got string\\)")
assert.raises(function() process.run({"ls"}, {timeout = -1}) end, "is not a duration")
assert.raises(function() process.run({"ls"}, {stdout = "file"}) end, "field 'stdout'")
assert.raises(function() process.run({"ls"}, {env = {["A=B"] = "x"}}) end,
  "'A=B' is not a variable name")
assert.raises(function() process.run({"ls"}, {env = {A = {}}}) end, "'A': string expected")
assert.raises(function() process.run("ls -l") end,
  "a list of strings expected, got a string \\(process\\.shell runs a command line\\)")
assert.raises(function() process.run({}) end, "the list is empty")
assert.raises(function() process.run({"echo", {}}) end, "item 2: string expected, got table")
assert.raises(function() process.run({"echo", "a\0b"}) end, "contains a NUL byte")
assert.raises(function() process.run({"ls"}, 5) end, "bad argument #2 'opts'")
assert.raises(function() process.run({"echo", nil, "x"}) end, "item 3 follows a nil")
assert.raises(function() process.run({"echo", name = "x"}) end, "it has other keys")
assert.raises(function() process.run({"ls"}, {max_output = 0}) end, "at least 1")
assert.raises(function() process.run({"ls"}, {stdin = 5}) end, "string \\(the input\\) or io\\.stdin")
-- A script whose #! interpreter is missing says so.
local orphan = dir .. "/orphan.sh"
fs.write(orphan, "#!/no/such/interpreter\necho hi\n")
process.run({"chmod", "+x", orphan}, {check = true})
assert.raises(function() process.run({orphan}) end, "the interpreter on its #! line was not found")
-- Found by name in PATH, it is not "not found in PATH": the file is there, its interpreter is not.
assert.raises(function() process.run({"orphan.sh"}, {env = {PATH = dir}}) end,
  "program 'orphan\\.sh' \\(.*/orphan\\.sh\\) cannot be run: the interpreter on its #! line was not found")

-- Huge durations are no overflow: math.huge is no timeout; 1e19 s as good as none.
assert.eq(process.run({"true"}, {timeout = 1e19}).ok, true)
assert.eq(process.run({"true"}, {timeout = math.huge, kill_grace = math.huge}).ok, true)
r = process.run({"sleep", "5"}, {timeout = 0.1, kill_grace = 1e19})
assert.eq({r.timed_out, r.signal}, {true, 15})
-- A shell's check names the command line, shortened.
assert.raises(function()
  process.shell("exit 3; " .. string.rep("x", 100), {check = true})
end, "'exit 3; x+\\.\\.\\.' exited with status 3")

print("process run ok")

-- Extra arguments are errors, as for every builtin (they were ignored).
assert.raises(function() process.run({"true"}, nil, 3) end, [[bad argument #3 \(at most 2 arguments expected, got 3\)]])
assert.raises(function() process.shell("true", {}, 1) end, [[at most 2 arguments expected]])
local extra = process.spawn({"true"})
assert.raises(function() extra:wait(1) end, [[at most 1 argument expected]])
assert.raises(function() extra:kill("TERM", 1) end, [[at most 2 arguments expected]])
