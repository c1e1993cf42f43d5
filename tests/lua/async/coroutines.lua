-- The script's own coroutines may call Assay's I/O (sleep here): the wait passes through them,
-- and every other yield behaves exactly as Lua's.

local gen = coroutine.wrap(function()
  for i = 1, 3 do
    sleep(0.01)
    coroutine.yield(i)
  end
  return "end"
end)
assert.eq({gen(), gen(), gen(), gen()}, {1, 2, 3, "end"})

local co = coroutine.create(function(a)
  local b = coroutine.yield(a + 1)
  sleep(0.01)
  return b * 2
end)
assert.eq({coroutine.resume(co, 1)}, {true, 2})
assert.eq({coroutine.resume(co, 10)}, {true, 20})
assert.eq(coroutine.status(co), "dead")
assert.eq({coroutine.resume(co)}, {false, "cannot resume dead coroutine"})

-- errors through wrap keep Lua's shape: a string gets the caller's position
local ok, err = pcall(coroutine.wrap(function() error("inner boom") end))
assert.eq(ok, false)
assert.matches(err, [[coroutines\.lua:\d+: inner boom$]])
local obj = {}
local _, e2 = pcall(coroutine.wrap(function() error(obj) end))
assert(e2 == obj)

-- as Lua's wrap: a coroutine that died of an error is closed, and an error its `__close`
-- handler raises replaces the first (Lua's testes/locals.lua checks it)
local closing = coroutine.wrap(function()
  local x <close> = setmetatable({}, {__close = function() error("@closing", 0) end})
  coroutine.yield(1)
  error("first")
end)
assert.eq(closing(), 1)
assert.eq({pcall(closing)}, {false, "@closing"})

-- Lua 5.5: `coroutine.close()` with no argument closes the running coroutine
local closed_with
local self_closing = coroutine.create(function()
  local v <close> = setmetatable({}, {__close = function() closed_with = "closed" end})
  coroutine.close()
  closed_with = "not reached"
end)
assert.eq({coroutine.resume(self_closing)}, {true})
assert.eq(closed_with, "closed")
assert.eq(coroutine.status(self_closing), "dead")
assert(not pcall(coroutine.close, nil), "close(nil) is an error, not close()")

-- concurrency holds inside coroutines inside tasks
local t0 = time.monotonic()
local a = async.spawn(function() return coroutine.wrap(function() sleep(0.2) return 1 end)() end)
local b = async.spawn(function() return coroutine.wrap(function() sleep(0.2) return 2 end)() end)
assert.eq(a:await() + b:await(), 3)
assert.lt(time.monotonic() - t0, 0.35, "the two waits overlapped")
print("coroutines ok")
