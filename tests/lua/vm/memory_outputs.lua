-- test: flags --memory-limit 32M
-- Output built in Rust counts against the memory limit as it grows: on the first version
-- these reached 2 GB of RSS under a 64 MiB limit (and aborted under `ulimit -v`). Each is now
-- the plain "not enough memory", and the VM goes on.
local four_mib = string.rep("x", 4 * 1024 * 1024)
local many = {}
for i = 1, 500 do many[i] = four_mib end
local keyed = {}
for i = 1, 500 do keyed["k" .. i] = four_mib end

local function out_of_memory(what, f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, what .. " should have run out of memory")
  assert.eq(err, "not enough memory", what)
end

out_of_memory("json.encode", json.encode, many)
out_of_memory("json.encode pretty", json.encode, {a = many}, {pretty = true})
out_of_memory("yaml.encode", yaml.encode, many)
out_of_memory("toml.encode", toml.encode, keyed)
-- Escapes make JSON output up to six times its input: the writer itself is checked too.
out_of_memory("json.encode escapes", json.encode, string.rep("\1", 6 * 1024 * 1024))
local two_mb = string.rep("a", 2 * 1024 * 1024)
out_of_memory("regex.replace", regex.replace, two_mb, ".", string.rep("y", 1000), {all = true})

-- base64 text is a third larger than its data: with 22 MiB in use, 8 MiB do not encode.
many, keyed, four_mib, two_mb = nil, nil, nil, nil
collectgarbage()
local ballast = string.rep("b", 14 * 1024 * 1024)
local data = string.rep("z", 8 * 1024 * 1024)
out_of_memory("base64.encode", base64.encode, data)

-- Small outputs still work, and the VM recovered.
ballast, data = nil, nil
collectgarbage()
assert.eq(json.encode({1, 2}), "[1,2]")
assert.eq(regex.replace("a-b", "-", "+"), "a+b")
assert.eq(#base64.encode(string.rep("z", 3 * 1024 * 1024)), 4 * 1024 * 1024)
print("outputs bounded")
