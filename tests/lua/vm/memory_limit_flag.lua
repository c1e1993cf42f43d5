-- test: flags --memory-limit 8M
-- The limit is a catchable Lua error, and the VM goes on after it.
local ok, err = pcall(function()
  local t = {}
  for i = 1, 1e7 do t[i] = string.rep("y", 100) .. i end
end)
assert.eq(ok, false)
assert.contains(tostring(err), "not enough memory")
collectgarbage()
local small = {}
for i = 1, 1000 do small[i] = i end
assert.eq(#small, 1000)
print("recovered")
