-- Runs json.parse on every JSONTestSuite case in the folder arg[1] and prints, one per line,
-- `<case name>\t<accepted|refused>`; conformance.rs checks the verdicts against the names.
local dir = assert(arg[1], "usage: json_test_suite.lua DIR")
for _, name in ipairs(fs.list(dir)) do
  if name:match("%.json$") then
    local ok = pcall(json.parse, fs.read(dir .. "/" .. name))
    print(name .. "\t" .. (ok and "accepted" or "refused"))
  end
end
