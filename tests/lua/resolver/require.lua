-- test: env ASSAY_LIB_PATH={dir}/fixtures/lib:{dir}/fixtures/lib2
-- require: lib-path packages (folder, file, submodule), first root wins, script folder,
-- manifests checked, missing modules list what was searched.

local pkg = require("assay.pkg")
assert.eq(pkg.name, "pkg")
assert.eq(pkg.root, "lib", "the first root wins")
assert.eq(pkg.args[1], "assay.pkg")
assert.matches(pkg.args[2], [[fixtures/lib/pkg/init\.lua$]])
assert(require("assay.pkg") == pkg, "modules are cached")

assert.eq(require("assay.pkg.sub"), {name = "pkg.sub", parent = "pkg"})
assert.eq(require("assay.pkg.deep").name, "pkg.deep")
assert.eq(require("assay.single").name, "single")
assert.eq(require("assay.other").root, "lib2", "a later root serves what earlier ones lack")

-- the script's own folder
assert.eq(require("fixtures.local_mod").name, "local_mod")
assert.eq(require("fixtures.local_pkg").name, "local_pkg")

-- a missing module lists every place searched
local ok, err = pcall(require, "assay.nothere")
assert.eq(ok, false)
assert.contains(err, "module 'assay.nothere' not found")
assert.matches(err, [[no file '[^']*fixtures/lib/nothere/init\.lua']])
assert.matches(err, [[no file '[^']*fixtures/lib/nothere\.lua']])
assert.matches(err, [[no file '[^']*fixtures/lib2/nothere/init\.lua']])
assert.matches(err, [[no file '[^']*fixtures/lib2/nothere\.lua']])

-- a missing submodule is searched in the package that owns it, only
ok, err = pcall(require, "assay.pkg.nope")
assert.matches(err, [[no file '[^']*fixtures/lib/pkg/nope\.lua']])
assert.matches(err, [[no file '[^']*fixtures/lib/pkg/nope/init\.lua']])
assert.eq(err:find("lib2/pkg/nope", 1, true), nil)

-- manifests are checked before any code runs
ok, err = pcall(require, "assay.future")
assert.eq(ok, false)
assert.matches(err, [[^.*require\.lua:\d+: require: package 'future' 3\.0\.0 requires assay >=99, but this is assay \d+\.\d+\.\d+ \(.*fixtures/lib/future\)$]])
ok, err = pcall(require, "assay.broken")
assert.matches(err, [[broken/manifest\.yaml: field `version`: 'not-a-version' is not a semver version]])
ok, err = pcall(require, "assay.badsyntax")
assert.matches(err, [[error loading module 'assay\.badsyntax' from file '.*badsyntax/init\.lua']])
ok, err = pcall(require, "assay.../etc")
assert.matches(err, [['assay\.\.\./etc' is not a package name]])
print("require ok")
