-- test: exit 1
-- test: stderr (?m)^2000 spawned task\(s\) failed and were never awaited
-- test: stderr \(10 shown above as they failed\)
-- test: stderr \(and 1980 more failed task\(s\)\)
-- Two thousand failed tasks: ten are shown as they fail (at most ten a minute), the rest are
-- summarized when the program ends, not printed two thousand times.
for i = 1, 2000 do
  async.spawn(function() error("task " .. i .. " failed") end)
end
