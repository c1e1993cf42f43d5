//! Saying which plugin a script is missing.
//!
//! Without help, `--lib-path /nowhere -e 'crypto.hash("x")'` dies of Lua's own
//! `attempt to index a nil value (global 'crypto')`, which does not tell a user that `crypto`
//! comes from a plugin, nor where Assay looked for it.
//!
//! **Decision.** A global whose plugin is not installed stays nil: `if crypto then ... end` is
//! false (the feature test Lua scripts write, like `typeof x !== "undefined"` in Node or Deno),
//! `rawget(_G, "crypto")` is nil, and `_G` gets no metatable, so strict-mode code (a `__index`
//! on `_G` that raises for undeclared names), the sandbox and Lua's own test files see exactly
//! what `lua` shows them. What changes is the report of a script that fails because of it: when
//! the error that ends a run (the main chunk, a spawned task, a server's handler; every failure
//! that goes through [`crate::vm::traced`]) says a global of a plugin Assay knows (the ones it
//! ships: [`KNOWN_PLUGINS`]) is nil, the report adds which plugin provides it and the lib path
//! searched:
//!
//! ```text
//! (command line):1: attempt to index a nil value (global 'crypto'); `crypto` is provided by the
//! plugin 'crypto', which is not installed (lib path: /nowhere)
//! ```
//!
//! An error a script catches with `pcall` keeps Lua's own text, as under `lua`. Names no known
//! plugin provides get nothing added (a typo is a typo).
//!
//! `require("crypto")` (as a Node user would write `require("crypto")`) fails as for any
//! missing module, and its list of places searched starts with a line saying that `crypto` is
//! the global of a plugin, to use without `require`, and whether that plugin is installed.
//!
//! A plugin that is on the lib path but refused (a core or ABI version it does not fit, a
//! library that does not load) is different: its globals exist, and their first use raises
//! [`refused`], saying the plugin was refused and why. An installed plugin that does not work is
//! a fault to hear about, not an optional feature to test for; `assay plugins` and `-v` list
//! every plugin found and why it is refused.

use std::collections::HashMap;

use mlua::Lua;

use super::{Found, Status};
use crate::LibPath;

/// The plugins Assay ships, and the globals each provides.
pub const KNOWN_PLUGINS: &[(&str, &[&str])] = &[
    ("http", &["http", "oci"]),
    ("db", &["db"]),
    ("ws", &["ws"]),
    ("crypto", &["crypto"]),
    ("template", &["template"]),
];

/// Which plugin provides each plugin global, per VM.
struct PluginGlobals {
    /// Global -> the known plugin that would provide it, for those no plugin found provides.
    absent: HashMap<String, String>,
    /// Global -> the plugin found on the lib path that provides it (usable or not).
    found: HashMap<String, String>,
    /// The lib path as the user would write it (`:`-separated).
    lib_path: String,
}

impl PluginGlobals {
    fn searched(&self) -> String {
        match self.lib_path.as_str() {
            "" => "the lib path is empty".to_owned(),
            roots => format!("lib path: {roots}"),
        }
    }
}

/// Remembers which plugin provides each global, from the plugins `discover` found on
/// `lib_path` (usable or refused; a shadowed one provides nothing).
pub fn remember(lua: &Lua, lib_path: &LibPath, plugins: &[Found]) {
    let mut found = HashMap::new();
    for plugin in plugins {
        if matches!(plugin.status, Status::Shadowed { .. }) {
            continue;
        }
        // An unreadable manifest names no globals: its folder's name is the best guess.
        let globals = match plugin.manifest() {
            Some(manifest) => manifest.provides.clone(),
            None => vec![plugin.name.clone()],
        };
        for global in globals {
            found.entry(global).or_insert_with(|| plugin.name.clone());
        }
    }
    remember_globals(lua, lib_path, found);
}

/// Like [`remember`], from a map of each found global to its plugin; the known plugins' other
/// globals are absent.
fn remember_globals(lua: &Lua, lib_path: &LibPath, found: HashMap<String, String>) {
    let absent = KNOWN_PLUGINS
        .iter()
        .flat_map(|(plugin, globals)| globals.iter().map(move |g| (*g, *plugin)))
        .filter(|(global, _)| !found.contains_key(*global))
        .map(|(global, plugin)| (global.to_owned(), plugin.to_owned()))
        .collect();
    let lib_path = lib_path
        .roots()
        .iter()
        .map(|r| r.display().to_string())
        .collect::<Vec<_>>()
        .join(":");
    lua.set_app_data(PluginGlobals {
        absent,
        found,
        lib_path,
    });
}

