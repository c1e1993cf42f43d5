-- Assay's own Lua glue, loaded once per VM as the chunk "[assay]": frames from this chunk are
-- hidden from error positions and tracebacks. One chunk, so start-up parses Lua only once.
local FAIL, error, next, materialize, type = ...

local glue = {}

-- Builtins return (FAIL, message) instead of raising (see function.rs); this turns that into
-- a plain Lua error. The tail call keeps the wrapper off the stack.
local function check(first, ...)
  if first == FAIL then error((...), 0) end
  return first, ...
end

-- Set by `glue.close()` when the VM is about to close: the finalizers Lua runs then must not
-- reach Rust (mlua's handles to a closing state cannot be used; see vm/mod.rs).
local closing = false
local CLOSING = "the VM is closing: builtins cannot run in finalizers at exit"

function glue.close()
  closing = true
end

function glue.wrap(raw)
  return function(...)
    if closing then error(CLOSING, 0) end
    return check(raw(...))
  end
end

-- Metatable of a lazy module's table until first use (see lazy.rs). Filling it can fail (a
-- plugin that is refused); that failure comes back as (FAIL, message) like a builtin's. The
-- check is inline: one more Lua call frame here could be the allocation that fails when a
-- script sits at its memory limit, before Lua's emergency collection has freed anything.
glue.stub = {
  __index = function(t, k)
    local failed, message = materialize(t)
    if failed == FAIL then error(message, 0) end
    return t[k]
  end,
  __newindex = function(t, k, v)
    local failed, message = materialize(t)
    if failed == FAIL then error(message, 0) end
    t[k] = v
  end,
  __call = function(t, ...)
    local failed, message = materialize(t)
    if failed == FAIL then error(message, 0) end
    return t(...)
  end,
  __pairs = function(t)
    local failed, message = materialize(t)
    if failed == FAIL then error(message, 0) end
    return next, t, nil
  end,
}

-- A function made by `make()` on its first call.
function glue.on_first_call(make)
  local real
  return function(...)
    real = real or make()
    return real(...)
  end
end

-- Assay's I/O (sleep, plugin calls) suspends the running coroutine with a "pending" marker that
-- the executor must see. In a coroutine of the script's own, `coroutine.resume` would hand that
-- marker to the script instead; these versions pass it on (suspending the caller too) and
-- resume the inner coroutine once the I/O is done, so a generator may call `sleep`.
-- Every other yield behaves exactly as Lua's.
--
-- While a coroutine waits for its I/O, only the resumer that started the wait may go on with
-- it. Another task resuming it would steal the wake-up and leave both waiting forever, so
-- that is refused like resuming a running coroutine: `resume` returns false and a message,
-- `wrap`'s function raises it, `close` raises, and `status` says "normal" (active, not
-- resumable).
--
-- `timed_out()` returns the deadline's message once a run is past it (see vm/deadline.rs):
-- a failed resume then re-raises that instead of handing the script an error it could ignore.
function glue.patch_coroutines(PENDING, coroutine, select, timed_out)
  local create, resume, yield, close, status =
    coroutine.create, coroutine.resume, coroutine.yield, coroutine.close, coroutine.status
  local waiting = setmetatable({}, { __mode = "k" })
  local WAITING = "cannot resume a coroutine that is waiting (in sleep or I/O)"
  -- Coroutines the runtime itself drives (the main chunk, tasks, callbacks): a script that
  -- gets one from `coroutine.running()` may not resume or close it (await the task instead).
  local driven = setmetatable({}, { __mode = "k" })
  local DRIVEN = "cannot resume a coroutine that the runtime drives (a task or the main chunk)"
  function glue.driven(co) driven[co] = true end

  local function resumed(co, ...)
    waiting[co] = nil
    return resume(co, ...)
  end

  local function relay(co, ok, ...)
    if ok and select("#", ...) == 1 and (...) == PENDING then
      waiting[co] = true
      return relay(co, resumed(co, yield(PENDING)))
    end
    if not ok then
      local late = timed_out()
      if late then error(late, 0) end
    end
    return ok, ...
  end

  local function unwrap(co, ok, ...)
    if ok then return ... end
    local err = ...
    close(co)
    -- Like Lua's own `wrap`: a string error gets the position of the call.
    if type(err) == "string" then error(err, 2) end
    error(err, 0)
  end

  coroutine.resume = function(co, ...)
    if waiting[co] then return false, WAITING end
    if driven[co] then return false, DRIVEN end
    return relay(co, resume(co, ...))
  end
  coroutine.wrap = function(f)
    local co = create(f)
    return function(...)
      if waiting[co] then error(WAITING, 2) end
      return unwrap(co, relay(co, resume(co, ...)))
    end
  end
  coroutine.close = function(co, ...)
    if waiting[co] then error("cannot close a coroutine that is waiting (in sleep or I/O)", 2) end
    if driven[co] then error("cannot close a coroutine that the runtime drives", 2) end
    return close(co, ...)
  end
  coroutine.status = function(co, ...)
    if waiting[co] then return "normal" end
    return status(co, ...)
  end
end

-- Under a deadline: once the run is past it, `pcall` and `xpcall` re-raise the timeout instead
-- of returning it, so no handler can keep a timed-out script going. An `xpcall` message
-- handler is not even called then: Lua runs the handler of an error raised by a hook with
-- hooks off, so a handler that loops could never be stopped.
function glue.guard_catchers(G, timed_out)
  local pcall, xpcall, type = G.pcall, G.xpcall, type
  local function recheck(ok, ...)
    if not ok then
      local late = timed_out()
      if late then error(late, 0) end
    end
    return ok, ...
  end
  G.pcall = function(...) return recheck(pcall(...)) end
  G.xpcall = function(f, handler, ...)
    if type(handler) == "function" then
      local user = handler
      handler = function(...)
        local late = timed_out()
        if late then return late end
        return user(...)
      end
    end
    return recheck(xpcall(f, handler, ...))
  end
end

return glue
