//! The native plugin host.
//!
//! At start-up [`install`] reads the manifests of every plugin on the lib path (no library is
//! opened) and installs each global a usable plugin provides as a lazy stub. The first touch of
//! such a global loads the plugin ([`load`]: dlopen, layout check, registration; once per
//! process) and fills the table with its functions ([`call`]). A refused plugin's globals are
//! stubs too, whose first touch raises the one-line refusal, so only scripts that use the
//! plugin fail. Values cross as [`assay_sdk::Value`] ([`bridge`]); objects become userdata
//! ([`object`]); Lua functions become callbacks ([`callback`]). A global of a known plugin that
//! is not installed stays nil, and a script that fails for it hears which plugin it lacks
//! ([`absent`]). Under `-v` (debug logging) the lib path, every plugin found (usable, or why
//! not) and every plugin loaded are logged ([`report`]).

pub mod absent;
mod bridge;
mod call;
mod callback;
pub mod discovery;
#[cfg(target_os = "linux")]
mod elf;
mod glue;
mod host;
pub mod load;
mod object;
mod passed_back;
mod reactor;
mod report;

use std::collections::HashSet;
use std::rc::Rc;
use std::sync::Mutex;

use assay_manifest::is_lua_name;
use mlua::{Lua, Table};

pub use discovery::{Found, Status, discover};

use crate::LibPath;
use crate::builtins::function::Raise;
use crate::builtins::lazy;

/// Globals the core and Lua own; a plugin may not provide them.
#[rustfmt::skip]
pub const CORE_GLOBALS: &[&str] = &[
    // Assay's builtins
    "json", "yaml", "toml", "base64", "regex", "env", "log", "time", "assert", "async", "fs",
    "sleep", "arg",
    "url", "uuid", "hex", "compress", "process",
    // Lua's libraries and base functions
    "string", "table", "math", "io", "os", "coroutine", "utf8", "debug", "package", "_G",
    "_VERSION", "collectgarbage", "dofile", "error", "getmetatable", "ipairs", "load",
    "loadfile", "next", "pairs", "pcall", "print", "rawequal", "rawget", "rawlen", "rawset",
    "require", "select", "setmetatable", "tonumber", "tostring", "type", "warn", "xpcall",
];

/// Which plugin functions a VM gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// Every global of every usable plugin.
    Full,
    /// DESIGN.md's sandbox: only [`SANDBOX_FUNCTIONS`]; the other functions of those globals
    /// raise "<global>.<fn> is not available in sandbox", and so does every function of other
    /// plugins' globals.
    Sandbox,
}

/// The plugin functions a sandboxed script may call: the HTTP client (checks probe services),
/// not the server.
pub const SANDBOX_FUNCTIONS: &[(&str, &[&str])] = &[(
    "http",
    &["get", "post", "put", "patch", "delete", "request", "client"],
)];

fn sandbox_allowed(global: &str) -> Option<&'static [&'static str]> {
    SANDBOX_FUNCTIONS
        .iter()
        .find(|(name, _)| *name == global)
        .map(|(_, functions)| *functions)
}

/// Installs a lazy stub for every global of every plugin found on `lib_path` (in the sandbox,
/// for the globals of [`SANDBOX_FUNCTIONS`] only).
pub fn install(lua: &Lua, lib_path: &LibPath, profile: Profile) -> mlua::Result<()> {
    let found = discover(lib_path, CORE_GLOBALS);
    report::found(lua, lib_path, &found);
    absent::remember(lua, lib_path, &found);
    for plugin in found {
        let refusal = match &plugin.status {
            Status::Usable => None,
            Status::Refused(why) => Some(why.clone()),
            Status::Shadowed { .. } => continue,
        };
        // An unreadable manifest names no globals; its folder's name is the best guess, so a
        // script using the plugin hears why it cannot have it.
        let provides = match plugin.manifest() {
            Some(manifest) => manifest.provides.clone(),
            None => vec![plugin.name.clone()],
        };
        let plugin = Rc::new(plugin.clone());
        for global in &provides {
            if !is_lua_name(global) {
                continue;
            }
            let allowed = match profile {
                Profile::Full => None,
                Profile::Sandbox => match sandbox_allowed(global) {
                    Some(functions) => Some(functions),
                    None => {
                        crate::vm::sandbox::refuse_global(lua, global)?;
                        continue;
                    }
                },
            };
            // A name already taken (by the core, an embedder, or an earlier plugin) stays its
            // owner's; discovery has refused the plugin for it where that was foreseeable.
            if !lua
                .globals()
                .raw_get::<mlua::Value>(global.as_str())?
                .is_nil()
            {
                continue;
            }
            let (plugin, refusal, global_name) = (plugin.clone(), refusal.clone(), global.clone());
            lazy::global_with(
                lua,
                global,
                Rc::new(move |lua, table| match &refusal {
                    Some(why) => Err(mlua::Error::runtime(absent::refused(
                        &global_name,
                        &plugin.name,
                        why,
                    ))),
                    None => fill(lua, table, &plugin, &global_name, allowed),
                }),
            )?;
        }
    }
    Ok(())
}

