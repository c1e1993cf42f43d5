-- test: exit 1
-- test: stderr ^2000 spawned task\(s\) failed and were never awaited
-- test: stderr \(and 1990 more failed task\(s\)\)
-- A thousand failed tasks are summarized, not printed a thousand times.
for i = 1, 2000 do
  async.spawn(function() error("task " .. i .. " failed") end)
end
