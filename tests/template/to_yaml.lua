-- Writes tests/template/yaml_cases.json through the plugin's `to_yaml` (arg[1]: the cases,
-- arg[2]: where to write the YAML), for tests/conformance/yaml_check.py to read back.
local cases = json.parse(fs.read(arg[1]))
fs.write(arg[2], template.render_string("{{ cases | to_yaml }}", {cases = cases}))
