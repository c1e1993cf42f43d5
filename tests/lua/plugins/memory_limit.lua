-- test: flags --memory-limit 16M
-- Values crossing between Lua and a plugin stay inside the VM's memory limit, both ways, and
-- going over it is a clean error the script can catch: the process neither aborts nor grows
-- past the limit.

local MiB = 1024 * 1024

-- Plugin -> Lua: forty 1 MiB strings made by the plugin. Checked string by string (not once
-- per 1,024 values), so the list fails at the limit instead of arriving whole (40 MiB).
local ok, err = pcall(probe.strings, 40, MiB)
assert.eq(ok, false)
assert.matches(tostring(err), "not enough memory")
-- The memory is back: a list that fits still crosses.
collectgarbage()
local four = probe.strings(4, MiB)
assert.eq(#four, 4)
assert.eq(#four[4], MiB)
four = nil
collectgarbage()

-- Lua -> plugin: one 4 MiB string held by a table 100 times would be copied 100 times (400 MiB
-- outside the limit). The copy is bounded by the limit, and the error names the argument.
local big = string.rep("x", 4 * MiB)
local many = {}
for i = 1, 100 do many[i] = big end
assert.raises(function() probe.echo(1, many) end,
  [[probe\.echo: bad argument #2 \(the strings to copy to the plugin add up to more than the script's memory limit of 16 MiB]])
-- Held once, the same string crosses (and comes back).
assert.eq(#probe.echo(big), 4 * MiB)
-- As a callback's return value too: the bound applies to whatever Lua hands the plugin.
assert.raises(function() probe.hammer(function() return many end, 1) end,
  "add up to more than the script's memory limit")
many = nil

-- The host's services answer inside a call: the limit, and one JSON method per VM.
assert.eq(probe.memory_limit(), 16 * MiB)
local method = probe.json_method()
assert.eq(type(method), "function")
assert.eq(rawequal(method, probe.json_method()), true)
assert.eq(method({body = '{"a":[1,2.5,null]}'}), {a = {1, 2.5, json.null}})
assert.raises(function() method({body = "[1,"}) end,
  [[json: invalid JSON: EOF while parsing a value at byte 2 \(line 1, column 3\)]])
