//! The sandbox (`--sandbox`, check scripts): what DESIGN.md lists and nothing else.
//!
//! Kept: the pure standard libraries (`string`, `table`, `math`, `utf8`, `coroutine`, base
//! functions), `os.time/clock/date/difftime/getenv`, `require` of Lua source modules, and the
//! core builtins except `fs` and `env.set`, and of the plugins only the HTTP client
//! (`plugin::SANDBOX_FUNCTIONS`). Refused with "<name>: not available in sandbox":
//! all of `io` and `debug`, the rest of `os`, `package.loadlib`, C modules, `string.dump`,
//! `loadfile`, `dofile`, and binary chunks in `load`.

use mlua::{Function, Lua, Table, Value};

use crate::builtins::function::{INTERNAL_CHUNK, Raise, function};

const OS_KEPT: &[&str] = &["time", "clock", "date", "difftime", "getenv"];

fn refusal(lua: &Lua, name: &'static str) -> mlua::Result<Function> {
    function(lua, name, move |_, _| -> Result<(), Raise> {
        Err(Raise::msg("not available in sandbox"))
    })
}

/// A table whose every field raises, so `io.open(...)` fails by name rather than with
/// "attempt to index a nil value".
fn refusing_library(lua: &Lua, library: &'static str) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    let mt = lua.create_table()?;
    let index = function(lua, "sandbox", move |_, args| -> Result<(), Raise> {
        let field = args
            .string_like(2, "key")
            .unwrap_or_else(|_| "?".to_owned());
        Err(Raise::Positioned(format!(
            "{library}.{field} is not available in sandbox"
        )))
    })?;
    mt.raw_set("__index", index)?;
    mt.raw_set("__metatable", false)?;
    t.set_metatable(Some(mt))?;
    Ok(t)
}

pub fn apply(lua: &Lua) -> mlua::Result<()> {
    let g = lua.globals();
    g.raw_set("io", refusing_library(lua, "io")?)?;
    g.raw_set("debug", refusing_library(lua, "debug")?)?;

    let os: Table = g.raw_get("os")?;
    let names: Vec<String> = os
        .pairs::<String, Value>()
        .filter_map(|p| p.ok().map(|(k, _)| k))
        .collect();
    for name in names {
        if !OS_KEPT.contains(&name.as_str()) {
            let full: &'static str = Box::leak(format!("os.{name}").into_boxed_str());
            os.raw_set(name, refusal(lua, full)?)?;
        }
    }

    let string: Table = g.raw_get("string")?;
    string.raw_set("dump", refusal(lua, "string.dump")?)?;

    let package: Table = g.raw_get("package")?;
    package.raw_set("loadlib", refusal(lua, "package.loadlib")?)?;
    package.raw_set("cpath", "")?;

    g.raw_set("loadfile", refusal(lua, "loadfile")?)?;
    g.raw_set("dofile", refusal(lua, "dofile")?)?;
    let load: Function = g.raw_get("load")?;
    let text_only: Function = lua
        .load(
            "local load = ...\n\
             return function(chunk, name, mode, env)\n\
               if mode ~= nil and mode ~= 't' then\n\
                 error('load: binary chunks are not available in sandbox', 2)\n\
               end\n\
               return load(chunk, name, 't', env)\n\
             end",
        )
        .set_name(INTERNAL_CHUNK)
        .call(load)?;
    g.raw_set("load", text_only)
}
