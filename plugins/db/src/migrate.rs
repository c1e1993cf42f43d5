//! `db.migrate(conn, dir)`: applies the `NNN_name.sql` files of `dir` in the order of their
//! numbers, each once: a file applied before (recorded in the `assay_migrations` table, made
//! when missing) is skipped, so running it again changes nothing. Each file runs in a
//! transaction with its record, so a file that fails leaves neither its changes nor a record
//! (MySQL/MariaDB commit DDL statements at once whatever the transaction: there a failed file
//! may leave the statements before the failing one). Returns the names of the files applied.
//!
//! A file may hold several statements, but no transaction control: on SQLite a COMMIT or
//! ROLLBACK in a file is an error (the file is not recorded); on PostgreSQL and MySQL it
//! would end the file's transaction early, so keep it out. Two files with the same number, or a name that does
//! not start with a number, are errors before anything runs.

use std::path::{Path, PathBuf};

use assay_sdk::{Args, Error, List, Result, Value};
use sqlx::AssertSqlSafe;

use crate::conn::{Action, Conn, Db, Failure};

/// The largest migration file read.
const MAX_FILE: u64 = 16 << 20;

const CREATE: &str = "CREATE TABLE IF NOT EXISTS assay_migrations (version BIGINT PRIMARY KEY, \
                      name VARCHAR(255) NOT NULL, applied_at VARCHAR(64) NOT NULL)";

pub async fn migrate(conn: Conn, args: Args, base: usize) -> Result<List> {
    args.at_most(base + 1, 0)?;
    let dir = PathBuf::from(args.str(base + 1, "dir")?);
    let files = files(&dir)?;
    let fail = |e: Failure| Error::new(e.message());
    let db = conn.db()?;
    run_on(db, CREATE.to_owned(), &[], Action::Execute)
        .await
        .map_err(fail)?;
    let applied = run_on(
        db,
        "SELECT version FROM assay_migrations".into(),
        &[],
        Action::Query {
            rows: crate::conn::Rows::All,
            limit: None,
        },
    )
    .await
    .map_err(fail)?;
    let done: Vec<i64> = applied
        .as_list()
        .map(|rows| {
            rows.iter()
                .filter_map(|r| {
                    r.as_map()
                        .and_then(|m| m.get("version"))
                        .and_then(Value::as_int)
                })
                .collect()
        })
        .unwrap_or_default();
    let mut names = List::new();
    for (version, name, path) in files {
        if done.contains(&version) {
            continue;
        }
        let sql = assay_sdk::files::read_regular_text(&path, MAX_FILE)
            .map_err(|e| Error::new(e.to_string()))?;
        let stamp = now();
        apply(db, &sql, version, &name, &stamp)
            .await
            .map_err(|e| Error::new(format!("{}: {}", path.display(), e.message())))?;
        names.push(name);
    }
    Ok(names)
}

/// The `NNN_name.sql` files of `dir`, sorted by number.
fn files(dir: &Path) -> Result<Vec<(i64, String, PathBuf)>> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Error::new(format!("cannot read {}: {e}", dir.display())))?;
    let mut found: Vec<(i64, String, PathBuf)> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::new(format!("cannot read {}: {e}", dir.display())))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(stem) = name.strip_suffix(".sql") else {
            continue;
        };
        let digits: String = stem.chars().take_while(char::is_ascii_digit).collect();
        let version = digits
            .parse::<i64>()
            .ok()
            .filter(|_| stem[digits.len()..].starts_with('_'))
            .ok_or_else(|| {
                Error::new(format!(
                    "{}: a migration is named NNN_name.sql (a number, '_', a name)",
                    entry.path().display()
                ))
            })?;
        if let Some((_, other, _)) = found.iter().find(|(v, _, _)| *v == version) {
            return Err(Error::new(format!(
                "{} and {other} have the same number {version}",
                name
            )));
        }
        found.push((version, name, entry.path()));
    }
    found.sort_by_key(|(v, _, _)| *v);
    Ok(found)
}

/// Runs one file and records it, in one transaction.
async fn apply(
    db: &Db,
    sql: &str,
    version: i64,
    name: &str,
    stamp: &str,
) -> std::result::Result<(), Failure> {
    let record = vec![Value::Int(version), Value::from(name), Value::from(stamp)];
    macro_rules! on {
        ($pool:expr, $module:ident, $insert:expr) => {{
            let mut tx = $pool.begin().await?;
            sqlx::raw_sql(AssertSqlSafe(sql.to_owned()))
                .execute(&mut *tx)
                .await?;
            crate::$module::run(&mut tx, $insert.into(), &record, Action::Execute).await?;
            tx.commit().await?;
            Ok(())
        }};
    }
    match db {
        Db::Postgres(pool) => on!(
            pool,
            postgres,
            "INSERT INTO assay_migrations VALUES ($1, $2, $3)"
        ),
        Db::MySql(pool) => on!(pool, mysql, "INSERT INTO assay_migrations VALUES (?, ?, ?)"),
        Db::Sqlite(pool) => {
            let mut guard = pool.acquire().await?;
            crate::sqlite::command(&mut guard, pool.begin()).await?;
            crate::sqlite::command(&mut guard, sql).await?;
            if !guard.in_transaction() {
                return Err(Failure::Call(
                    "the file ended the migration's transaction itself (a COMMIT or ROLLBACK \
                     in it): what ran before that stays, and the file is not recorded; take \
                     transaction control out of migration files"
                        .into(),
                ));
            }
            let insert = "INSERT INTO assay_migrations VALUES (?, ?, ?)".to_owned();
            crate::sqlite::run(&mut guard, insert, &record, Action::Execute).await?;
            // Dropped without COMMIT on a failure above, the guard rolls back.
            crate::sqlite::command(&mut guard, "COMMIT").await
        }
    }
}

/// A statement on a connection of the pool.
async fn run_on(
    db: &Db,
    sql: String,
    params: &[Value],
    action: Action,
) -> std::result::Result<Value, Failure> {
    match db {
        Db::Postgres(pool) => {
            crate::postgres::run(&mut *pool.acquire().await?, sql, params, action).await
        }
        Db::MySql(pool) => {
            crate::mysql::run(&mut *pool.acquire().await?, sql, params, action).await
        }
        Db::Sqlite(pool) => {
            crate::sqlite::run(&mut pool.acquire().await?, sql, params, action).await
        }
    }
}

/// The time now, RFC 3339 in UTC.
fn now() -> String {
    let t = time::OffsetDateTime::now_utc();
    crate::mysql::datetime(time::PrimitiveDateTime::new(t.date(), t.time()), "Z")
}
