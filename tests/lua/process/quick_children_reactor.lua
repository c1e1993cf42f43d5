-- test: stdout ^300 children ok\n$
-- With a plugin's reactor bound to the VM's thread (the http plugin loaded) and nothing else
-- waking the VM, each child's end must still wake it: a wake-up from the process thread that
-- arrived just as the VM went to wait in the reactor was lost, and the script hung for good
-- on about one child in fifty (no interval ticking here, on purpose).
local _ = http.client
for i = 1, 300 do
  local r = process.run({"sh", "-c", "echo " .. i}, {timeout = 10})
  assert.eq(r.stdout, i .. "\n")
end
print("300 children ok")
