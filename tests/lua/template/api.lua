-- The template plugin's API: files and their includes, options, filters of our own, Lua
-- filters, and errors that name the template, the line and show it.

-- a file: extends and include resolve beside it; .html autoescapes
assert.eq(template.render("files/page.html", {who = "<ada>"}), "<body><p>&lt;ada&gt;</p></body>")
-- opts.dirs is searched after the file's folder; autoescape forced off
assert.eq(template.render_string('{% include "note.txt" %}', {who = "<b>"}, {dirs = {"files/shared"}}),
  "[shared <b>]")
assert.eq(template.render_string("{{ x }}", {x = "<i>"}, {autoescape = true}), "&lt;i&gt;")
assert.eq(template.render("files/page.html", {who = "<b>"}, {autoescape = false}), "<body><p><b></p></body>")

-- names stay inside the template folders
local ok, err = pcall(template.render_string, '{% include "../api.lua" %}', {}, {dirs = {"files"}})
assert.matches(err, "template name '../api.lua' leaves the template folders")
ok, err = pcall(template.render_string, '{% include "/etc/passwd" %}', {}, {dirs = {"files"}})
assert.matches(err, "leaves the template folders")
ok, err = pcall(template.render, "files/missing.html")
assert.matches(err, "files/missing.html: no such template file")

-- undefined: empty by default, an error naming it with strict
assert.eq(template.render_string("[{{ nope }}]"), "[]")
ok, err = pcall(template.render_string, "a\n{{ nope }}", {}, {strict = true})
assert.matches(err, "<string>:2: undefined value: `nope` is undefined\n    \\{\\{ nope \\}\\}")

-- errors carry the template's name and line, and the line
ok, err = pcall(template.render, "files/bad.j2")
assert.eq(ok, false)
assert.matches(err, "^api.lua:\\d+: template.render: bad.j2:2: syntax error")
assert.matches(err, "\n    \\{\\{ broken\\($")

-- our filters: b64, to_json (no HTML escaping), to_yaml as Helm writes manifests
assert.eq(template.render_string("{{ s | b64encode }} {{ 'aGk=' | b64decode }}", {s = "hé"}), "aMOp hi")
assert.eq(template.render_string("{{ v | to_json }}", {v = {a = {1, 2}, b = "<x>"}}), '{"a":[1,2],"b":"<x>"}')
local yaml = template.render_string("spec:\n  {{ spec | to_yaml | indent(2) }}", {spec = {
  replicas = 3, selector = {app = "web"}, tags = {"a", "yes"}, empty = {}, note = "line 1\nline 2", nl = "ends\n",
}})
assert.eq(yaml, "spec:\n  empty: {}\n  nl: \"ends\\n\"\n  note: |-\n    line 1\n    line 2\n  replicas: 3\n  selector:\n    app: web\n  tags:\n  - a\n  - \"yes\"")

-- Lua filters: called with the value and the arguments; an error names the filter
local calls = 0
local opts = {filters = {
  shout = function(s, times) calls = calls + 1 return s:upper() .. ("!"):rep(times or 1) end,
  fail = function() error("no way") end,
}}
assert.eq(template.render_string("{{ 'hey' | shout(3) }} {{ 'x' | shout }}", {}, opts), "HEY!!! X!")
assert.eq(calls, 2)
ok, err = pcall(template.render_string, "{{ 1 | fail }}", {}, opts)
assert.matches(err, "filter fail: .*no way")
ok, err = pcall(template.render_string, "x", {}, {filters = {shout = "not a function"}})
assert.matches(err, "'shout' is not a function")

-- a kept environment: templates parsed once, filters and strictness kept
local env = template.env({dirs = {"files"}, filters = opts.filters, strict = true})
for _ = 1, 3 do assert.eq(env:render("row.html", {who = "w"}), "<p>w</p>") end
assert.eq(env:render_string("{{ 'a' | shout }}"), "A!")
ok, err = pcall(env.render, env, "row.html", {})
assert.matches(err, "undefined value")

-- bad arguments
ok, err = pcall(template.render_string, "x", {1, 2})
assert.matches(err, "bad argument #2 'vars' \\(table of names expected")
ok, err = pcall(template.render_string, "x", {f = function() end})
assert.matches(err, "vars: a function cannot be passed to a template")
ok, err = pcall(template.render_string, "x", {}, {unknown = 1})
assert.eq(ok, false)
print("template api ok")
