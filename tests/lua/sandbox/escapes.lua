-- test: flags --sandbox
-- The escapes of issue #9, each a way around the sandbox's refusals on the first version:
-- the real `io` and `debug` through `package.loaded` and `require`, modules from anywhere
-- through `package.path`, absolute names or `package.searchpath`, and binary chunks.

local function refused(f, pattern)
  local ok, err = pcall(f)
  assert(not ok, "expected a refusal matching " .. pattern)
  assert.matches(err, pattern)
end

-- The standard libraries the sandbox removes are not hiding anywhere.
refused(function() return package.loaded.io.popen("id"):read("a") end,
  [[^escapes\.lua:\d+: io\.popen is not available in sandbox$]])
refused(function() return require("io").open("/tmp/assay-sandbox-escape", "w") end,
  [[^escapes\.lua:\d+: io\.open is not available in sandbox$]])
refused(function() return package.loaded.debug.getregistry() end,
  [[debug\.getregistry is not available in sandbox]])
refused(function() return require("debug").getupvalue(require, 1) end,
  [[debug\.getupvalue is not available in sandbox]])
refused(function() return package.loaded.os.execute("id") end,
  [[os\.execute is not available in sandbox]])
refused(function() return require("os").remove("/tmp/x") end,
  [[os\.remove is not available in sandbox]])
refused(function() return getmetatable("").__index.dump(print) end,
  [[string\.dump is not available in sandbox]])
refused(function() package.loaded.io.stdout = 1 end, [[io\.stdout is not available in sandbox]])
refused(function() return io() end, [[^escapes\.lua:\d+: io is not available in sandbox$]])
assert.eq(getmetatable(io), false)

-- `require` stays inside the lib path and the script's folder.
package.path = "/etc/?"
refused(function() return require("os-release") end, [[module 'os-release' not found]])
package.path = "/etc/?;/etc/?.lua"
refused(function() return require("passwd") end, [[module 'passwd' not found]])
refused(function() return require("/etc/os-release") end,
  [['/etc/os-release' is not a module name]])
refused(function() return require("fixtures/../escapes") end, [[is not a module name]])
refused(function() return require("..escapes") end, [[is not a module name]])
refused(function() return require("assay.../../etc") end, [[is not a package name]])
refused(function() return package.searchpath("os-release", "/etc/?") end,
  [[package\.searchpath is not available in sandbox]])
package.cpath = "/usr/lib/x86_64-linux-gnu/?.so"
refused(function() return require("libc") end, [[module 'libc' not found]])
assert.eq(#package.searchers, 2)

-- Binary chunks load nowhere: not through require, not through load.
refused(function() return require("fixtures.binary_chunk") end,
  [[attempt to load a binary chunk \(mode is 't'\)]])
refused(function() return load("\27LuaU\0", "x", "bt") end, [[binary chunks are not available in sandbox]])
local chunk, why = load(function() return nil end)
assert.is_nil(why)
assert.eq(type(chunk), "function")

-- What a module in the script's folder may still do.
assert.eq(require("fixtures.plain_module").answer, 42)
print("escapes closed")
