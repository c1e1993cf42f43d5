-- `require("crypto")` (as in Node) fails like any missing module, saying first that `crypto` is
-- an installed plugin's global, to use without require; other missing modules are unchanged.
local ok, err = pcall(require, "crypto")
assert.eq(ok, false)
assert(err:find("module 'crypto' not found:\n\tno field package.preload['crypto']\n\t`crypto` is not a module: it is the global of the plugin 'crypto'; use it without require\n\tno file ", 1, true), err)
ok, err = pcall(require, "no_such_module")
assert.eq(ok, false)
assert(not err:find("not a module", 1, true), err)
assert.eq(type(crypto.hash), "function")
print("ok")
