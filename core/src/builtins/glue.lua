-- Assay's own Lua glue, loaded once per VM as the chunk "[assay]": frames from this chunk are
-- hidden from error positions and tracebacks. One chunk, so start-up parses Lua only once.
local FAIL, error, next, materialize, type, PENDING, isyieldable = ...

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

-- A call that completes at once returns its results (or FAIL, message); one that does not
-- returns (PENDING, handle), and `await(handle)` (an async builtin, itself wrapped) yields
-- until it completes (see `ready_or_async_function` in function.rs).
local function settle(await, first, ...)
  if first == PENDING then return await((...)) end
  if first == FAIL then error((...), 0) end
  return first, ...
end

function glue.wrap_ready_or_async(raw, await, cannot_wait)
  return function(...)
    if closing then error(CLOSING, 0) end
    if not isyieldable() then return check(cannot_wait()) end
    return settle(await, raw(...))
  end
end

-- `__index` of plugin objects: the method from the object's method table (a C function, no
-- Rust call), else `field(ud, key)` in Rust (see plugin/object.rs).
function glue.object_index(method_of, field)
  return function(ud, key)
    local found = method_of(ud, key)
    if found ~= nil then return found end
    return field(ud, key)
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
-- Coroutines the runtime drives (the main chunk, tasks, callbacks; see coroutine.rs) are never
-- resumed or closed by the script. The main chunk answers as Lua's main thread does: resuming
-- it while it runs fails as for any running coroutine, closing it is "cannot close main
-- thread", and while it waits (a task runs) its status is "normal".
--
-- `timed_out()` returns the deadline's message once a run is past it (see vm/deadline.rs):
-- a failed resume then re-raises that instead of handing the script an error it could ignore.
--
-- Returns the weak table of driven coroutines (thread -> TASK or MAIN), which coroutine.rs
-- reads from C.
function glue.patch_coroutines(PENDING, coroutine, select, timed_out, TASK, MAIN)
  local create, resume, yield, close, status, running =
    coroutine.create, coroutine.resume, coroutine.yield, coroutine.close, coroutine.status,
    coroutine.running
  local waiting = setmetatable({}, { __mode = "k" })
  local WAITING = "cannot resume a coroutine that is waiting (in sleep or I/O)"
  local driven = setmetatable({}, { __mode = "k" })
  local DRIVEN = "cannot resume a coroutine that the runtime drives (a task or the main chunk)"
  function glue.driven(co, kind) driven[co] = kind or TASK end

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

  -- Like Lua's own `wrap`: a coroutine that died of an error is closed, and the error its
  -- to-be-closed variables leave is raised (a `__close` handler may replace it); a string
  -- error gets the position of the call. (Only a dead one is closed: in Lua 5.5 closing the
  -- running coroutine ends it.)
  local function unwrap(co, ok, ...)
    if ok then return ... end
    local err = ...
    if status(co) == "dead" then
      local closed, final = close(co)
      if not closed then err = final end
    end
    if type(err) == "string" then error(err, 2) end
    error(err, 0)
  end

  -- A driven coroutine is suspended only while it waits in Assay's I/O.
  local function driven_waiting(co)
    return driven[co] and status(co) == "suspended"
  end

  coroutine.resume = function(co, ...)
    if waiting[co] then return false, WAITING end
    if driven_waiting(co) then return false, DRIVEN end
    return relay(co, resume(co, ...))
  end
  coroutine.wrap = function(f)
    local co = create(f)
    return function(...)
      if waiting[co] then error(WAITING, 2) end
      return unwrap(co, relay(co, resume(co, ...)))
    end
  end
  coroutine.close = function(...)
    -- `close()` with no argument closes the running coroutine (Lua 5.5); `close(nil)` is an
    -- error: the arguments go on to Lua's `close` as they came.
    local co = ...
    if select("#", ...) == 0 then co = running() end
    if waiting[co] then error("cannot close a coroutine that is waiting (in sleep or I/O)", 2) end
    local kind = driven[co]
    if kind then
      local now = status(co)
      if now == "running" and kind == MAIN then error("cannot close main thread", 2) end
      if now == "running" or now == "suspended" then
        error("cannot close a coroutine that the runtime drives", 2)
      end
      -- "normal" gets Lua's own refusal below; "dead" closes as any other.
    end
    return close(...)
  end
  coroutine.status = function(co, ...)
    if waiting[co] or driven_waiting(co) then return "normal" end
    return status(co, ...)
  end
  return driven
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
