//! Running a statement: on the calling thread first, waiting out another connection's lock
//! by yielding, and moving to a blocking thread when it runs long (see the module above).

use std::time::{Duration, Instant};

use assay_sdk::Value;
use rusqlite::ErrorCode;

use super::{Guard, Lite, values};
use crate::conn::{Action, Failure, Held};

/// How long a statement runs on the calling thread before it moves to a blocking thread.
const INLINE_BUDGET: Duration = Duration::from_millis(5);
/// How long a statement waits for another connection's lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest pause between two tries of a statement that found the database locked.
const LONGEST_PAUSE: Duration = Duration::from_millis(50);

/// How a try of a statement ended, when it did not end well.
enum Stop {
    /// Another connection holds the lock: try again later.
    Busy(rusqlite::Error),
    /// It ran past its budget and was stopped: run it again on a blocking thread.
    Long,
    Failed(Failure),
}

impl From<Failure> for Stop {
    fn from(f: Failure) -> Self {
        Stop::Failed(f)
    }
}

/// Runs `sql` with `params` on the guard's connection, as `action` says.
pub async fn run(
    guard: &mut Guard,
    sql: String,
    params: &[Value],
    action: Action,
) -> Result<Value, Failure> {
    let give_up = Instant::now() + BUSY_TIMEOUT;
    let mut pause = Duration::from_millis(1);
    // Before any try: a stopped try may move the last row id, and its rollback does not put
    // it back.
    let id_before = guard.lite()?.conn.last_insert_rowid();
    let budget = Some(INLINE_BUDGET);
    loop {
        match attempt(guard.lite()?, &sql, params, action, budget, id_before) {
            Ok(value) => return Ok(value),
            Err(Stop::Failed(f)) => return Err(f),
            Err(Stop::Busy(e)) => wait(e, give_up, &mut pause).await?,
            Err(Stop::Long) => {
                return offloaded(guard, sql, params.to_vec(), action, id_before).await;
            }
        }
    }
}

/// Runs SQL without parameters or rows (BEGIN, COMMIT, savepoints, a migration file of
/// several statements) on the guard's connection, waiting out another connection's lock.
pub async fn command(guard: &mut Guard, sql: &str) -> Result<(), Failure> {
    let give_up = Instant::now() + BUSY_TIMEOUT;
    let mut pause = Duration::from_millis(1);
    loop {
        let lite = guard.lite()?;
        lite.deadline.set(None);
        match lite.conn.execute_batch(sql) {
            Ok(()) => return Ok(()),
            Err(e) if is_busy(&e) => wait(e, give_up, &mut pause).await?,
            Err(e) => return Err(Failure::Sqlite(e)),
        }
    }
}

/// Pauses before the next try, or fails once the lock has been waited for long enough.
async fn wait(e: rusqlite::Error, give_up: Instant, pause: &mut Duration) -> Result<(), Failure> {
    if Instant::now() >= give_up {
        return Err(Failure::Call(format!(
            "{} (another connection held it for more than {} s)",
            crate::errors::sqlite(e),
            BUSY_TIMEOUT.as_secs()
        )));
    }
    assay_sdk::tokio::time::sleep(*pause).await;
    *pause = (*pause * 2).min(LONGEST_PAUSE);
    Ok(())
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    )
}

