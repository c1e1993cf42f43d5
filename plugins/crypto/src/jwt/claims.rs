//! Between SDK values and JSON, for claims and headers. Tables with string keys become
//! objects, sequences arrays; strings must be UTF-8 and numbers finite, as for `json.encode`.

use assay_sdk::{List, Map, Value};
use serde_json::{Map as JsonMap, Number, Value as Json};

/// Deeper nesting than this is refused (no claim set needs it).
const MAX_DEPTH: usize = 64;

/// `value` as JSON; the error names the path of the offending part (`$.roles[2]`).
pub fn to_json(value: &Value) -> Result<Json, String> {
    convert(value, "$", 0)
}

/// A table with string keys as a JSON object.
pub fn map_to_json(map: &Map) -> Result<JsonMap<String, Json>, String> {
    object(map, "$", 0)
}

fn convert(value: &Value, path: &str, depth: usize) -> Result<Json, String> {
    if depth > MAX_DEPTH {
        return Err(format!("nested deeper than {MAX_DEPTH} levels at {path}"));
    }
    Ok(match value {
        Value::Nil | Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => Json::from(*i),
        Value::Float(f) => Number::from_f64(*f)
            .map(Json::Number)
            .ok_or_else(|| format!("{f} is not a finite number at {path}"))?,
        Value::Str(bytes) => bytes
            .to_str()
            .map(|s| Json::String(s.to_owned()))
            .ok_or_else(|| format!("string is not valid UTF-8 at {path}"))?,
        Value::Array(list) => Json::Array(
            list.iter()
                .enumerate()
                .map(|(i, v)| convert(v, &format!("{path}[{}]", i + 1), depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        Value::Map(map) => Json::Object(object(map, path, depth)?),
        Value::Object(_) | Value::Function(_) => {
            return Err(format!(
                "a {} cannot be encoded as JSON at {path}",
                value.type_name()
            ));
        }
    })
}

fn object(map: &Map, path: &str, depth: usize) -> Result<JsonMap<String, Json>, String> {
    let mut out = JsonMap::new();
    for (key, value) in map.iter() {
        let key = match key {
            Value::Str(bytes) => bytes
                .to_str()
                .ok_or_else(|| format!("a key is not valid UTF-8 at {path}"))?,
            other => {
                return Err(format!(
                    "keys must be strings, got {} key {other:?} at {path}",
                    other.type_name()
                ));
            }
        };
        if value.is_nil() {
            continue;
        }
        out.insert(
            key.to_owned(),
            convert(value, &format!("{path}.{key}"), depth + 1)?,
        );
    }
    Ok(out)
}

/// JSON as a value: objects become maps, arrays arrays, `null` `Value::Null`.
pub fn from_json(json: Json) -> Value {
    match json {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => Value::from(s),
        Json::Array(items) => Value::Array(items.into_iter().map(from_json).collect::<List>()),
        Json::Object(map) => Value::Map(object_to_map(map)),
    }
}

/// A JSON object as a map with string keys.
pub fn object_to_map(map: JsonMap<String, Json>) -> Map {
    let mut out = Map::with_capacity(map.len());
    for (k, v) in map {
        out.push(Value::from(k), from_json(v));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_nested_values() {
        let mut inner = Map::new();
        inner.insert(
            "b",
            Value::from(vec![Value::Int(1), Value::Float(2.5), Value::Null]),
        );
        let mut map = Map::new();
        map.insert("a", Value::Map(inner));
        map.insert("s", "text");
        map.insert("t", true);
        let json = to_json(&Value::Map(map.clone())).expect("converts");
        assert_eq!(
            json.to_string(),
            r#"{"a":{"b":[1,2.5,null]},"s":"text","t":true}"#
        );
        let back = from_json(json);
        let Value::Map(back) = back else {
            panic!("a map")
        };
        assert_eq!(back.get("a"), map.get("a"));
        assert_eq!(back.get("s"), map.get("s"));
    }

    #[test]
    fn refuses_what_json_cannot_hold() {
        let mut map = Map::new();
        map.insert(
            "x",
            Value::from(vec![Value::Int(1), Value::from(vec![0xffu8])]),
        );
        assert_eq!(
            to_json(&Value::Map(map)).err().as_deref(),
            Some("string is not valid UTF-8 at $.x[2]")
        );
        let mut map = Map::new();
        map.insert(Value::Int(1), Value::Int(2));
        assert!(
            to_json(&Value::Map(map))
                .err()
                .unwrap_or_default()
                .contains("keys must be strings")
        );
        assert!(to_json(&Value::Float(f64::INFINITY)).is_err());
    }
}
