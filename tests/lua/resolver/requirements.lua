-- test: env ASSAY_LIB_PATH={dir}/fixtures/lib
-- A package's manifest is checked before any of its code runs: the builtins it calls
-- (`requires_builtins`) and the packages it depends on (`depends`), each failure naming what is
-- missing. The lib path here holds no plugin, so the http plugin is not installed.

local function refused(name, pattern)
  local ok, err = pcall(require, name)
  assert.eq(ok, false, name .. " loaded")
  assert(err:find(pattern, 1, true), ("%q\nnot in\n%q"):format(pattern, err))
  assert.eq(package.loaded[name], nil)
end

refused("assay.needs_http", "package 'needs_http' needs http.client, which no installed plugin provides (the plugin 'http' is not on the lib path)")
refused("assay.needs_unknown", "package 'needs_unknown' needs json.parse_fast, which this core does not provide")
refused("assay.wants_newer", "package 'wants_newer' needs package 'pkg' ^9, but pkg 1.2.0 is installed (")
refused("assay.wants_missing", "package 'wants_missing' needs package 'nowhere' >=1.0, <2, which is not installed (lib path: ")
-- A dependency must be usable itself: its own manifest is checked, through its dependencies.
refused("assay.wants_unknown_dep", "package 'wants_unknown_dep' needs package 'needs_unknown' >=0, which cannot be used here: package 'needs_unknown' needs json.parse_fast, which this core does not provide")

-- What is there passes, outside the sandbox fs.read too; a dependency cycle is no error.
assert.eq(require("assay.wants_needs_fs").loaded, true)
assert.eq(require("assay.cycle_a").loaded, true)
assert.eq(require("assay.wants_pkg").loaded, true)
assert.eq(require("assay.needs_fs").loaded, true)
print("ok")
