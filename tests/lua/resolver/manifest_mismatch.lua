-- test: env ASSAY_LIB_PATH={dir}/fixtures/lib
-- test: exit 1
-- test: stderr ^manifest_mismatch\.lua:\d+: require: package 'future' 3\.0\.0 requires assay >=99, but this is assay
-- test: no-stderr must never run
require("assay.future")
