//! What every backend does alike with a statement, written once: the backend's module gives
//! `prepare` (the arguments, once the statement is known to take that many), `row` (a row as
//! a map) and `last_id` (what `execute` reports as `last_insert_id`), and this makes its
//! `run`.

/// `pub async fn run(conn, sql, params, action)` for a backend whose connection type is
/// `$connection`.
macro_rules! statements {
    ($connection:ty) => {
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
                Action::Query(rows) => {
                    let found = match rows {
                        Rows::First => statement
                            .fetch_optional(&mut *conn)
                            .await?
                            .into_iter()
                            .collect(),
                        Rows::All => statement.fetch_all(&mut *conn).await?,
                    };
                    Ok(rows.value(found.iter().map(row).collect::<Result<Vec<_>, _>>()?))
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
