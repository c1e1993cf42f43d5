-- test: exit 1
-- test: stderr not enough memory: the script exceeded its memory limit of 128 MiB
-- Allocating without bound ends with a clean memory error, not an abort or an OOM kill.
local t = {}
while true do
  t[#t + 1] = string.rep("x", 1024) .. #t
end
