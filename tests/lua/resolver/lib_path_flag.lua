-- test: flags --lib-path fixtures/lib2
-- test: env ASSAY_LIB_PATH={dir}/fixtures/lib
-- --lib-path takes precedence over ASSAY_LIB_PATH.
assert.eq(require("assay.pkg").root, "lib2")
