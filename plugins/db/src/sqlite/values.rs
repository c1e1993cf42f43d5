//! SQLite values both ways. A value is read by what it holds (SQLite's storage class:
//! integer, real, text, blob), except that an integer in a column declared BOOLEAN (or BOOL)
//! is a boolean. Parameters go with the type they have in Lua: integer, float, boolean (as
//! 1 or 0), text (bytes that are not UTF-8 as a blob), `json.null` as NULL, a table as its
//! JSON text.

use assay_sdk::{Map, Value};
use rusqlite::types::ValueRef;
use rusqlite::{Row, Statement};

use crate::bind;
use crate::conn::{Failure, Held};

/// Binds `params` (already counted) to `statement`.
pub fn bind(statement: &mut Statement<'_>, params: &[Value]) -> Result<(), Failure> {
    for (i, value) in params.iter().enumerate() {
        let at = i + 1;
        let bound = match value {
            Value::Nil | Value::Null => statement.raw_bind_parameter(at, rusqlite::types::Null),
            Value::Bool(b) => statement.raw_bind_parameter(at, i64::from(*b)),
            Value::Int(n) => statement.raw_bind_parameter(at, *n),
            Value::Float(f) if f.is_nan() => {
                return Err(Failure::Call(format!(
                    "parameter {at} is NaN, which SQLite would store as NULL; pass json.null \
                     for NULL"
                )));
            }
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
    /// The columns of `statement`; two of the same name are an error (a row is a map: one
    /// would silently replace the other).
    pub fn of(statement: &Statement<'_>) -> Result<Columns, Failure> {
        let (names, boolean) = statement
            .columns()
            .map(|c| {
                let boolean = c.decl_type().is_some_and(|t| {
                    t.eq_ignore_ascii_case("BOOLEAN") || t.eq_ignore_ascii_case("BOOL")
                });
                (c.name().to_owned(), boolean)
            })
            .unzip();
        let names: Vec<String> = names;
        if let Some(twice) = crate::conn::repeated(names.iter().map(String::as_str)) {
            return Err(crate::conn::repeated_column(twice));
        }
        Ok(Columns { names, boolean })
    }

    /// A row as a map of column names to values (`json.null` for NULL), each value counted
    /// in `held` before it is copied (one huge blob is refused before it is copied whole).
    pub fn row(&self, row: &Row<'_>, held: &mut Held) -> Result<Map, Failure> {
        let mut map = Map::with_capacity(self.names.len());
        for (i, name) in self.names.iter().enumerate() {
            let raw = row.get_ref(i).map_err(Failure::Sqlite)?;
            let bytes = match raw {
                ValueRef::Text(b) | ValueRef::Blob(b) => b.len(),
                _ => 0,
            };
            held.count((32 + name.len() + bytes) as u64)?;
            let cell = match raw {
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
