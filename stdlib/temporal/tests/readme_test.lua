-- The README's example runs as written, in a child assay, against the fake (its address and
-- credentials in the environment variables the example reads).
local here = arg[0]:match("^(.*)/") or "."

local function lib_path() return env.get("ASSAY_LIB_PATH") end  -- --lib-path is exported there

test("the README's example runs against the fake", function()
  local readme = fs.read(here .. "/../README.md")
  local example = readme:match("```lua\n(.-)```")
  assert.eq(type(example), "string", "README has no lua example")
  local dir = fs.tempdir and fs.tempdir() or "/tmp"
  local file = dir .. "/temporal_readme_example.lua"
  fs.write(file, example)
  local fake = dofile(here .. "/fake_temporal.lua").start{complete_after = 3}
  local argv = {"/proc/self/exe"}
  local lib = lib_path()
  if lib then argv[#argv + 1] = "--lib-path"; argv[#argv + 1] = lib end
  argv[#argv + 1] = file
  local r = process.run(argv, {env = {TEMPORAL_HTTP_URL = fake.url, TEMPORAL_NAMESPACE = "", TEMPORAL_API_KEY = ""}, timeout = 30})
  fake:stop()
  assert.eq(r.stderr, "")
  assert.eq(r.status, 0)
  assert.matches(r.stdout, [[^default\norders\ntemporal-system\n]])
  assert.eq(fake.violations, {})
end)
