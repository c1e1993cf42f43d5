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

function glue.wrap(raw)
  return function(...) return check(raw(...)) end
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
function glue.patch_coroutines(PENDING, coroutine, select)
  local create, resume, yield, close = coroutine.create, coroutine.resume, coroutine.yield, coroutine.close

  local function relay(co, ok, ...)
    if ok and select("#", ...) == 1 and (...) == PENDING then
      return relay(co, resume(co, yield(PENDING)))
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
    return relay(co, resume(co, ...))
  end
  coroutine.wrap = function(f)
    local co = create(f)
    return function(...)
      return unwrap(co, relay(co, resume(co, ...)))
    end
  end
end

return glue
