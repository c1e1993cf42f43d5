-- test: flags --memory-limit 4M
-- test: exit 1
-- test: stderr not enough memory
-- A builtin that runs out of memory (building a large table) fails the same clean way.
local parts = {}
for i = 1, 200000 do parts[i] = '{"k":' .. i .. '}' end
local big = "[" .. table.concat(parts, ",") .. "]"
local docs = {}
for i = 1, 100 do docs[i] = json.parse(big) end
