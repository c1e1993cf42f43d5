-- test: flags --timeout 0.5
-- test: exit 1
-- test: stderr ^assay: timed out after 0.5 s
-- Past the deadline, no handler keeps a script going: pcall, xpcall (and its message
-- handler), coroutine.resume and wrap, and assert.raises all pass the timeout on.
local function spin() while true do end end
local gen = coroutine.wrap(function()
  while true do
    pcall(spin)
    coroutine.yield()
  end
end)
while true do
  pcall(function() xpcall(spin, function(e) spin() return e end) end)
  pcall(gen)
  pcall(assert.raises, spin)
  local co = coroutine.create(spin)
  coroutine.resume(co)
end
