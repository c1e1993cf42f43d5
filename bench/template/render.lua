-- The template benchmark's assay side: renders page.html (a kept env) for `seconds`, and
-- prints RESULT <renders> <seconds>, or with "once" the page itself.
local dir, vars_path, seconds = arg[1], arg[2], tonumber(arg[3])
local vars = json.parse(fs.read(vars_path))
local env = template.env({dirs = {dir}})
if arg[3] == "once" then
  io.write(env:render("page.html", vars))
  return
end
for _ = 1, 20 do env:render("page.html", vars) end
local n, started = 0, time.monotonic()
while time.monotonic() - started < seconds do
  for _ = 1, 10 do env:render("page.html", vars) end
  n = n + 10
end
print(string.format("RESULT %d %.6f", n, time.monotonic() - started))
