-- test: flags --sandbox
-- test: env ASSAY_LIB_PATH={dir}/fixtures/lib:{plugins}
-- Under --sandbox, a package that needs something the sandbox removes is refused the same way
-- (a core builtin, a plugin function); what the sandbox keeps (the HTTP client) passes.
local function refused(name, pattern)
  local ok, err = pcall(require, name)
  assert.eq(ok, false, name .. " loaded")
  assert(err:find(pattern, 1, true), ("%q\nnot in\n%q"):format(pattern, err))
end
refused("assay.needs_fs", "package 'needs_fs' needs fs.read, which is not available in sandbox")
refused("assay.needs_server", "package 'needs_server' needs http.server, which is not available in sandbox")
-- and so is a package whose dependency needs it
refused("assay.wants_needs_fs", "package 'wants_needs_fs' needs package 'needs_fs' >=0.1, <0.2, which cannot be used here: package 'needs_fs' needs fs.read, which is not available in sandbox")
assert.eq(require("assay.needs_http").loaded, true)
assert.eq(require("assay.wants_pkg").loaded, true)
print("ok")
