-- test: flags --memory-limit 16M
-- What a render makes on the way (set captures, macros, joins) is bounded too, not only its
-- output: a render that would make gigabytes stops with an error.
local ok, err = pcall(template.render_string, [[
{%- set ns = namespace(s="") -%}
{%- for i in range(100000) %}{% set ns.s = ns.s ~ ("x" * 1000) %}{% endfor -%}
{{ ns.s | length }}]])
assert.eq(ok, false)
assert.matches(err, "the render did more work or made more than one may")
print("made bounded ok")
