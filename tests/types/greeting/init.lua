--- assay.greeting: a package of the test project's own, installed in its lua_modules/.

---@class greeting
local M = {}

---@class (exact) greeting.Options
---@field shout? boolean

---@param name string
---@param opts? greeting.Options
---@return string
function M.hello(name, opts)
  local text = "hello, " .. name
  if opts and opts.shout then text = text:upper() end
  return text
end

return M
