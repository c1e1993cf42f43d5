//! The sandbox (`--sandbox`, check scripts): what DESIGN.md lists and nothing else.
//!
//! Kept: the pure standard libraries (`string`, `table`, `math`, `utf8`, `coroutine`, base
//! functions), `os.time/clock/date/difftime/getenv` (`getenv` reads what `env.get` reads),
//! `require` of Lua source modules from the lib path and the script's folder, the core
//! builtins but `fs` and `env.set`, and of the plugins only the HTTP client
//! (`plugin::SANDBOX_FUNCTIONS`).
//!
//! Everything else is refused by name, wherever a script reaches for it: `io.open`,
//! `require("io").open`, `package.loaded.debug.getinfo`, `fs.read`, `crypto.hash`,
//! `os.execute`, `env.set`, `string.dump`, `loadfile`, `dofile`, `package.loadlib`,
//! `package.searchpath` all raise "`<name>` is not available in sandbox" at the caller's
//! position. `io` and `debug` are never opened in a sandboxed VM (so no reference to the real
//! libraries exists anywhere, `package.loaded` included), and the libraries that are opened
//! (`os`, `string`, `package`) are changed in place, so every path to them sees the change.
//!
//! Loading code: every chunk is text (`load` forces mode `"t"`, the resolver loads modules as
//! text, the main script too); `require` searches only `package.preload`, the lib path and the
//! script's folder, with names of letters, digits, `_` and `-` between dots (no absolute paths,
//! no `..`); Lua's own `package.path` and C searchers are removed, so `package.path` and
//! `package.cpath` are inert strings that point nowhere, whatever a script sets them to.

use mlua::{Function, Lua, Table, Value};

use crate::builtins::function::{INTERNAL_CHUNK, Raise, function};

/// `os` functions a sandboxed script keeps: clocks, dates, and the environment it may read.
const OS_KEPT: &[&str] = &["time", "clock", "date", "difftime", "getenv"];

/// Globals refused as a whole. `io` and `debug` are Lua's; `fs` is the core's; `process` is
/// the core's process builtin. The globals of the plugins Assay ships
/// ([`crate::plugin::absent::KNOWN_PLUGINS`]) are refused too, but the HTTP client's, even when
/// the plugin is not installed (plugins found on the lib path are refused the same way by the
/// plugin host).
const REFUSED_GLOBALS: &[&str] = &["io", "debug", "fs", "process"];

/// The refusal every sandboxed path leads to.
fn refused(name: &str) -> Raise {
    Raise::Positioned(format!("{name} is not available in sandbox"))
}

/// A function that refuses by `name` (`os.execute`).
fn refusal(lua: &Lua, name: &'static str) -> mlua::Result<Function> {
    let f = function(lua, name, move |_, _| -> Result<(), Raise> {
        Err(refused(name))
    })?;
    mark_refusal(lua, &f)?;
    Ok(f)
}

/// Where a sandboxed VM keeps its refusing functions (weak keys), so that `require` can tell a
/// package needing one that it is refused ([`refuses`]) without calling it.
const REFUSALS_KEY: &str = "assay.sandbox.refusals";

/// Records `f` as a function the sandbox put in place of a refused one.
pub fn mark_refusal(lua: &Lua, f: &Function) -> mlua::Result<()> {
    let refusals: Table = match lua.named_registry_value::<Option<Table>>(REFUSALS_KEY)? {
        Some(t) => t,
        None => {
            let t = lua.create_table()?;
            let mt = lua.create_table()?;
            mt.raw_set("__mode", "k")?;
            t.set_metatable(Some(mt))?;
            lua.set_named_registry_value(REFUSALS_KEY, &t)?;
            t
        }
    };
    refusals.raw_set(f, true)
}

/// Whether `value` is something the sandbox refuses: a refusing function, or a refusing
/// library (whose every field refuses).
pub fn refuses(lua: &Lua, value: &Value) -> bool {
    match value {
        Value::Function(f) => lua
            .named_registry_value::<Option<Table>>(REFUSALS_KEY)
            .ok()
            .flatten()
            .is_some_and(|t| t.raw_get::<bool>(f).unwrap_or(false)),
        Value::Table(t) => is_refusing_library(t),
        _ => false,
    }
}

/// Whether `t` is a library [`refusing_library`] made.
pub fn is_refusing_library(t: &Table) -> bool {
    t.metatable()
        .and_then(|mt| mt.raw_get::<Option<String>>("__name").ok().flatten())
        .is_some_and(|name| name.ends_with(REFUSING_SUFFIX))
}

/// The end of a refusing library's `__name`.
const REFUSING_SUFFIX: &str = " (not available in sandbox)";

/// A table whose every field refuses by name, so `io.open(...)` fails as "io.open is not
/// available in sandbox" rather than "attempt to index a nil value"; calling it or assigning
/// to it refuses too.
///
/// Each library has its own metatable (it carries the library's name), but every library of a
/// VM shares the same three handlers ([`RefusalHandlers`]), which read the name back from the
/// metatable: a sandboxed VM refuses a dozen libraries, and three functions each were a
/// quarter of what building such a VM took in time and Lua memory.
fn refusing_library(lua: &Lua, library: &'static str) -> mlua::Result<Table> {
    let handlers = RefusalHandlers::of(lua)?;
    let t = lua.create_table()?;
    let mt = lua.create_table_with_capacity(0, 6)?;
    mt.raw_set("__index", handlers.index)?;
    mt.raw_set("__newindex", handlers.newindex)?;
    mt.raw_set("__call", handlers.call)?;
    mt.raw_set("__name", format!("{library}{REFUSING_SUFFIX}"))?;
    mt.raw_set(LIBRARY_KEY, library)?;
    // Scripts cannot reach the metatable (nor so the library key): `getmetatable` gives false.
    mt.raw_set("__metatable", false)?;
    t.set_metatable(Some(mt))?;
    Ok(t)
}

