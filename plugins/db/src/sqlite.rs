//! SQLite: statements and rows. A value is read by what it holds (SQLite's storage class:
//! integer, real, text, blob), except that a column declared BOOLEAN gives booleans.

use assay_sdk::{Map, Value};
use sqlx::sqlite::{Sqlite, SqliteConnection, SqliteRow};
use sqlx::{AssertSqlSafe, Column, Decode, Either, Executor, Row, SqlSafeStr, Statement};
use sqlx::{TypeInfo, ValueRef};

use crate::bind;
use crate::conn::{Action, Failure, Rows};

/// Runs `sql` with `params` on `conn`, as `statement` says.
pub async fn run(
    conn: &mut SqliteConnection,
    sql: String,
    params: &[Value],
    action: Action,
) -> Result<Value, Failure> {
    match action {
        Action::Query(rows) => Ok(rows.value(query(conn, sql, params, rows).await?)),
        Action::Execute => {
            let (affected, id) = execute(conn, sql, params).await?;
            Ok(Action::result(affected, id))
        }
    }
}

async fn query(
    conn: &mut SqliteConnection,
    sql: String,
    params: &[Value],
    rows: Rows,
) -> Result<Vec<Map>, Failure> {
    let arguments = prepare(&mut *conn, &sql, params).await?;
    let query = sqlx::query_with(AssertSqlSafe(sql), arguments);
    let found = match rows {
        Rows::First => query
            .fetch_optional(&mut *conn)
            .await?
            .into_iter()
            .collect(),
        Rows::All => query.fetch_all(&mut *conn).await?,
    };
    found.iter().map(row).collect()
}

/// Rows affected and the last inserted row id.
async fn execute(
    conn: &mut SqliteConnection,
    sql: String,
    params: &[Value],
) -> Result<(u64, Option<i64>), Failure> {
    let arguments = prepare(&mut *conn, &sql, params).await?;
    let done = sqlx::query_with(AssertSqlSafe(sql), arguments)
        .execute(&mut *conn)
        .await?;
    Ok((done.rows_affected(), Some(done.last_insert_rowid())))
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
