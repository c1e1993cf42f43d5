-- test: exit 1
-- test: stderr ^runtime_error\.lua:8: something broke\nstack traceback:\n
-- test: stderr runtime_error\.lua:8: in (local|upvalue) 'inner'
-- test: stderr runtime_error\.lua:11: in local 'outer'
-- test: stderr runtime_error\.lua:13: in main chunk
-- test: no-stderr \[assay\]
local function inner()
  error("something broke")
end
local function outer()
  inner()
end
outer()
