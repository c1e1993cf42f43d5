//! `env`: the process environment. `env.get(name, default)` returns `default` (or nil) when
//! the variable is unset; `env.set(name, nil)` unsets it; `env.list()` is a name -> value table.
//! In the sandbox `env.set` refuses ("env.set is not available in sandbox").
//!
//! A host may lay variables over the process environment for one VM ([`Overlay`]): check
//! mode gives each script check its file's `env` this way, since changing the real
//! environment with several checks running at once is undefined behaviour.

use mlua::{Lua, Table, Value};

use super::args::Args;
use super::function::{BuiltinResult, Raise, function};

pub fn fill(lua: &Lua, t: &Table) -> mlua::Result<()> {
    t.raw_set("get", function(lua, "env.get", get)?)?;
    t.raw_set("list", function(lua, "env.list", list)?)?;
    let sandbox = lua
        .app_data_ref::<super::BuiltinOptions>()
        .is_some_and(|o| o.sandbox);
    let set = if sandbox {
        let refusal = function(lua, "env.set", |_, _| -> BuiltinResult<()> {
            Err(Raise::Positioned(
                "env.set is not available in sandbox".into(),
            ))
        })?;
        crate::vm::sandbox::mark_refusal(lua, &refusal)?;
        refusal
    } else {
        function(lua, "env.set", set)?
    };
    t.raw_set("set", set)
}

/// Variables a VM sees over the process environment (app data).
#[derive(Debug, Clone, Default)]
pub struct Overlay(pub Vec<(String, String)>);

fn overlaid(lua: &Lua, name: &str) -> Option<String> {
    let overlay = lua.app_data_ref::<Overlay>()?;
    overlay
        .0
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

fn valid_name(args: &Args) -> BuiltinResult<String> {
    let name = args.string(1, "name")?;
    if name.is_empty() || name.contains('=') || name.contains('\0') {
        return Err(args.invalid(1, "name", format!("{name:?} is not a variable name")));
    }
    Ok(name)
}

fn get(lua: &Lua, args: Args) -> BuiltinResult<Value> {
    args.at_most(2)?;
    let name = valid_name(&args)?;
    if let Some(value) = overlaid(lua, &name) {
        return Ok(Value::String(lua.create_string(value)?));
    }
    match std::env::var_os(&name) {
        Some(v) => Ok(Value::String(lua.create_string(v.as_encoded_bytes())?)),
        None => Ok(args.value(2)),
    }
}

fn set(_: &Lua, args: Args) -> BuiltinResult<()> {
    let name = valid_name(&args)?;
    let value = match args.value(2) {
        Value::Nil => None,
        _ => {
            let v = args.string_like(2, "value")?;
            if v.contains('\0') {
                return Err(args.invalid(2, "value", "contains a NUL byte"));
            }
            Some(v)
        }
    };
    // Changing the environment while another thread may read it is undefined behaviour in
    // glibc (getenv races setenv). The core runs on one thread; a loaded plugin has threads of
    // its own (its runtime, DNS lookups), so from then on the environment is frozen.
    if let Some(plugin) = crate::plugin::load::first_loaded() {
        return Err(Raise::msg(format!(
            "cannot change the environment after plugin '{plugin}' has started (its threads \
             may read it concurrently); set {name} before the first plugin call, or in the \
             parent process"
        )));
    }
    // SAFETY: no plugin is loaded, so no other thread reads the environment: the core's
    // executor is single-threaded and starts no worker or blocking threads, and the only other
    // thread there may be, the `--timeout` watchdog, never reads it.
    unsafe {
        match value {
            Some(v) => std::env::set_var(&name, v),
            None => std::env::remove_var(&name),
        }
    }
    Ok(())
}

fn list(lua: &Lua, _args: Args) -> BuiltinResult<Table> {
    let t = lua.create_table()?;
    for (name, value) in std::env::vars_os() {
        t.raw_set(
            lua.create_string(name.as_encoded_bytes())?,
            lua.create_string(value.as_encoded_bytes())?,
        )?;
    }
    if let Some(overlay) = lua.app_data_ref::<Overlay>() {
        for (name, value) in &overlay.0 {
            t.raw_set(name.as_str(), value.as_str())?;
        }
    }
    Ok(t)
}
