-- Renders every template of the corpus folder (arg[1]) with the template plugin, with the
-- variables of its vars.json, and prints a JSON object: name -> output, or {error = text}.
-- (tests/template/conformance.rs compares it with Jinja2's.)
local dir = arg[1]
local vars = json.parse(fs.read(dir .. "/vars.json"))
local env = template.env({dirs = {dir}})
local out = {}
for _, name in ipairs(fs.list(dir)) do
  if name ~= "vars.json" and not name:match("^inc_") and not name:match("^macros") then
    local ok, result = pcall(env.render, env, name, vars)
    out[name] = ok and result or {error = result}
  end
end
print(json.encode(out))
