-- A render that runs long moves off the script's thread (the script goes on: a ticker ticks),
-- and one that never ends fails after its work budget instead of spinning for ever.
local ticks, done = 0, false
local ticker = async.spawn(function()
  while not done do ticks = ticks + 1; sleep(0.005) end
end)
sleep(0.01)
local before = ticks
local out = template.render_string(
  "{% for i in range(100000) %}{% for j in range(30) %}{{ j }}{% endfor %}{% endfor %}")
done = true
ticker:await()
assert.eq(#out, 5000000)
assert.gt(ticks - before, 3, "the script went on while the render ran")
local ok, err = pcall(template.render_string,
  "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}")
assert.eq(ok, false)
assert.matches(err, "the render did more work or made more than one may")
print("long render ok")
