-- Templates and data an attacker would write: widths that would allocate without end, links
-- out of the template folder, special files, numbers Python reads its own way, renders that
-- nest without end. Each is an error naming what was wrong (or Jinja2's answer), never a
-- crash of the process.

-- widths taken from data: refused before anything is allocated
for _, src in ipairs({"{{ 'x' | center(10**18) }}", "{{ 'a\nb' | indent(10**18) }}",
    "{{ '{:>999999999999}'.format(1) }}", "{{ '%999999999d' | format(1) }}"}) do
  local ok, err = pcall(template.render_string, src)
  assert.eq(ok, false, src)
  assert.matches(err, "a width of \\d+ is more than 1048576")
end
assert.eq(template.render_string("[{{ 'abc' | center(8) }}]"), "[  abc   ]")
assert.eq(template.render_string("{{ 'a\nb\n\nc' | indent('> ') }}"), "a\n> b\n\n> c")

-- a link in the template folder that points out of it is refused; a directory or a FIFO
-- as a template is not "not found"
local dir = fs.tempdir()
fs.mkdir(dir .. "/t")
fs.write(dir .. "/secret.txt", "secret")
fs.write(dir .. "/t/ok.txt", "fine")
assert.eq(process.run({"ln", "-s", "../secret.txt", dir .. "/t/link.txt"}).ok, true)
assert.eq(process.run({"mkfifo", dir .. "/t/fifo.txt"}).ok, true)
fs.mkdir(dir .. "/t/sub.txt")
assert.eq(template.render_string('{% include "ok.txt" %}', {}, {dirs = {dir .. "/t"}}), "fine")
local ok, err = pcall(template.render_string, '{% include "link.txt" %}', {}, {dirs = {dir .. "/t"}})
assert.matches(err, "template 'link.txt' is a link out of its folder")
for _, name in ipairs({"fifo.txt", "sub.txt"}) do
  ok, err = pcall(template.render_string, '{% include "' .. name .. '" %}', {}, {dirs = {dir .. "/t"}})
  assert.matches(err, "template '" .. name .. "' \\(.*\\) is not a regular file")
end
fs.remove(dir, {recursive = true})

-- numbers as Python prints and reads them
assert.eq(template.render_string("{{ a }} {{ b }} {{ c }} {{ d }}", {a = 1e20, b = 1e-7, c = 3.0, d = 0.1}),
  "1e+20 1e-07 3.0 0.1")
assert.eq(template.render_string("{{ '0b101' | int(base=16) }} {{ '-0x1F' | int(base=16) }} {{ '0o17' | int(base=0) }} {{ '12' | int(base=1) }} {{ '12' | int(base=37) }}"),
  "45313 -31 15 0 0")

-- filter names the template syntax can name, nothing else
for _, name in ipairs({"fé", "1f", "a-b", ""}) do
  ok, err = pcall(template.render_string, "x", {}, {filters = {[name] = function() end}})
  assert.matches(err, "names that are identifiers")
end

-- a Lua filter that renders a template with itself, without end, is stopped
local filters = {}
filters.again = function(n) return template.render_string("{{ n | again }}", {n = n}, {filters = filters}) end
ok, err = pcall(template.render_string, "{{ 1 | again }}", {}, {filters = filters})
assert.eq(ok, false)
assert.matches(err, "more than 64 renders at once")
print("hostile ok")
