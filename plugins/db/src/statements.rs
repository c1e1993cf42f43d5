//! What every backend does alike with a statement, written once: the backend's module gives
//! `prepare` (the arguments, once the statement is known to take that many), `value` (a
//! column's value that is not NULL) and `last_id` (what `execute` reports as
//! `last_insert_id`), and this makes its `run` and `row`.

use sqlx::{Database, Either, Executor, SqlSafeStr, Statement};

use crate::conn::Failure;

/// How many parameters `sql` takes, as the database reads it (MySQL, SQLite: their own count;
/// PostgreSQL reads types too and has its own `prepare`).
pub async fn parameter_count<DB: Database>(
    conn: &mut DB::Connection,
    sql: &str,
) -> Result<usize, Failure>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    let statement = conn
        .prepare(sqlx::AssertSqlSafe(sql.to_owned()).into_sql_str())
        .await?;
    Ok(match statement.parameters() {
        Some(Either::Left(types)) => types.len(),
        Some(Either::Right(count)) => count,
        None => 0,
    })
}

/// `pub async fn run(conn, sql, params, action)` and `fn row(row)` for a backend whose
/// connection and row types are `$connection` and `$row`.
macro_rules! statements {
    ($connection:ty, $row:ty) => {
        /// A row as a map of column names to values (`json.null` for NULL); a value that
        /// cannot be read names its column and type.
        fn row(row: &$row) -> Result<assay_sdk::Map, $crate::conn::Failure> {
            use sqlx::{Column, Row, TypeInfo, ValueRef};
            if let Some(twice) = $crate::conn::repeated(row.columns().iter().map(|c| c.name())) {
                return Err($crate::conn::repeated_column(twice));
            }
            let mut map = assay_sdk::Map::with_capacity(row.columns().len());
            for (i, column) in row.columns().iter().enumerate() {
                let raw = row.try_get_raw(i)?;
                let cell = if raw.is_null() {
                    assay_sdk::Value::Null
                } else {
                    value(raw, column).map_err(|e| {
                        $crate::conn::Failure::Call(format!(
                            "column '{}' ({}): {e}",
                            column.name(),
                            column.type_info().name()
                        ))
                    })?
                };
                map.insert(column.name(), cell);
            }
            Ok(map)
        }

        /// Runs `sql` with `params` on `conn`, as `action` says.
        pub async fn run(
            conn: &mut $connection,
            sql: String,
            params: &[assay_sdk::Value],
            action: $crate::conn::Action,
        ) -> Result<assay_sdk::Value, $crate::conn::Failure> {
            use $crate::conn::{Action, Rows};
            let arguments = prepare(&mut *conn, &sql, params).await?;
            let statement = sqlx::query_with(sqlx::AssertSqlSafe(sql), arguments);
            match action {
                Action::Query { rows, limit } => {
                    let mut found = Vec::new();
                    let mut held = $crate::conn::Held::new(limit);
                    let mut stream = statement.fetch(&mut *conn);
                    while let Some(next) = futures_util::TryStreamExt::try_next(&mut stream).await?
                    {
                        let map = row(&next)?;
                        held.add(&map)?;
                        found.push(map);
                        if rows == Rows::First {
                            break;
                        }
                    }
                    Ok(rows.value(found))
                }
                Action::Execute => {
                    let done = statement.execute(&mut *conn).await?;
                    Ok(Action::result(done.rows_affected(), last_id(&done)))
                }
            }
        }
    };
}

pub(crate) use statements;
