-- test: flags --lib-path /nowhere
-- test: exit 1
-- test: stderr ^absent_plugin\.lua:\d+: attempt to index a nil value \(global 'crypto'\); `crypto` is provided by the plugin 'crypto', which is not installed \(lib path: /nowhere\)\n
-- test: stdout checks passed
-- A known plugin that is not installed: its global stays nil, so feature tests and strict-mode
-- code see what `lua` shows them; the script that dies of it hears which plugin it lacks.
assert.eq(crypto, nil)
assert.eq(rawget(_G, "crypto"), nil)
assert.eq(getmetatable(_G), nil)
local has_db = db and true or false
assert.eq(has_db, false)
-- a caught error keeps Lua's own words
local ok, err = pcall(function() return crypto.hash("x") end)
assert.eq(ok, false)
assert(err:find("attempt to index a nil value (global 'crypto')", 1, true), err)
assert(not err:find("provided by", 1, true), err)
-- strict-mode code: a __index on _G that raises for undeclared names still works
setmetatable(_G, {__index = function(_, name) error("undeclared global " .. name, 2) end})
ok, err = pcall(function() return template.render_string("x") end)
assert.eq(ok, false)
assert(err:find("undeclared global template", 1, true), err)
setmetatable(_G, nil)
-- require("crypto"), as a Node user would write it, says first what `crypto` is
ok, err = pcall(require, "crypto")
assert.eq(ok, false)
assert(err:find("module 'crypto' not found:\n\tno field package.preload['crypto']\n\t`crypto` is not a module: it is the global of the plugin 'crypto', which is not installed (lib path: /nowhere)\n\tno file ", 1, true), err)
print("checks passed")
crypto.hash("x")