/// A line for the message of a failed `require(name)`, when `name` is a plugin's global.
pub fn require_hint(lua: &Lua, name: &str) -> Option<String> {
    let globals = lua.app_data_ref::<PluginGlobals>()?;
    if let Some(plugin) = globals.found.get(name) {
        return Some(format!(
            "`{name}` is not a module: it is the global of the plugin '{plugin}'; use it \
             without require"
        ));
    }
    let plugin = globals.absent.get(name)?;
    Some(format!(
        "`{name}` is not a module: it is the global of the plugin '{plugin}', which is not \
         installed ({})",
        globals.searched()
    ))
}

/// `message` with the missing plugin explained, when it says a known plugin's global is nil.
pub fn explain(lua: &Lua, message: String) -> String {
    let Some(global) = nil_global(&message) else {
        return message;
    };
    let Some(globals) = lua.app_data_ref::<PluginGlobals>() else {
        return message;
    };
    let Some(plugin) = globals.absent.get(global) else {
        return message;
    };
    format!(
        "{message}; `{global}` is provided by the plugin '{plugin}', which is not installed \
         ({})",
        globals.searched()
    )
}

/// The global a Lua type error names as nil: `... a nil value (global 'crypto')` (to index,
/// call, concatenate, ...). Lua says `field` rather than `global` for `_G.crypto`, `t.crypto`.
fn nil_global(message: &str) -> Option<&str> {
    let (_, rest) = message.rsplit_once(" a nil value (global '")?;
    let name = rest.strip_suffix("')")?;
    (!name.contains('\'')).then_some(name)
}

/// The error of a refused plugin's global: which plugin, that it was refused, and why (`why`
/// is the one-line refusal, naming the plugin and its version).
pub fn refused(global: &str, plugin: &str, why: &str) -> String {
    format!("`{global}` is provided by the plugin '{plugin}', which was refused: {why}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_nil_globals_are_recognised() {
        let cases = [
            (
                "x:1: attempt to index a nil value (global 'crypto')",
                Some("crypto"),
            ),
            ("x:1: attempt to call a nil value (global 'db')", Some("db")),
            (
                "attempt to concatenate a nil value (global 'ws')",
                Some("ws"),
            ),
            ("x:1: attempt to index a nil value (field 'crypto')", None),
            ("x:1: attempt to index a nil value (local 'crypto')", None),
            (
                "x:1: attempt to index a number value (global 'crypto')",
                None,
            ),
            (
                "x:1: attempt to index a nil value (global 'crypto') later",
                None,
            ),
            ("crypto", None),
        ];
        for (message, want) in cases {
            assert_eq!(nil_global(message), want, "{message}");
        }
    }

    #[test]
    fn known_globals_that_nothing_provides_are_explained() {
        let lua = Lua::new();
        let message = |text: &str| explain(&lua, text.to_owned());
        let index = "x:1: attempt to index a nil value (global 'crypto')";
        // Before `remember_globals`, nothing is known.
        assert_eq!(message(index), index);
        let found = HashMap::from([("http".to_owned(), "http".to_owned())]);
        remember_globals(&lua, &LibPath::parse("/nowhere:/opt/lib"), found);
        assert_eq!(
            message(index),
            "x:1: attempt to index a nil value (global 'crypto'); `crypto` is provided by the \
             plugin 'crypto', which is not installed (lib path: /nowhere:/opt/lib)"
        );
        // Provided by a plugin found on the lib path, or known to no plugin: unchanged.
        for untouched in [
            "x:1: attempt to index a nil value (global 'http')",
            "x:1: attempt to index a nil value (global 'cryptoo')",
        ] {
            assert_eq!(message(untouched), untouched);
        }
        remember_globals(&lua, &LibPath::parse(""), HashMap::new());
        assert!(
            message("x:1: attempt to call a nil value (global 'template')")
                .ends_with("which is not installed (the lib path is empty)")
        );
    }

    #[test]
    fn require_of_a_plugin_global_says_what_it_is() {
        let lua = Lua::new();
        let found = HashMap::from([("hello".to_owned(), "hello-plugin".to_owned())]);
        remember_globals(&lua, &LibPath::parse("/opt/lib"), found);
        assert_eq!(
            require_hint(&lua, "hello").as_deref(),
            Some(
                "`hello` is not a module: it is the global of the plugin 'hello-plugin'; use it without require"
            )
        );
        assert_eq!(
            require_hint(&lua, "db").as_deref(),
            Some(
                "`db` is not a module: it is the global of the plugin 'db', which is not installed (lib path: /opt/lib)"
            )
        );
        assert_eq!(require_hint(&lua, "yaml"), None);
    }
}
