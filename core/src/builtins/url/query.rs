//! Query strings (`application/x-www-form-urlencoded`): `url.query_encode`, `url.query_decode`,
//! and the `query` of `url.parse` / `url.build`. The rules are in the module docs of `url`.

use mlua::{Lua, Table, Value};

use super::{escape, is_unreserved, unescape};
use crate::builtins::args::{Args, type_name};
use crate::builtins::function::{BuiltinResult, Raise};

pub fn encode(lua: &Lua, args: Args) -> BuiltinResult<mlua::LuaString> {
    args.at_most(1)?;
    let table = args.table(1, "query")?;
    let out = encode_table(lua, &table, 1, "query")?;
    Ok(lua.create_string(out)?)
}

pub fn decode(lua: &Lua, args: Args) -> BuiltinResult<Table> {
    args.at_most(1)?;
    let text = args.bytes(1, "text")?;
    Ok(decode_table(lua, &text.as_bytes())?)
}

/// The query string of `table` (argument `pos` named `arg`, for messages).
pub fn encode_table(lua: &Lua, table: &Table, pos: usize, arg: &str) -> BuiltinResult<Vec<u8>> {
    let bad = |key: &[u8], why: String| {
        Raise::msg(format!(
            "bad argument #{pos} '{arg}': field '{}' ({why})",
            String::from_utf8_lossy(key)
        ))
    };
    let mut pairs: Vec<(Vec<u8>, Value)> = Vec::new();
    for pair in table.pairs::<Value, Value>() {
        let (key, value) = pair?;
        let key = match &key {
            Value::String(s) => s.as_bytes().to_vec(),
            Value::Integer(_) | Value::Number(_) => scalar(lua, &key)?.unwrap_or_default(),
            other => {
                return Err(Raise::msg(format!(
                    "bad argument #{pos} '{arg}' (keys must be strings or numbers, got {})",
                    type_name(other)
                )));
            }
        };
        pairs.push((key, value));
    }
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = Vec::new();
    let mut write = |key: &[u8], value: &[u8]| {
        if !out.is_empty() {
            out.push(b'&');
        }
        escape(key, &mut out, is_unreserved, true);
        out.push(b'=');
        escape(value, &mut out, is_unreserved, true);
    };
    for (key, value) in &pairs {
        if let Some(text) = scalar(lua, value)? {
            write(key, &text);
            continue;
        }
        let Value::Table(list) = value else {
            let why = format!(
                "string, number, boolean or list expected, got {}",
                type_name(value)
            );
            return Err(bad(key, why));
        };
        let len = list.raw_len();
        if list.pairs::<Value, Value>().count() != len {
            return Err(bad(key, "a table value must be a list".into()));
        }
        for i in 1..=len {
            let item: Value = list.raw_get(i)?;
            match scalar(lua, &item)? {
                Some(text) => write(key, &text),
                None => {
                    let why = format!(
                        "item {i}: string, number or boolean expected, got {}",
                        type_name(&item)
                    );
                    return Err(bad(key, why));
                }
            }
        }
    }
    Ok(out)
}

/// A string, number or boolean as text (`tostring`'s spelling); `None` for anything else.
fn scalar(lua: &Lua, value: &Value) -> BuiltinResult<Option<Vec<u8>>> {
    Ok(match value {
        Value::String(s) => Some(s.as_bytes().to_vec()),
        Value::Boolean(b) => Some(b.to_string().into_bytes()),
        Value::Integer(_) | Value::Number(_) => lua
            .coerce_string(value.clone())?
            .map(|s| s.as_bytes().to_vec()),
        _ => None,
    })
}

/// The table a query string means: a key once is a string, a key repeated is a list.
pub fn decode_table(lua: &Lua, text: &[u8]) -> mlua::Result<Table> {
    let text = text.strip_prefix(b"?").unwrap_or(text);
    let query = lua.create_table()?;
    for pair in text.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
        let (key, value) = match pair.iter().position(|b| *b == b'=') {
            Some(eq) => (&pair[..eq], &pair[eq + 1..]),
            None => (pair, &b""[..]),
        };
        let key = lua.create_string(unescape(key, true))?;
        let value = lua.create_string(unescape(value, true))?;
        match query.raw_get::<Value>(&key)? {
            Value::Nil => query.raw_set(key, value)?,
            Value::Table(list) => list.raw_push(value)?,
            seen => query.raw_set(key, lua.create_sequence_from([seen, Value::String(value)])?)?,
        }
    }
    Ok(query)
}
