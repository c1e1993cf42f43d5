//! SQLite: statements and rows. A value is read by what it holds (SQLite's storage class:
//! integer, real, text, blob), except that a column declared BOOLEAN gives booleans.

use assay_sdk::{Map, Value};
use sqlx::sqlite::{Sqlite, SqliteConnection, SqliteRow};
use sqlx::{AssertSqlSafe, Column, Decode, Either, Executor, Row, SqlSafeStr, Statement};
use sqlx::{TypeInfo, ValueRef};

use crate::bind;
use crate::conn::Failure;

crate::statements::statements!(SqliteConnection);

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
    let statement = conn
        .prepare(AssertSqlSafe(sql.to_owned()).into_sql_str())
        .await?;
    let expected = match statement.parameters() {
        Some(Either::Left(types)) => types.len(),
        Some(Either::Right(count)) => count,
        None => 0,
    };
    bind::check_count(expected, params.len())?;
    bind::by_lua_type::<Sqlite>(params)
}

fn row(row: &SqliteRow) -> Result<Map, Failure> {
    let mut map = Map::with_capacity(row.columns().len());
    for (i, column) in row.columns().iter().enumerate() {
        let raw = row.try_get_raw(i)?;
        let value = if raw.is_null() {
            Value::Null
        } else {
            let declared = column.type_info().name().to_ascii_uppercase();
            let held = raw.type_info().name().to_owned();
            let fail = |e: sqlx::error::BoxDynError| {
                Failure::Call(format!("column '{}' ({held}): {e}", column.name()))
            };
            match held.as_str() {
                "INTEGER" => {
                    let n = <i64 as Decode<Sqlite>>::decode(raw).map_err(fail)?;
                    if declared == "BOOLEAN" || declared == "BOOL" {
                        Value::Bool(n != 0)
                    } else {
                        Value::Int(n)
                    }
                }
                "REAL" => Value::Float(<f64 as Decode<Sqlite>>::decode(raw).map_err(fail)?),
                "TEXT" => Value::from(<String as Decode<Sqlite>>::decode(raw).map_err(fail)?),
                "BLOB" => Value::from(<Vec<u8> as Decode<Sqlite>>::decode(raw).map_err(fail)?),
                other => {
                    return Err(Failure::Call(format!(
                        "column '{}' holds a {other}, which the db plugin cannot read",
                        column.name()
                    )));
                }
            }
        };
        map.insert(column.name(), value);
    }
    Ok(map)
}
