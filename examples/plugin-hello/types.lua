---@meta _
-- The hello plugin's API for editors and type checkers (LuaCATS). The build places this file
-- beside the plugin's manifest; `assay types` copies it into a project's .assay/types.

---@class hello
hello = {}

---A counter object.
---@class hello.Counter
---@field value integer The current value.
local Counter = {}

---Adds `n` (default 1); returns the new value.
---@param n? integer
---@return integer
function Counter:add(n) end

---@return integer
function Counter:get() end

---@param name string
---@return string greeting `"hello, <name>!"`
function hello.greet(name) end

---Returns `value` after `seconds` (the calling coroutine waits, the others run).
---@generic T
---@param seconds number
---@param value T
---@return T
function hello.after(seconds, value) end

---@param start? integer
---@return hello.Counter
function hello.counter(start) end

---How many counters have been dropped.
---@return integer
function hello.dropped() end

---The list of `fn(item)` results.
---@param list any[]
---@param fn fun(item: any): any
---@return any[]
function hello.each(list, fn) end
