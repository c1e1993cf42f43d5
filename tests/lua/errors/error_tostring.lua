-- test: exit 1
-- test: stderr ^custom failure 42
error(setmetatable({code = 42}, {__tostring = function(e) return "custom failure " .. e.code end}))
