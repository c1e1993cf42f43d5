//! SDK [`Value`]s to JSON text and back, by the rules of the core's `json` global: objects
//! become maps, arrays become arrays (so `[]` stays `[]`), `null` is `json.null`, integers
//! stay integers. Strings must be UTF-8 to be encoded: JSON has no byte strings, and silently
//! replacing bytes would corrupt data. Nesting deeper than [`MAX_DEPTH`] is refused both ways.
//! (Feature `json`.)

use serde::Serialize;
use serde::ser::{Error as _, SerializeMap, SerializeSeq};

use crate::{Error, List, Map, Result, Value};

/// Nesting deeper than this is refused both ways (the core's `json` uses the same bound).
pub const MAX_DEPTH: usize = 128;

/// `value` as compact JSON text.
pub fn encode(value: &Value) -> Result<Vec<u8>> {
    serde_json::to_vec(&Json(value, 0)).map_err(|e| Error::new(format!("cannot encode JSON: {e}")))
}

/// `value` as a serde_json tree.
pub fn to_json(value: &Value) -> Result<serde_json::Value> {
    serde_json::to_value(Json(value, 0)).map_err(|e| Error::new(format!("cannot encode JSON: {e}")))
}

/// JSON text as a value; the error names the position, as `json.parse` does.
pub fn decode(text: &[u8]) -> Result<Value> {
    let parsed: serde_json::Value = serde_json::from_slice(text).map_err(|e| {
        Error::new(format!(
            "invalid JSON at line {} column {}: {}",
            e.line(),
            e.column(),
            strip_position(&e.to_string())
        ))
    })?;
    from_json(parsed)
}

/// A serde_json tree as a value.
pub fn from_json(value: serde_json::Value) -> Result<Value> {
    tree(value, 0)
}

/// serde_json appends " at line L column C"; the caller says it first.
fn strip_position(message: &str) -> &str {
    message
        .rfind(" at line ")
        .map_or(message, |at| &message[..at])
}

fn tree(value: serde_json::Value, depth: usize) -> Result<Value> {
    if depth > MAX_DEPTH {
        return Err(Error::new(format!(
            "JSON nested deeper than {MAX_DEPTH} levels"
        )));
    }
    Ok(match value {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        serde_json::Value::String(s) => Value::from(s),
        serde_json::Value::Array(items) => {
            let mut list = List::with_capacity(items.len());
            for item in items {
                list.push(tree(item, depth + 1)?);
            }
            Value::Array(list)
        }
        serde_json::Value::Object(entries) => {
            let mut map = Map::with_capacity(entries.len());
            for (k, v) in entries {
                map.push(Value::from(k), tree(v, depth + 1)?);
            }
            Value::Map(map)
        }
    })
}

/// Serializes a value at a nesting depth.
struct Json<'a>(&'a Value, usize);

impl Serialize for Json<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let Json(value, depth) = *self;
        if depth > MAX_DEPTH {
            return Err(S::Error::custom(format!(
                "nested deeper than {MAX_DEPTH} levels"
            )));
        }
        match value {
            Value::Nil | Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Int(i) => s.serialize_i64(*i),
            Value::Float(f) if f.is_finite() => s.serialize_f64(*f),
            Value::Float(f) => Err(S::Error::custom(format!("{f} is not a JSON number"))),
            Value::Str(bytes) => match bytes.to_str() {
                Some(text) => s.serialize_str(text),
                None => Err(S::Error::custom("a string is not valid UTF-8")),
            },
            Value::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items.iter() {
                    seq.serialize_element(&Json(item, depth + 1))?;
                }
                seq.end()
            }
            Value::Map(entries) => {
                let mut map = s.serialize_map(Some(entries.len()))?;
                for (k, v) in entries.iter() {
                    let key = match k {
                        Value::Str(bytes) => bytes.to_str().map(str::to_owned),
                        Value::Int(i) => Some(i.to_string()),
                        _ => None,
                    };
                    let Some(key) = key else {
                        return Err(S::Error::custom(format!(
                            "a {} key cannot be a JSON object key",
                            k.type_name()
                        )));
                    };
                    map.serialize_entry(&key, &Json(v, depth + 1))?;
                }
                map.end()
            }
            other => Err(S::Error::custom(format!(
                "a {} cannot be encoded as JSON",
                other.type_name()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_types() {
        let text = br#"{"a":[1,2.5,"x",null,true],"b":{},"c":[]}"#;
        let value = decode(text).expect("valid JSON");
        let again = encode(&value).expect("encodable");
        assert_eq!(
            String::from_utf8_lossy(&again),
            String::from_utf8_lossy(text)
        );
        assert_eq!(
            to_json(&value).expect("tree").to_string(),
            String::from_utf8_lossy(text)
        );
    }

    #[test]
    fn errors_name_the_position() {
        let err = decode(b"{\"a\": }").expect_err("invalid");
        assert!(
            err.message().starts_with("invalid JSON at line 1 column 7"),
            "{err}"
        );
    }

    #[test]
    fn refuses_bytes_and_functions() {
        let err = encode(&Value::Str(vec![0xff].into())).expect_err("not UTF-8");
        assert!(err.message().contains("UTF-8"), "{err}");
    }
}
