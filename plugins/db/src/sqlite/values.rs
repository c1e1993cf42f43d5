//! SQLite values both ways. A value is read by what it holds (SQLite's storage class:
//! integer, real, text, blob), except that an integer in a column declared BOOLEAN (or BOOL)
//! is a boolean. Parameters go with the type they have in Lua: integer, float, boolean (as
//! 1 or 0), text (bytes that are not UTF-8 as a blob), `json.null` as NULL, a table as its
//! JSON text.

use assay_sdk::{Map, Value};
use rusqlite::types::ValueRef;
use rusqlite::{Row, Statement};

use crate::bind;
use crate::conn::Failure;

/// Binds `params` (already counted) to `statement`.
pub fn bind(statement: &mut Statement<'_>, params: &[Value]) -> Result<(), Failure> {
    for (i, value) in params.iter().enumerate() {
        let at = i + 1;
        let bound = match value {
            Value::Nil | Value::Null => statement.raw_bind_parameter(at, rusqlite::types::Null),
            Value::Bool(b) => statement.raw_bind_parameter(at, i64::from(*b)),
            Value::Int(n) => statement.raw_bind_parameter(at, *n),
            Value::Float(f) => statement.raw_bind_parameter(at, *f),
            Value::Str(bytes) => match bytes.to_str() {
                Some(text) => statement.raw_bind_parameter(at, text),
                None => statement.raw_bind_parameter(at, bytes.as_slice()),
            },
            Value::Array(_) | Value::Map(_) => {
                statement.raw_bind_parameter(at, bind::json_text(value, i)?)
            }
            other => return Err(bind::not_a_parameter(i, other)),
        };
        bound.map_err(|e| Failure::Call(format!("parameter {at}: {e}")))?;
    }
    Ok(())
}

/// A statement's columns: names, and which are declared boolean.
#[derive(Default)]
pub struct Columns {
    names: Vec<String>,
    boolean: Vec<bool>,
}

impl Columns {
    pub fn of(statement: &Statement<'_>) -> Columns {
        let (names, boolean) = statement
            .columns()
            .map(|c| {
                let boolean = c.decl_type().is_some_and(|t| {
                    t.eq_ignore_ascii_case("BOOLEAN") || t.eq_ignore_ascii_case("BOOL")
                });
                (c.name().to_owned(), boolean)
            })
            .unzip();
        Columns { names, boolean }
    }

    /// A row as a map of column names to values (`json.null` for NULL).
    pub fn row(&self, row: &Row<'_>) -> Result<Map, Failure> {
        let mut map = Map::with_capacity(self.names.len());
        for (i, name) in self.names.iter().enumerate() {
            let cell = match row.get_ref(i).map_err(Failure::Sqlite)? {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(n) if self.boolean[i] => Value::Bool(n != 0),
                ValueRef::Integer(n) => Value::Int(n),
                ValueRef::Real(f) => Value::Float(f),
                ValueRef::Text(bytes) | ValueRef::Blob(bytes) => Value::from(bytes),
            };
            map.insert(name.as_str(), cell);
        }
        Ok(map)
    }
}
