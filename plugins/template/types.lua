---@meta _
-- The template plugin: Jinja2 templates through minijinja (LuaCATS definitions, copied by
-- `assay types`).

---@class assay.template
template = {}

---@class (exact) assay.template.Options
---@field dirs? string[] Folders `include`, `extends` and `import` look in.
---@field filters? table<string, fun(value: any, ...: any): any> Lua filters.
---@field strict? boolean Raise on an undefined variable.
---@field autoescape? boolean Force HTML escaping on or off (default: by the name's extension).

---An environment that keeps parsed templates.
---@class assay.template.Env
local Env = {}

---@param name string
---@param vars? table<string, any>
---@return string
function Env:render(name, vars) end

---@param src string
---@param vars? table<string, any>
---@return string
function Env:render_string(src, vars) end

---Renders the template file at `path`.
---@param path string
---@param vars? table<string, any>
---@param opts? assay.template.Options
---@return string
function template.render(path, vars, opts) end

---Renders a template given as text.
---@param src string
---@param vars? table<string, any>
---@param opts? assay.template.Options
---@return string
function template.render_string(src, vars, opts) end

---@param opts? assay.template.Options
---@return assay.template.Env
function template.env(opts) end