/// Loads the plugin (if no other global of it has) and fills `table` with `global`'s functions;
/// with `allowed`, the others are refusals.
fn fill(
    lua: &Lua,
    table: &Table,
    plugin: &Found,
    global: &str,
    allowed: Option<&[&str]>,
) -> mlua::Result<()> {
    let manifest = plugin
        .manifest()
        .ok_or_else(|| mlua::Error::runtime(format!("plugin '{}': no manifest", plugin.name)))?;
    let started = std::time::Instant::now();
    let loaded = load::load(&plugin.dir, manifest);
    report::loaded(lua, plugin, &loaded, started.elapsed());
    let loaded =
        loaded.map_err(|why| mlua::Error::runtime(absent::refused(global, &plugin.name, &why)))?;
    let entry = loaded
        .registration
        .globals
        .iter()
        .find(|g| g.name.as_str() == global)
        .ok_or_else(|| {
            mlua::Error::runtime(format!(
                "plugin '{}' does not provide '{global}'",
                plugin.name
            ))
        })?;
    for function in entry.functions.as_slice() {
        let name = intern(&format!("{global}.{}", function.name));
        let f = match allowed {
            Some(allowed) if !allowed.contains(&function.name.as_str()) => {
                let refusal = crate::builtins::function::function(
                    lua,
                    name,
                    move |_, _| -> Result<(), Raise> {
                        Err(Raise::Positioned(format!(
                            "{name} is not available in sandbox"
                        )))
                    },
                )?;
                crate::vm::sandbox::mark_refusal(lua, &refusal)?;
                refusal
            }
            _ => call::lua_function(lua, name, function.callable, call::Receiver::None)?,
        };
        table.raw_set(function.name.as_str(), f)?;
    }
    Ok(())
}

/// Function names live as long as the process, like the plugins they name; each distinct name
/// is stored once, however many VMs use it.
pub(crate) fn intern(name: &str) -> &'static str {
    static NAMES: Mutex<Option<HashSet<&'static str>>> = Mutex::new(None);
    let mut names = NAMES
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let set = names.get_or_insert_with(HashSet::new);
    match set.get(name) {
        Some(existing) => existing,
        None => {
            let leaked: &'static str = Box::leak(name.to_owned().into_boxed_str());
            set.insert(leaked);
            leaked
        }
    }
}

/// Marks a run of the VM under way until dropped; Lua functions handed to plugins during it
/// are dispatched on `local` (see [`callback`]), and a plugin that runs its I/O on the VM's
/// thread is driven while the run waits ([`reactor`]). Drop it before `local`.
pub fn begin_run<'a>(lua: &'a Lua, local: &tokio::task::LocalSet) -> RunGuard<'a> {
    RunGuard {
        reactor: reactor::Run::begin(lua, local),
        _callbacks: callback::Run::begin(lua, local),
    }
}

/// A run under way (see [`begin_run`]).
pub struct RunGuard<'a> {
    _callbacks: callback::Run<'a>,
    reactor: reactor::Run,
}

impl RunGuard<'_> {
    /// The run's future, polled so that any wake-up also ends a wait in a plugin's reactor.
    pub fn watch<F: std::future::Future>(&self, future: F) -> reactor::Watched<F> {
        self.reactor.watch(future)
    }
}

/// The executor's park hook (see [`reactor`]): with nothing to run, wait in the bound
/// plugin's reactor.
pub fn on_idle() {
    reactor::idle();
}
