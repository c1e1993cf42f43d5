-- Assay's own Lua glue, loaded once per VM as the chunk "[assay]": frames from this chunk are
-- hidden from error positions and tracebacks. One chunk, so start-up parses Lua only once.
local FAIL, error, next, materialize = ...

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

-- Metatable of a lazy module's table until first use (see lazy.rs).
glue.stub = {
  __index = function(t, k) materialize(t) return t[k] end,
  __newindex = function(t, k, v) materialize(t) t[k] = v end,
  __call = function(t, ...) materialize(t) return t(...) end,
  __pairs = function(t) materialize(t) return next, t, nil end,
}

-- A function made by `make()` on its first call.
function glue.on_first_call(make)
  local real
  return function(...)
    real = real or make()
    return real(...)
  end
end

return glue
