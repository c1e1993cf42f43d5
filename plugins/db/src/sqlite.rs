//! SQLite: statements and rows. A value is read by what it holds (SQLite's storage class:
//! integer, real, text, blob), except that a column declared BOOLEAN gives booleans.

use assay_sdk::Value;
use sqlx::error::BoxDynError;
use sqlx::sqlite::{Sqlite, SqliteColumn, SqliteConnection, SqliteRow, SqliteValueRef};
use sqlx::{Column, Decode, TypeInfo, ValueRef};

use crate::bind;
use crate::conn::Failure;

crate::statements::statements!(SqliteConnection, SqliteRow);

/// SQLite's last inserted row id.
fn last_id(done: &sqlx::sqlite::SqliteQueryResult) -> Option<i64> {
    Some(done.last_insert_rowid())
}

/// The arguments, once the statement is known to take that many (SQLite itself would
/// silently read a missing one as NULL and ignore an extra one).
async fn prepare(
    conn: &mut SqliteConnection,
    sql: &str,
    params: &[Value],
) -> Result<<Sqlite as sqlx::Database>::Arguments, Failure> {
    let expected = crate::statements::parameter_count::<Sqlite>(conn, sql).await?;
    bind::check_count(expected, params.len())?;
    bind::by_lua_type::<Sqlite>(params)
}

/// A value by what it holds; an integer in a column declared BOOLEAN is a boolean.
fn value(raw: SqliteValueRef<'_>, column: &SqliteColumn) -> Result<Value, BoxDynError> {
    let declared = column.type_info().name().to_ascii_uppercase();
    Ok(match raw.type_info().name() {
        "INTEGER" => {
            let n = <i64 as Decode<Sqlite>>::decode(raw)?;
            if declared == "BOOLEAN" || declared == "BOOL" {
                Value::Bool(n != 0)
            } else {
                Value::Int(n)
            }
        }
        "REAL" => Value::Float(<f64 as Decode<Sqlite>>::decode(raw)?),
        "TEXT" => Value::from(<String as Decode<Sqlite>>::decode(raw)?),
        "BLOB" => Value::from(<Vec<u8> as Decode<Sqlite>>::decode(raw)?),
        other => return Err(format!("it holds a {other}, which the db plugin cannot read").into()),
    })
}
