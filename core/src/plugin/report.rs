//! What `-v` (debug logging) says about plugins: the lib path, every plugin found with whether
//! it is usable (or why not), and every plugin loaded (from which library, in how long). The
//! lines go through the VM's log, so `ASSAY_LOG_FORMAT=json` makes them JSON; nothing is
//! built when debug lines are off.
//!
//! ```text
//! ... DEBUG lib path roots=/opt/lib:/nowhere missing=/nowhere plugins=2
//! ... DEBUG plugin found name=crypto version=0.1.0 status=usable provides=crypto dir=/opt/lib/plugins/crypto
//! ... DEBUG plugin found name=old version=0.1.0 status=refused reason="plugin 'old' 0.1.0 requires ..." ...
//! ... DEBUG plugin loaded name=crypto version=0.1.0 library=/opt/lib/plugins/crypto/libassay_plugin_crypto.so ms=0.4
//! ```

use std::cell::RefCell;
use std::collections::HashSet;
use std::time::Duration;

use mlua::Lua;
use serde_json::Value as Json;

use super::{Found, Status, load};
use crate::LibPath;
use crate::builtins::log::{self, Level};

/// The lib path and every plugin `discover` found on it.
pub fn found(lua: &Lua, lib_path: &LibPath, found: &[Found]) {
    if !log::enabled(lua, Level::Debug) {
        return;
    }
    let roots = lib_path.roots();
    let joined = |paths: Vec<String>| paths.join(":");
    let missing: Vec<String> = roots
        .iter()
        .filter(|r| !r.is_dir())
        .map(|r| r.display().to_string())
        .collect();
    let mut fields = vec![(
        "roots",
        Json::from(match roots.is_empty() {
            true => "(empty)".to_owned(),
            false => joined(roots.iter().map(|r| r.display().to_string()).collect()),
        }),
    )];
    if !missing.is_empty() {
        fields.push(("missing", Json::from(joined(missing))));
    }
    fields.push(("plugins", Json::from(found.len())));
    log::runtime(lua, Level::Debug, "lib path", fields);
    for plugin in found {
        let mut fields = identity(plugin);
        match &plugin.status {
            Status::Usable => fields.push(("status", Json::from("usable"))),
            Status::Refused(why) => {
                fields.push(("status", Json::from("refused")));
                fields.push(("reason", Json::from(why.as_str())));
            }
            Status::Shadowed { by } => {
                fields.push(("status", Json::from("shadowed")));
                fields.push(("shadowed_by", Json::from(by.display().to_string())));
            }
        }
        if let Some(manifest) = plugin.manifest() {
            fields.push(("provides", Json::from(manifest.provides.join(","))));
        }
        fields.push(("dir", Json::from(plugin.dir.display().to_string())));
        log::runtime(lua, Level::Debug, "plugin found", fields);
    }
}

/// A plugin's name and, when its manifest could be read, its version.
fn identity(plugin: &Found) -> Vec<(&'static str, Json)> {
    let mut fields = vec![("name", Json::from(plugin.name.as_str()))];
    if let Some(manifest) = plugin.manifest() {
        fields.push(("version", Json::from(manifest.version.to_string())));
    }
    fields
}

/// Plugins already reported as loaded (or refused at load) in this VM: a plugin with several
/// globals is loaded once.
#[derive(Default)]
struct Reported(RefCell<HashSet<String>>);

/// The outcome of loading `plugin`'s library, once per plugin and VM.
pub fn loaded(
    lua: &Lua,
    plugin: &Found,
    outcome: &Result<std::sync::Arc<load::Loaded>, String>,
    took: Duration,
) {
    if !log::enabled(lua, Level::Debug) {
        return;
    }
    if lua.app_data_ref::<Reported>().is_none() {
        lua.set_app_data(Reported::default());
    }
    let first = lua
        .app_data_ref::<Reported>()
        .is_some_and(|r| r.0.borrow_mut().insert(plugin.name.clone()));
    if !first {
        return;
    }
    let mut fields = identity(plugin);
    match outcome {
        Ok(_) => {
            if let Some(library) = plugin.library() {
                fields.push(("library", Json::from(library.display().to_string())));
            }
            // Tenths of a millisecond: what a start-up budget is counted in.
            let ms = (took.as_secs_f64() * 10_000.0).round() / 10.0;
            fields.push(("ms", Json::from(ms)));
            log::runtime(lua, Level::Debug, "plugin loaded", fields);
        }
        Err(why) => {
            fields.push(("reason", Json::from(why.as_str())));
            log::runtime(lua, Level::Debug, "plugin refused at load", fields);
        }
    }
}
