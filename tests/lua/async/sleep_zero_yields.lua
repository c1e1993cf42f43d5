-- test: flags --timeout 30
-- `sleep(0)` yields to the other ready tasks and comes back at once, as `asyncio.sleep(0)`
-- does. It used to set a timer, which the timer wheel rounds up to a millisecond: a loop of
-- 400,000 `sleep(0)` took 475 s. Here 300,000 of them (well under a second) share the run
-- with a task that counts its own turns; the 30 s limit catches the old cost (5 minutes).
local turns = 0
local other = async.spawn(function()
  for _ = 1, 1000 do
    turns = turns + 1
    sleep(0)
  end
end)
-- The spawned task runs only when this one yields.
assert.eq(turns, 0)
sleep(0)
assert.eq(turns, 1, "one sleep(0) gives the other task one turn")
sleep(0)
assert.eq(turns, 2)
for _ = 1, 300000 do
  sleep(0)
end
other:await()
assert.eq(turns, 1000)
