-- test: exit 1
-- test: stderr ^builtin_error\.lua:6: json\.parse: invalid JSON: expected value at byte 0 \(line 1, column 1\)\nstack traceback:
-- test: stderr builtin_error\.lua:6: in main chunk
-- test: no-stderr \[assay\]
-- test: no-stderr __mlua
local doc = json.parse("?")
