-- test: stdout main thread ok
-- The main chunk runs as a coroutine the runtime drives, but to the script it is Lua's main
-- thread, as under `lua` (Lua's own testes/coroutine.lua starts with these checks).
local main, ismain = coroutine.running()
assert(type(main) == "thread" and ismain == true)
assert(not coroutine.isyieldable() and not coroutine.isyieldable(main))
assert(not coroutine.resume(main))
assert.eq(coroutine.status(main), "running")

-- A yield of the script's own at top level raises, as in `lua`, without a position.
local ok, err = pcall(coroutine.yield)
assert.eq({ok, err}, {false, "attempt to yield from outside a coroutine"})
ok, err = pcall(coroutine.yield, 1, 2)
assert.eq(err, "attempt to yield from outside a coroutine")
assert.raises(function() coroutine.yield() end, "outside a coroutine")

-- Closing it is refused as Lua refuses to close its main thread; from a coroutine it is a
-- "normal" coroutine.
ok, err = pcall(coroutine.close, main)
assert(not ok and err:find("main"), err)
ok, err = pcall(coroutine.close)
assert.eq({ok, err}, {false, "cannot close main thread"})
coroutine.wrap(function()
  local ok2, err2 = pcall(coroutine.close, main)
  assert(not ok2 and err2:find("normal"), err2)
  assert.eq(coroutine.status(main), "normal")
  local co, inmain = coroutine.running()
  assert(co ~= main and inmain == false)
  assert(coroutine.isyieldable())
end)()

-- Assay's own waits still suspend it.
local t0 = time.monotonic()
sleep(0.05)
assert.ge(time.monotonic() - t0, 0.04)
assert(select(2, coroutine.running()))

-- A task is a coroutine the runtime drives: not the main thread, not yieldable by the script.
local task = async.spawn(function()
  local co, inmain = coroutine.running()
  assert(co ~= main and inmain == false)
  assert(not coroutine.isyieldable())
  -- While the main chunk waits, it is "normal" (active, not resumable) to a task.
  assert.eq(coroutine.status(main), "normal")
  local resumed, why = coroutine.resume(main)
  assert(not resumed and why:find("runtime drives"), why)
  local okc, errc = pcall(coroutine.close, main)
  assert(not okc and errc:find("runtime drives"), errc)
  local oky, erry = pcall(coroutine.yield, "x")
  assert.eq(erry, "attempt to yield from outside a coroutine")
  assert(not oky)
  sleep(0.01)
  return "task done"
end)
assert.eq(task:await(), "task done")

-- The script's own coroutines are untouched: yields go to their resumer.
local gen = coroutine.wrap(function(a)
  assert(coroutine.isyieldable())
  local b = coroutine.yield(a + 1)
  sleep(0.01)
  coroutine.yield(b * 2)
  return "end"
end)
assert.eq({gen(1), gen(10), gen()}, {2, 20, "end"})

-- The standard functions stay C functions, as under `lua`.
for _, name in ipairs({"running", "isyieldable", "yield"}) do
  assert.eq(debug.getinfo(coroutine[name], "S").what, "C", name)
end

print("main thread ok")
