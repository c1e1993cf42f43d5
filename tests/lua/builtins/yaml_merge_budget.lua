-- test: flags --memory-limit 16M
-- test: stdout ^false\tnot enough memory\n$
-- Merge keys copy keys: two hundred merges of a 5,000-key mapping are a million copies,
-- counted against the memory limit as they are made (they used to pass it by gigabytes).
local keys = {}
for i = 1, 5000 do keys[i] = "k" .. i .. ": " .. i end
local lines = {"base: &a {" .. table.concat(keys, ", ") .. "}", "list:"}
for _ = 1, 200 do lines[#lines + 1] = "  - {<<: *a}" end
print(pcall(yaml.parse, table.concat(lines, "\n")))
