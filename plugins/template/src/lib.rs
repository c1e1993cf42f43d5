//! The `template` plugin: Jinja2 templates through minijinja.
//!
//! ```lua
//! local page = template.render("templates/index.html", {user = {name = "ada"}})
//! local text = template.render_string("Hello {{ name | upper }}!", {name = "ada"})
//! local env = template.env({dirs = {"templates"}, filters = {shout = function(s) return s .. "!" end}})
//! local manifest = env:render("deploy.yaml.j2", {replicas = 3})   -- parsed once, kept
//! ```
//!
//! - `template.render(path, vars, opts)`: `include`, `extends` and `import` resolve beside the
//!   file, then in `opts.dirs`; names stay inside those folders (no `..`).
//! - `template.render_string(src, vars, opts)`: the same from a string (named `<string>` in
//!   errors); its includes resolve in `opts.dirs` only.
//! - `template.env({dirs, filters, strict, autoescape})` -> an environment that keeps parsed
//!   templates: `env:render(name, vars)`, `env:render_string(src, vars)`.
//! - `opts`: `strict = true` raises on an undefined variable (by default it renders empty, as
//!   Jinja2's); `autoescape` forces HTML escaping on or off (by default `.html`, `.htm` and
//!   `.xml` names are escaped, as Jinja2's `select_autoescape`; `|safe` opts out);
//!   `filters = {name = function(value, ...) end}` adds Lua filters.
//! - Filters: minijinja's builtins (Jinja2's: default, upper, lower, title, trim, join, length,
//!   replace, tojson, indent, first, last, sort, unique, selectattr, rejectattr, map, dictsort,
//!   items, batch, round, int, float, ...), and `b64encode`, `b64decode`, `to_yaml` (Helm's
//!   `toYaml`), `to_json`.
//! - Errors name the template, the line and show that line:
//!   `index.html:3: undefined value: 'user' is undefined` + the line.
//! - The output counts against the script's memory limit; past it, the render fails.
//! - A render with Lua filters runs on a thread of its own (the filters run on the script's
//!   thread, in turn); one without runs where it is called.
//!
//! Under `--sandbox` the plugin is refused like every native plugin: `render_string` without
//! file access would be safe, but the sandbox's rule is that a sandboxed script loads no
//! native code at all.

mod engine;
mod filters;
mod render;
mod values;
mod yaml;

use assay_sdk::{Args, Result};

/// mimalloc for this library's own allocations: a render makes and drops many small values
/// (the variables converted, minijinja's own), and glibc's malloc and free took an eighth of
/// a render's time; with mimalloc the benchmark page renders 7 % faster (377 -> 404/s).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub use render::Env;

pub fn register(plugin: &mut assay_sdk::Plugin) {
    plugin
        .global("template")
        .async_function("render", |args: Args| render::file(args))
        .async_function("render_string", |args: Args| render::string(args))
        .function("env", |args: Args| -> Result<assay_sdk::Object> {
            render::env(args)
        });
}

assay_sdk::plugin!(register);
