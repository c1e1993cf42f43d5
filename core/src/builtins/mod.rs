//! The core globals of API.md, one file each. They need no plugin and are always present
//! (`fs` and `env.set` only outside the sandbox).

pub mod args;
pub mod assert;
pub mod r#async;
pub mod base64;
pub mod codec;
pub mod env;
pub mod fs;
pub mod function;
pub mod inspect;
pub mod json;
pub mod log;
pub mod regex;
pub mod time;
pub mod toml;
pub mod yaml;

use mlua::Lua;

/// What the builtins need to know about the VM they go into.
#[derive(Debug, Clone, Copy)]
pub struct BuiltinOptions {
    pub sandbox: bool,
    pub log: log::LogConfig,
}

/// Installs every core global into `lua`.
pub fn install(lua: &Lua, options: BuiltinOptions) -> mlua::Result<()> {
    function::install(lua)?;
    codec::install(lua)?;
    json::install(lua)?;
    yaml::install(lua)?;
    toml::install(lua)?;
    base64::install(lua)?;
    regex::install(lua)?;
    env::install(lua, !options.sandbox)?;
    log::install(lua, options.log)?;
    time::install(lua)?;
    assert::install(lua)?;
    r#async::install(lua)?;
    if !options.sandbox {
        fs::install(lua)?;
    }
    Ok(())
}
