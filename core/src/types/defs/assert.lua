---@meta _
-- Assay core global: assert. Lua's own `assert(v, msg)` when called, and named checks whose
-- failures say what was expected and what came (argument order: actual, expected).
-- The checks are declared on a class that `assert` is given as its type: a global table would
-- lose to the standard library's `function assert` in the checker. The call's result is
-- `std.NotNull<T>` as in EmmyLua's own definition (`local n = assert(tonumber(s))` is a
-- number, not `number?`); lua-language-server does not know that type and leaves it unnarrowed.

---Lua's `assert(v, message, ...)`, plus the checks `assert.eq`, `assert.raises`, ...
---@class assay.assert
---@overload fun<T, T1>(v: T, ...: T1...): std.NotNull<T>, T1...
local checks = {}

---Deep equality for tables, with a readable diff.
---@param actual any
---@param expected any
---@param msg? string
function checks.eq(actual, expected, msg) end

---@param actual any
---@param other any
---@param msg? string
function checks.ne(actual, other, msg) end

---@param a number|string
---@param b number|string
---@param msg? string
function checks.gt(a, b, msg) end

---@param a number|string
---@param b number|string
---@param msg? string
function checks.ge(a, b, msg) end

---@param a number|string
---@param b number|string
---@param msg? string
function checks.lt(a, b, msg) end

---@param a number|string
---@param b number|string
---@param msg? string
function checks.le(a, b, msg) end

---A substring of a string, or an item of a list.
---@param haystack string|any[]
---@param needle any
---@param msg? string
function checks.contains(haystack, needle, msg) end

---`text` matches the regex `pat`.
---@param text string
---@param pat string
---@param msg? string
function checks.matches(text, pat, msg) end

---@param v any
---@param msg? string
function checks.not_nil(v, msg) end

---@param v any
---@param msg? string
function checks.is_nil(v, msg) end

---Calls `fn`, which must raise (an error matching the regex `pat`, when given); returns the
---error message.
---@param fn function
---@param pat? string
---@param msg? string
---@return string message
function checks.raises(fn, pat, msg) end

---@type assay.assert
assert = nil
