//! `regex`: Rust's `regex` syntax (linear time: no backtracking blow-ups on hostile input),
//! matching on bytes so any Lua string works. Positions are 1-based and inclusive, like
//! `string.find`. Unmatched optional groups are `false` in `groups` (so the list has no holes)
//! and absent from `named`. Compiled patterns are cached per VM.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use mlua::{Lua, Table, Value};
use regex::bytes::{Captures, Regex};

use super::args::Args;
use super::function::{BuiltinResult, Raise, function};

/// Patterns kept compiled; the cache is emptied when full (scripts use few patterns).
const CACHE_LIMIT: usize = 256;

#[derive(Default)]
struct Cache(RefCell<HashMap<String, Rc<Regex>>>);

pub fn fill(lua: &Lua, re: &Table) -> mlua::Result<()> {
    re.raw_set("match", function(lua, "regex.match", is_match)?)?;
    re.raw_set("find", function(lua, "regex.find", find)?)?;
    re.raw_set("find_all", function(lua, "regex.find_all", find_all)?)?;
    re.raw_set("replace", function(lua, "regex.replace", replace)?)?;
    re.raw_set("split", function(lua, "regex.split", split)?)?;
    Ok(())
}

/// The compiled pattern of argument `pos`, from the cache when possible.
pub fn compile(lua: &Lua, args: &Args, pos: usize) -> BuiltinResult<Rc<Regex>> {
    let pattern = args.string(pos, "pattern")?;
    if lua.app_data_ref::<Cache>().is_none() {
        lua.set_app_data(Cache::default());
    }
    let cache = lua
        .app_data_ref::<Cache>()
        .ok_or_else(|| Raise::msg("regex cache missing"))?;
    if let Some(re) = cache.0.borrow().get(&pattern) {
        return Ok(re.clone());
    }
    let re =
        Rc::new(Regex::new(&pattern).map_err(|e| Raise::Message(format!("invalid pattern: {e}")))?);
    let mut map = cache.0.borrow_mut();
    if map.len() >= CACHE_LIMIT {
        map.clear();
    }
    map.insert(pattern, re.clone());
    Ok(re)
}

fn is_match(lua: &Lua, args: Args) -> BuiltinResult<bool> {
    let text = args.bytes(1, "text")?;
    let re = compile(lua, &args, 2)?;
    Ok(re.is_match(&text.as_bytes()))
}

fn match_table(lua: &Lua, re: &Regex, caps: &Captures) -> mlua::Result<Table> {
    let whole = caps
        .get(0)
        .ok_or_else(|| mlua::Error::runtime("regex: a match without its text"))?;
    let m = lua.create_table()?;
    m.raw_set("match", lua.create_string(whole.as_bytes())?)?;
    m.raw_set("start", whole.start() + 1)?;
    m.raw_set("stop", whole.end())?;
    let groups = lua.create_table()?;
    let named = lua.create_table()?;
    for (i, name) in re.capture_names().enumerate().skip(1) {
        match caps.get(i) {
            Some(g) => {
                let text = lua.create_string(g.as_bytes())?;
                if let Some(name) = name {
                    named.raw_set(name, text.clone())?;
                }
                groups.raw_seti(i, text)?;
            }
            None => groups.raw_seti(i, false)?,
        }
    }
    m.raw_set("groups", groups)?;
    m.raw_set("named", named)?;
    Ok(m)
}

fn find(lua: &Lua, args: Args) -> BuiltinResult<Value> {
    let text = args.bytes(1, "text")?;
    let re = compile(lua, &args, 2)?;
    let bytes = text.as_bytes();
    match re.captures(&bytes) {
        Some(caps) => Ok(Value::Table(match_table(lua, &re, &caps)?)),
        None => Ok(Value::Nil),
    }
}

fn find_all(lua: &Lua, args: Args) -> BuiltinResult<Table> {
    let text = args.bytes(1, "text")?;
    let re = compile(lua, &args, 2)?;
    let bytes = text.as_bytes();
    let list = lua.create_table()?;
    for (i, caps) in re.captures_iter(&bytes).enumerate() {
        list.raw_seti(i + 1, match_table(lua, &re, &caps)?)?;
    }
    Ok(list)
}

fn replace(lua: &Lua, args: Args) -> BuiltinResult<mlua::LuaString> {
    let text = args.bytes(1, "text")?;
    let re = compile(lua, &args, 2)?;
    let replacement = args.bytes(3, "repl")?;
    let all = args.options(4)?.bool("all", false)?;
    let bytes = text.as_bytes();
    let repl = replacement.as_bytes();
    let limit = if all { 0 } else { 1 };
    let out = re.replacen(&bytes, limit, &repl[..]);
    Ok(lua.create_string(out.as_ref())?)
}

fn split(lua: &Lua, args: Args) -> BuiltinResult<Table> {
    let text = args.bytes(1, "text")?;
    let re = compile(lua, &args, 2)?;
    let bytes = text.as_bytes();
    let list = lua.create_table()?;
    for (i, piece) in re.split(&bytes).enumerate() {
        list.raw_seti(i + 1, lua.create_string(piece)?)?;
    }
    Ok(list)
}
