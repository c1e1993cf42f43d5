//! The core globals of API.md, one file each. They need no plugin and are always present
//! (`fs` and `env.set` only outside the sandbox).

pub mod args;
pub mod assert;
pub mod r#async;
pub mod base64;
pub mod codec;
pub mod compress;
pub mod coroutine;
pub mod env;
pub mod fs;
pub mod function;
#[cfg(test)]
mod fuzz_tests;
pub mod hex;
pub mod inspect;
pub mod json;
pub mod lazy;
pub mod log;
pub mod pattern;
pub mod process;
pub mod regex;
pub mod time;
pub mod toml;
pub mod url;
pub mod uuid;
pub mod yaml;

use mlua::Lua;

/// What the builtins need to know about the VM they go into.
#[derive(Debug, Clone, Copy)]
pub struct BuiltinOptions {
    pub sandbox: bool,
    pub log: log::LogConfig,
}

/// Installs every core global into `lua`: modules lazily (see [`lazy`]), their shared state
/// at once.
pub fn install(lua: &Lua, options: BuiltinOptions) -> mlua::Result<()> {
    lua.set_app_data(options);
    lua.set_app_data(options.log);
    lua.set_app_data(r#async::Unobserved::default());
    lua.set_app_data(crate::vm::keepalive::KeepAlive::default());
    lua.set_app_data(crate::vm::pending::Pending::default());
    function::install(lua)?;
    codec::install(lua)?;
    lazy::install(lua)?;
    let mut modules: Vec<(&str, lazy::Fill)> = vec![
        ("json", json::fill),
        ("yaml", yaml::fill),
        ("toml", toml::fill),
        ("base64", base64::fill),
        ("regex", regex::fill),
        ("env", env::fill),
        ("log", log::fill),
        ("time", time::fill),
        ("async", r#async::fill),
        ("url", url::fill),
        ("uuid", uuid::fill),
        ("hex", hex::fill),
        ("compress", compress::fill),
    ];
    if !options.sandbox {
        modules.push(("fs", fs::fill));
        modules.push(("process", process::fill));
    }
    for (name, fill) in modules {
        lazy::global(lua, name, fill)?;
    }
    assert::install(lua)?;
    time::install_sleep(lua)
}
