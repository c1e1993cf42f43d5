-- test: stdout require message ok
-- Run from its own folder, a script's missing module reads as under `lua` (Lua's own
-- testes/attrib.lua compares it exactly): the script's folder, searched first, is named by the
-- `./?.lua`-style lines of package.path.
package.path = "?.lua;?/?"
package.cpath = "?.so"
local ok, err = pcall(require, "no_such_module")
assert.eq(ok, false)
assert.eq(err, [[module 'no_such_module' not found:
	no field package.preload['no_such_module']
	no file 'no_such_module.lua'
	no file 'no_such_module/no_such_module'
	no file 'no_such_module.so']])
-- The script's folder is still searched first, whatever package.path says.
package.path = "/nowhere/?.lua"
local f = assert(io.open("sibling_module_tmp.lua", "w"))
f:write("return 'found beside the script'")
f:close()
local loaded, value = pcall(require, "sibling_module_tmp")
os.remove("sibling_module_tmp.lua")
assert.eq({loaded, value}, {true, "found beside the script"})
print("require message ok")
