-- test: stdout ^concurrent ok\n$
-- 50 process.run at once wait together: 50 children sleeping 1 s each end in about 1 s,
-- not 50 (the bound is generous for a busy machine; sequential would be 50 s).
local started = time.monotonic()
local tasks = {}
for i = 1, 50 do
  tasks[i] = async.spawn(function()
    return process.run({"sh", "-c", "sleep 1; echo " .. i}).stdout
  end)
end
local results = async.all(tasks)
for i = 1, 50 do assert.eq(results[i], i .. "\n") end
local took = time.monotonic() - started
assert(took < 15, "50 concurrent runs took " .. took .. " s")
print("concurrent ok")
