//! Lua values as statement parameters, for MySQL/MariaDB and SQLite, which take each value
//! with the type it has: integer, float, boolean, text (bytes that are not UTF-8 go as a
//! blob), `json.null` as NULL, and a table as its JSON text. (PostgreSQL needs each value
//! encoded as the type the server expects: `postgres.rs`.)

use assay_sdk::Value;
use sqlx::{Arguments, Database, Encode, Type};

use crate::conn::Failure;

/// `params` as arguments for `DB`.
pub fn by_lua_type<DB>(params: &[Value]) -> Result<DB::Arguments, Failure>
where
    DB: Database,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> f64: Encode<'q, DB> + Type<DB>,
    for<'q> bool: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> Vec<u8>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB> + Type<DB>,
{
    let mut arguments = DB::Arguments::default();
    for (i, value) in params.iter().enumerate() {
        let added = match value {
            Value::Nil | Value::Null => arguments.add(None::<String>),
            Value::Bool(b) => arguments.add(*b),
            Value::Int(n) => arguments.add(*n),
            Value::Float(f) => arguments.add(*f),
            Value::Str(bytes) => match bytes.to_str() {
                Some(text) => arguments.add(text.to_owned()),
                None => arguments.add(bytes.as_slice().to_vec()),
            },
            Value::Array(_) | Value::Map(_) => arguments.add(json_text(value, i)?),
            other => return Err(not_a_parameter(i, other)),
        };
        added.map_err(|e| Failure::Call(format!("parameter {}: {e}", i + 1)))?;
    }
    Ok(arguments)
}

/// A table parameter as JSON text.
pub fn json_text(value: &Value, i: usize) -> Result<String, Failure> {
    let bytes = assay_sdk::json::encode(value)
        .map_err(|e| Failure::Call(format!("parameter {}: {}", i + 1, e.message())))?;
    String::from_utf8(bytes).map_err(|_| Failure::Call(format!("parameter {}: not UTF-8", i + 1)))
}

pub fn not_a_parameter(i: usize, value: &Value) -> Failure {
    Failure::Call(format!(
        "parameter {} is a {}, which SQL cannot take",
        i + 1,
        value.type_name()
    ))
}

/// The statement's parameter count against what was given.
pub fn check_count(expected: usize, given: usize) -> Result<(), Failure> {
    if expected == given {
        return Ok(());
    }
    Err(Failure::Call(format!(
        "the statement has {expected} parameter{}, {given} given",
        if expected == 1 { "" } else { "s" }
    )))
}