/// The statement on a blocking thread, from its start, with no budget. The checkout travels
/// with it; if the caller goes away meanwhile, the statement is stopped and the checkout
/// goes back to the pool from the blocking thread.
async fn offloaded(
    guard: &mut Guard,
    sql: String,
    params: Vec<Value>,
    action: Action,
    id_before: i64,
) -> Result<Value, Failure> {
    let mut checkout = guard.0.take();
    let deadline = checkout
        .as_mut()
        .and_then(|c| c.lite.as_ref())
        .map(|lite| lite.deadline.clone());
    /// Stops the statement when its caller goes away.
    struct StopOnDrop(Option<std::sync::Arc<super::Deadline>>);
    impl Drop for StopOnDrop {
        fn drop(&mut self) {
            if let Some(d) = &self.0 {
                d.stop_now();
            }
        }
    }
    let mut stop = StopOnDrop(deadline);
    let task = assay_sdk::tokio::task::spawn_blocking(move || {
        let give_up = Instant::now() + BUSY_TIMEOUT;
        let mut pause = Duration::from_millis(1);
        let result = loop {
            let Some(lite) = checkout.as_mut().and_then(|c| c.lite.as_mut()) else {
                break Err(Failure::Call("the connection was lost".into()));
            };
            match attempt(lite, &sql, &params, action, None, id_before) {
                Ok(value) => break Ok(value),
                Err(Stop::Failed(f)) => break Err(f),
                Err(Stop::Long) => {
                    break Err(Failure::Call("the statement was cancelled".into()));
                }
                Err(Stop::Busy(e)) if Instant::now() < give_up => {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(LONGEST_PAUSE);
                    let _ = e;
                }
                Err(Stop::Busy(e)) => break Err(Failure::Sqlite(e)),
            }
        };
        (checkout, result)
    });
    let joined = task.await;
    stop.0 = None;
    match joined {
        Ok((checkout, result)) => {
            guard.0 = checkout;
            result
        }
        Err(e) => Err(Failure::Call(format!("the statement's thread failed: {e}"))),
    }
}

/// One try of the statement, stopped after `budget` when stopping it loses nothing.
/// `execute`'s `rows_affected` counts the rows the statement itself changed (not those of
/// triggers or foreign-key actions, as PostgreSQL and MySQL count); `last_insert_id` is the
/// row id the statement inserted, absent when it inserted none (an upsert that updated, a
/// `WITHOUT ROWID` table).
fn attempt(
    lite: &mut Lite,
    sql: &str,
    params: &[Value],
    action: Action,
    budget: Option<Duration>,
    id_before: i64,
) -> Result<Value, Stop> {
    let Lite { conn, deadline } = lite;
    let mut statement = conn.prepare_cached(sql).map_err(sql_error)?;
    crate::bind::check_count(statement.parameter_count(), params.len())?;
    values::bind(&mut statement, params)?;
    // A write inside a transaction cannot be stopped without rolling the transaction back.
    let stoppable = statement.readonly() || conn.is_autocommit();
    deadline.set(budget.filter(|_| stoppable));
    let stopped = |e: rusqlite::Error| {
        if deadline.fired.load(std::sync::atomic::Ordering::Relaxed) {
            Stop::Long
        } else {
            sql_error(e)
        }
    };
    // Column names are read only for rows to make (a query), not for `execute`.
    let columns = match action {
        Action::Query { .. } => values::Columns::of(&statement)?,
        Action::Execute => values::Columns::default(),
    };
    let changes_before = conn.total_changes();
    let mut rows = statement.raw_query();
    match action {
        Action::Query {
            rows: wanted,
            limit,
        } => {
            let mut found = Vec::new();
            let mut held = Held::new(limit);
            while let Some(row) = rows.next().map_err(stopped)? {
                let map = columns.row(row, &mut held)?;
                found.push(map);
                if wanted == crate::conn::Rows::First {
                    break;
                }
            }
            drop(rows);
            deadline.set(None);
            Ok(wanted.value(found))
        }
        Action::Execute => {
            // Rows a statement returns (a PRAGMA, a RETURNING clause) are read and dropped.
            while rows.next().map_err(stopped)?.is_some() {}
            drop(rows);
            deadline.set(None);
            // `changes()` is the last finished INSERT, UPDATE or DELETE's own count: this
            // statement's, if it changed anything at all.
            let affected = if conn.total_changes() == changes_before {
                0
            } else {
                conn.changes()
            };
            let id = conn.last_insert_rowid();
            let id = (affected > 0 && id != id_before).then_some(id);
            Ok(Action::result(affected, id))
        }
    }
}

fn sql_error(e: rusqlite::Error) -> Stop {
    if is_busy(&e) {
        Stop::Busy(e)
    } else {
        Stop::Failed(Failure::Sqlite(e))
    }
}
