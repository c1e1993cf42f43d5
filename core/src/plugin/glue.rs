//! Lua glue for plugins (`assay.host.v3`): a plugin's few lines of Lua, compiled in the
//! calling VM, for what cannot be done across the boundary. Values cross it as copies, so a
//! plugin never sees what a Lua function did to a table in place; a Lua wrapper does
//! (`after(req, resp)` changing `resp`, `before(req)` setting `req.user`).
//!
//! The chunk runs in an environment of its own holding Lua's pure base functions and the
//! `string`, `table` and `math` libraries (as the script has them): never the script's
//! globals, so glue cannot reach `io` or `os`, sandbox or not, nor be confused by a global the
//! script defined. It is compiled once per VM and source; the function it returns is handed
//! out as a callback (the same one each time).

use std::cell::RefCell;
use std::collections::HashMap;

use assay_sdk::Callback;
use mlua::{Lua, Table, Value};

use super::callback;

/// Globals the glue may use: functions without effects outside the values they are given.
const VISIBLE: &[&str] = &[
    "assert",
    "error",
    "getmetatable",
    "ipairs",
    "next",
    "pairs",
    "pcall",
    "rawequal",
    "rawget",
    "rawlen",
    "rawset",
    "select",
    "setmetatable",
    "tonumber",
    "tostring",
    "type",
    "xpcall",
    "string",
    "table",
    "math",
];

/// The VM's glue functions by source.
#[derive(Default)]
struct Made(RefCell<HashMap<String, Callback>>);

/// The function `source` returns, compiled in `lua` on first use (named `name` in tracebacks).
pub fn function(lua: &Lua, name: &str, source: &str) -> mlua::Result<Callback> {
    if let Some(made) = lua.app_data_ref::<Made>()
        && let Some(callback) = made.0.borrow().get(source)
    {
        return Ok(callback.clone());
    }
    let env = environment(lua)?;
    let returned: Value = lua
        .load(source)
        .set_name(format!("={name}"))
        .set_environment(env)
        .call(())?;
    let Value::Function(f) = returned else {
        return Err(mlua::Error::runtime(format!(
            "glue '{name}' returned a value of type {}, not a function",
            returned.type_name()
        )));
    };
    let callback = callback::wrap(lua, f)?;
    if lua.app_data_ref::<Made>().is_none() {
        lua.set_app_data(Made::default());
    }
    if let Some(made) = lua.app_data_ref::<Made>() {
        made.0
            .borrow_mut()
            .insert(source.to_owned(), callback.clone());
    }
    Ok(callback)
}

fn environment(lua: &Lua) -> mlua::Result<Table> {
    let globals = lua.globals();
    let env = lua.create_table_with_capacity(0, VISIBLE.len())?;
    for name in VISIBLE {
        env.raw_set(*name, globals.raw_get::<Value>(*name)?)?;
    }
    Ok(env)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glue_sees_pure_functions_only_and_is_made_once() {
        let lua = Lua::new();
        lua.globals().set("secret", 42).expect("set");
        let source = "return function() return type(io), type(os), type(secret), type(pairs) end";
        let first = function(&lua, "test.glue", source).expect("compiles");
        let again = function(&lua, "test.glue", source).expect("compiles");
        assert_eq!(first.id(), again.id());
        let f = callback::unwrap(&lua, first).expect("our function");
        let seen: (String, String, String, String) = f.call(()).expect("runs");
        assert_eq!(
            seen,
            ("nil".into(), "nil".into(), "nil".into(), "function".into())
        );
    }

    #[test]
    fn glue_that_returns_no_function_is_an_error_naming_it() {
        let lua = Lua::new();
        let err = function(&lua, "test.bad", "return 1").expect_err("not a function");
        assert!(
            err.to_string()
                .contains("glue 'test.bad' returned a value of type integer"),
            "{err}"
        );
        let err = function(&lua, "test.syntax", "return function(").expect_err("syntax");
        assert!(err.to_string().contains("test.syntax"), "{err}");
    }
}