/// Where a refusing library's metatable keeps the library's name.
const LIBRARY_KEY: &str = "library";

/// The `__index`, `__newindex` and `__call` of every refusing library of one VM.
#[derive(Clone)]
struct RefusalHandlers {
    index: Function,
    newindex: Function,
    call: Function,
}

impl RefusalHandlers {
    fn of(lua: &Lua) -> mlua::Result<Self> {
        if let Some(handlers) = lua.app_data_ref::<Self>() {
            return Ok(handlers.clone());
        }
        let field = |args: &crate::builtins::args::Args| {
            let name = args
                .string_like(2, "key")
                .unwrap_or_else(|_| "?".to_owned());
            refused(&format!("{}.{name}", library_of(&args.value(1))))
        };
        let handlers = Self {
            index: function(lua, "sandbox", move |_, args| -> Result<(), Raise> {
                Err(field(&args))
            })?,
            newindex: function(lua, "sandbox", move |_, args| -> Result<(), Raise> {
                Err(field(&args))
            })?,
            call: function(lua, "sandbox", move |_, args| -> Result<(), Raise> {
                Err(refused(&library_of(&args.value(1))))
            })?,
        };
        lua.set_app_data(handlers.clone());
        Ok(handlers)
    }
}

/// The name of the refusing library `value` (the first argument of its metamethods); its
/// metatable is read raw, past the `__metatable` field that hides it from scripts.
fn library_of(value: &Value) -> String {
    let name = match value {
        Value::Table(t) => t
            .metatable()
            .and_then(|mt| mt.raw_get::<String>(LIBRARY_KEY).ok()),
        _ => None,
    };
    name.unwrap_or_else(|| "this library".to_owned())
}

/// Installs global `name` as a refusing library, unless something already has the name (an
/// embedder's global stays the embedder's).
pub fn refuse_global(lua: &Lua, name: &str) -> mlua::Result<()> {
    if !lua.globals().raw_get::<Value>(name)?.is_nil() {
        return Ok(());
    }
    let name: &'static str = crate::plugin::intern(name);
    let library = refusing_library(lua, name)?;
    lua.globals().raw_set(name, library.clone())?;
    // `require("io")` finds the same refusal.
    let loaded: Table = lua
        .globals()
        .raw_get::<Table>("package")?
        .raw_get("loaded")?;
    loaded.raw_set(name, library)
}

pub fn apply(lua: &Lua) -> mlua::Result<()> {
    let g = lua.globals();
    let plugin_globals = crate::plugin::absent::KNOWN_PLUGINS
        .iter()
        .flat_map(|(_, globals)| globals.iter())
        .filter(|global| {
            !crate::plugin::SANDBOX_FUNCTIONS
                .iter()
                .any(|(g, _)| g == *global)
        });
    for name in REFUSED_GLOBALS.iter().chain(plugin_globals) {
        refuse_global(lua, name)?;
    }

    let os: Table = g.raw_get("os")?;
    let names: Vec<String> = os
        .pairs::<String, Value>()
        .filter_map(|p| p.ok().map(|(k, _)| k))
        .collect();
    for name in names {
        if !OS_KEPT.contains(&name.as_str()) {
            let full = crate::plugin::intern(&format!("os.{name}"));
            os.raw_set(name, refusal(lua, full)?)?;
        }
    }

    let string: Table = g.raw_get("string")?;
    string.raw_set("dump", refusal(lua, "string.dump")?)?;

    let package: Table = g.raw_get("package")?;
    package.raw_set("loadlib", refusal(lua, "package.loadlib")?)?;
    package.raw_set("searchpath", refusal(lua, "package.searchpath")?)?;
    package.raw_set("path", "")?;
    package.raw_set("cpath", "")?;
    // Only `package.preload` and Assay's searcher (lib path, script folder; text only). Lua's
    // own file searchers follow `package.path`/`cpath` anywhere and accept binary chunks.
    let searchers: Table = package.raw_get("searchers")?;
    let kept = lua.create_table()?;
    kept.raw_seti(1, searchers.raw_get::<Value>(1)?)?;
    kept.raw_seti(2, searchers.raw_get::<Value>(2)?)?;
    package.raw_set("searchers", kept)?;

    g.raw_set("loadfile", refusal(lua, "loadfile")?)?;
    g.raw_set("dofile", refusal(lua, "dofile")?)?;
    let load: Function = g.raw_get("load")?;
    let text_only: Function = lua
        .load(
            "local load, error = ...\n\
             return function(chunk, name, mode, env)\n\
               if mode ~= nil and mode ~= 't' then\n\
                 error('load: binary chunks are not available in sandbox', 2)\n\
               end\n\
               return load(chunk, name, 't', env)\n\
             end",
        )
        .set_name(INTERNAL_CHUNK)
        .call((load, g.raw_get::<Function>("error")?))?;
    g.raw_set("load", text_only)
}
