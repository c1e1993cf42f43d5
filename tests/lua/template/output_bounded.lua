-- test: flags --memory-limit 8M
-- A render's output counts against the script's memory limit: past it, an error saying so.
local ok, err = pcall(template.render_string, "{% for i in range(100000) %}{{ 'x' * 1000 }}{% endfor %}")
assert.eq(ok, false)
assert.matches(err, "the output passes the memory limit of 8 MiB")
print("bounded ok")
