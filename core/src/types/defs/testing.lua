---@meta _
-- Assay test runner (`assay test`): the functions a test file sees.

---Defines a test case.
---@param name string
---@param fn fun()
function test(name, fn) end

---Groups cases (names are joined with " › ").
---@param name string
---@param fn fun()
function describe(name, fn) end

---Runs `fn` before each case of this file or describe block.
---@param fn fun()
function before_each(fn) end

---Runs `fn` after each case of this file or describe block.
---@param fn fun()
function after_each(fn) end
