//! Values between Lua (the SDK's `Value`) and templates (minijinja's).
//!
//! A Lua table that is a list is a sequence; any other table is a map, iterated in sorted key
//! order (a Lua table has no order of its own, so `{% for k, v in d.items() %}` is at least
//! the same on every run; Jinja2 iterates a dict from JSON in the JSON's order). `nil` and
//! `json.null` are `none`; a string that is not UTF-8 is bytes.

use assay_sdk::{List, Map, Value};
use minijinja::value::{Value as Jv, ValueKind};

/// The value as templates see it; functions and objects cannot be passed.
pub fn to_template(value: &Value, what: &str) -> Result<Jv, String> {
    Ok(match value {
        Value::Nil | Value::Null => Jv::from(()),
        Value::Bool(b) => Jv::from(*b),
        Value::Int(n) => Jv::from(*n),
        Value::Float(f) => Jv::from(*f),
        Value::Str(bytes) => match bytes.to_str() {
            Some(text) => Jv::from(text),
            None => Jv::from_bytes(bytes.as_slice().to_vec()),
        },
        Value::Array(items) => items
            .iter()
            .map(|v| to_template(v, what))
            .collect::<Result<Vec<Jv>, String>>()?
            .into_iter()
            .collect(),
        Value::Map(map) => Jv::from_pairs(
            map.iter()
                .map(|(k, v)| Ok((to_template(k, what)?, to_template(v, what)?)))
                .collect::<Result<Vec<(Jv, Jv)>, String>>()?,
        ),
        other => {
            return Err(format!(
                "{what}: a {} cannot be passed to a template",
                other.type_name()
            ));
        }
    })
}

/// A template value as Lua sees it (for Lua filters and `to_yaml`/`to_json`).
pub fn to_lua(value: &Jv) -> Result<Value, minijinja::Error> {
    Ok(match value.kind() {
        ValueKind::Undefined | ValueKind::None => Value::Null,
        ValueKind::Bool => Value::Bool(value.is_true()),
        ValueKind::Number if value.is_integer() => match i64::try_from(value.clone()) {
            Ok(n) => Value::Int(n),
            Err(_) => Value::Float(f64::try_from(value.clone())?),
        },
        ValueKind::Number => Value::Float(f64::try_from(value.clone())?),
        ValueKind::String => Value::from(value.as_str().unwrap_or_default()),
        ValueKind::Bytes => Value::from(value.as_bytes().unwrap_or_default()),
        ValueKind::Map => {
            let mut map = Map::new();
            for key in value.try_iter()? {
                let item = value.get_item(&key)?;
                map.insert(to_lua(&key)?, to_lua(&item)?);
            }
            Value::Map(map)
        }
        _ => {
            let mut list = List::new();
            for item in value.try_iter()? {
                list.push(to_lua(&item)?);
            }
            Value::Array(list)
        }
    })
}
