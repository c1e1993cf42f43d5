//! SQLite, through rusqlite, run on the calling thread.
//!
//! SQLite is a library in the process, not a server: a point select or an insert takes a
//! microsecond or two, far less than handing the statement to another thread and back. So a
//! statement runs where the script calls it, as Python's `sqlite3`, Node's `node:sqlite`
//! and Bun do, and costs no thread hop. Two things would make that block the script's other
//! coroutines, and neither does:
//!
//! - **A lock held by another connection.** SQLite's own busy wait would sleep the script's
//!   thread, and if the holder is a coroutine of the same script it could never finish. So
//!   SQLite's busy timeout is zero and the plugin waits itself: a statement that finds the
//!   database locked yields, retries with a growing pause, and says "database is locked"
//!   after 5 s.
//! - **A long statement.** A statement that has run 5 ms and can be stopped without loss (a
//!   read, or any statement outside an explicit transaction, which SQLite rolls back whole)
//!   is stopped and run again from the start on a blocking thread while the script goes on;
//!   a slow report query never stalls an `http.server` handler beside it. A write inside a
//!   transaction cannot be stopped that way (SQLite would roll the whole transaction back),
//!   so it runs to its end where it is.
//!
//! The pool keeps opened connections for reuse: at most `max_connections`, each closed
//! after `idle_timeout` unused (checked every half `idle_timeout`). `sqlite::memory:` is one connection, kept whatever those say
//! (the database lives as long as it). Files are opened in WAL mode (readers and a writer at
//! once), with foreign keys enforced, and created when missing. `conn:transaction` begins
//! with `BEGIN IMMEDIATE`: it takes the write lock at once, so two transactions that would
//! both write wait for each other instead of one failing when it first writes.

mod statement;
mod values;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use assay_sdk::tokio::sync::{OwnedSemaphorePermit, Semaphore};
use rusqlite::{Connection, OpenFlags};

use crate::conn::Failure;
pub use statement::{command, run};

/// The URL query parameters passed on to SQLite (see <https://sqlite.org/uri.html>).
const KNOWN_PARAMETERS: &[&str] = &["mode", "cache", "immutable", "vfs"];
/// Statements a connection keeps prepared.
const STATEMENT_CACHE: usize = 64;

/// Where the connections of a pool open, and how.
struct Target {
    /// A SQLite URI filename (`file:...`), or `:memory:`.
    path: String,
    memory: bool,
    read_only: bool,
}

/// A pool of connections to one database.
pub struct Pool {
    target: Target,
    idle: Mutex<Vec<(Lite, Instant)>>,
    permits: Arc<Semaphore>,
    timeout: Duration,
    idle_timeout: Option<Duration>,
    closed: AtomicBool,
}

/// A connection and the clock of the statement it runs.
pub struct Lite {
    conn: Connection,
    deadline: Arc<Deadline>,
}

/// When the statement running must stop (checked every 1000 SQLite VM instructions). The
/// clock starts at the first check, not when the statement does: most statements never
/// reach one, and so never read the clock.
struct Deadline {
    base: Instant,
    /// The budget in nanoseconds; `u64::MAX`: none.
    budget: AtomicU64,
    /// Nanoseconds after `base`; `UNSTARTED` until the first check; `u64::MAX`: never.
    at: AtomicU64,
    /// The statement was stopped for its deadline.
    fired: AtomicBool,
}

const UNSTARTED: u64 = u64::MAX - 1;

impl Deadline {
    fn set(&self, budget: Option<Duration>) {
        let budget = budget.map_or(u64::MAX, |d| {
            u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
        });
        self.fired.store(false, Ordering::Relaxed);
        self.budget.store(budget, Ordering::Relaxed);
        self.at.store(UNSTARTED, Ordering::Relaxed);
    }

    /// Stops the statement running at its next check (its caller went away).
    fn stop_now(&self) {
        self.budget.store(0, Ordering::Relaxed);
        self.at.store(0, Ordering::Relaxed);
    }

    fn passed(&self) -> bool {
        let budget = self.budget.load(Ordering::Relaxed);
        if budget == u64::MAX {
            return false;
        }
        let now = self.base.elapsed().as_nanos() as u64;
        let at = self.at.load(Ordering::Relaxed);
        if at == UNSTARTED {
            self.at.store(now.saturating_add(budget), Ordering::Relaxed);
            return false;
        }
        if now < at {
            return false;
        }
        self.fired.store(true, Ordering::Relaxed);
        true
    }
}

impl Pool {
    /// A pool for `url` (`sqlite::memory:`, `sqlite://path`, `sqlite:path`, with SQLite's
    /// `mode`, `cache`, `immutable` and `vfs` parameters), with one connection opened now, so
    /// a database that cannot be opened is said at once. The path is percent-decoded as in
    /// any URL (`%20` is a space); a `#` is refused (SQLite would end the name there), and so
    /// is an empty path (`"sqlite://" .. os.getenv("DB")` with `DB` unset is not a database
    /// in memory that vanishes at exit).
    pub fn open(
        url: &str,
        max_connections: u32,
        timeout: Duration,
        idle_timeout: Option<Duration>,
    ) -> Result<Arc<Pool>, String> {
        let target = Target::of(url)?;
        bound_heap(assay_sdk::host::memory_limit());
        let max = if target.memory {
            1
        } else {
            max_connections as usize
        };
        let pool = Arc::new(Pool {
            idle_timeout: if target.memory { None } else { idle_timeout },
            target,
            idle: Mutex::new(Vec::new()),
            permits: Arc::new(Semaphore::new(max)),
            timeout,
            closed: AtomicBool::new(false),
        });
        let first = pool.connect().map_err(|e| e.to_string())?;
        pool.put_back(first);
        if let Some(limit) = pool.idle_timeout {
            let weak = Arc::downgrade(&pool);
            assay_sdk::runtime().spawn(async move {
                loop {
                    assay_sdk::tokio::time::sleep(limit / 2).await;
                    match weak.upgrade() {
                        Some(pool) if !pool.closed.load(Ordering::Relaxed) => pool.reap(),
                        _ => break,
                    }
                }
            });
        }
        Ok(pool)
    }

    /// Closes the connections unused for longer than `idle_timeout` (oldest first in the list).
    fn reap(&self) {
        let Some(limit) = self.idle_timeout else {
            return;
        };
        let stale: Vec<(Lite, Instant)> = {
            let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
            let n = idle
                .iter()
                .take_while(|(_, at)| at.elapsed() > limit)
                .count();
            idle.drain(..n).collect()
        };
        drop(stale);
    }

    fn connect(&self) -> rusqlite::Result<Lite> {
        let mut flags = OpenFlags::SQLITE_OPEN_URI | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        flags |= if self.target.read_only {
            OpenFlags::SQLITE_OPEN_READ_ONLY
        } else {
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE
        };
        let mut conn = Connection::open_with_flags(&self.target.path, flags)?;
        conn.busy_timeout(Duration::ZERO)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        // Reads the file's header: a file that is not a database says so now.
        conn.query_row("PRAGMA schema_version", [], |_| Ok(()))?;
        conn.execute_batch("PRAGMA foreign_keys = ON")?;
        if !self.target.memory && !self.target.read_only {
            // Kept in the file once set; another connection switching it at the same
            // moment makes this one fail harmlessly.
            let _ = conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()));
        }
        let deadline = Arc::new(Deadline {
            base: Instant::now(),
            budget: AtomicU64::new(u64::MAX),
            at: AtomicU64::new(UNSTARTED),
            fired: AtomicBool::new(false),
        });
        let watched = deadline.clone();
        conn.progress_handler(1000, Some(move || watched.passed()))?;
        Ok(Lite { conn, deadline })
    }

    /// A connection of the pool, waiting (yielding) up to the pool's timeout for one.
    pub async fn acquire(self: &Arc<Self>) -> Result<Guard, Failure> {
        let permit = match self.permits.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                match assay_sdk::tokio::time::timeout(
                    self.timeout,
                    self.permits.clone().acquire_owned(),
                )
                .await
                {
                    Ok(Ok(permit)) => permit,
                    Ok(Err(_)) => return Err(Failure::Call(crate::errors::POOL_CLOSED.into())),
                    Err(_) if self.target.memory => {
                        return Err(Failure::Call(
                            "the one connection of sqlite::memory: stayed in use past the \
                             pool's timeout: inside conn:transaction, run statements on tx, \
                             not conn"
                                .into(),
                        ));
                    }
                    Err(_) => return Err(Failure::Call(crate::errors::POOL_TIMED_OUT.into())),
                }
            }
        };
        if self.closed.load(Ordering::Relaxed) {
            return Err(Failure::Call(crate::errors::POOL_CLOSED.into()));
        }
        let kept = {
            let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(limit) = self.idle_timeout {
                // Oldest first: the ones unused for longer than idle_timeout close.
                let stale = idle
                    .iter()
                    .take_while(|(_, at)| at.elapsed() > limit)
                    .count();
                idle.drain(..stale);
            }
            idle.pop().map(|(lite, _)| lite)
        };
        let lite = match kept {
            Some(lite) => lite,
            None => self.connect().map_err(Failure::Sqlite)?,
        };
        Ok(Guard(Some(Checkout {
            lite: Some(lite),
            pool: self.clone(),
            _permit: permit,
        })))
    }

    /// A connection back for reuse: rolled back first if it was left in a transaction.
    fn put_back(&self, lite: Lite) {
        if !lite.conn.is_autocommit() && lite.conn.execute_batch("ROLLBACK").is_err() {
            return;
        }
        if self.closed.load(Ordering::Relaxed) || !lite.conn.is_autocommit() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        idle.push((lite, Instant::now()));
    }

    /// Closes the pool: idle connections close now, those in use when their statement ends;
    /// later statements fail saying so.
    pub fn close(&self) {
        self.closed.store(true, Ordering::Relaxed);
        self.permits.close();
        self.idle.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// BEGIN for `conn:transaction`: a read-only database cannot take the write lock.
    pub fn begin(&self) -> &'static str {
        if self.target.read_only {
            "BEGIN"
        } else {
            "BEGIN IMMEDIATE"
        }
    }
}

/// SQLite's own memory (memory databases, the page cache, sorts) counts against the script's
/// memory limit: past it a statement fails with SQLite's "out of memory", as a table past it
/// fails in Lua. SQLite's heap limit is one for the process, so with several scripts in one
/// process (check mode's workers) it is the largest of their limits, and none once a script
/// without a limit opens a database.
fn bound_heap(limit: Option<u64>) {
    /// The heap limit set so far: `None` before the first database, `Some(0)` for none.
    static SET: Mutex<Option<i64>> = Mutex::new(None);
    let mut set = SET.lock().unwrap_or_else(|e| e.into_inner());
    let wanted = limit.map_or(0, |l| i64::try_from(l).unwrap_or(i64::MAX));
    let next = match *set {
        None => wanted,
        Some(0) => return,
        Some(_) if wanted == 0 => 0,
        Some(current) => current.max(wanted),
    };
    if *set != Some(next) {
        // SAFETY: sqlite3_hard_heap_limit64 may be called from any thread at any time.
        unsafe { rusqlite::ffi::sqlite3_hard_heap_limit64(next) };
        *set = Some(next);
    }
}

/// A connection taken from the pool, with its place in it; it goes back when dropped.
struct Checkout {
    /// `None` only while it is dropped.
    lite: Option<Lite>,
    pool: Arc<Pool>,
    _permit: OwnedSemaphorePermit,
}

impl Drop for Checkout {
    fn drop(&mut self) {
        if let Some(lite) = self.lite.take() {
            self.pool.put_back(lite);
        }
    }
}

/// A connection in use. Its checkout moves to a blocking thread with a long statement, and
/// comes back with it; were the statement's caller to go away meanwhile, the checkout goes
/// back to the pool from there.
pub struct Guard(Option<Checkout>);

impl Guard {
    /// Whether the connection is inside a transaction.
    pub fn in_transaction(&mut self) -> bool {
        self.lite().is_ok_and(|lite| !lite.conn.is_autocommit())
    }

    fn lite(&mut self) -> Result<&mut Lite, Failure> {
        self.0
            .as_mut()
            .and_then(|c| c.lite.as_mut())
            .ok_or_else(|| {
                Failure::Call("the connection was lost with a cancelled statement".into())
            })
    }
}

impl Target {
    fn of(url: &str) -> Result<Target, String> {
        let rest = &url["sqlite:".len()..];
        let rest = rest.strip_prefix("//").unwrap_or(rest);
        let shown = crate::url::redact(url);
        if rest.contains('#') {
            return Err(format!(
                "{shown}: a '#' in a SQLite URL would end its file name; write it as %23"
            ));
        }
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let mut read_only = false;
        let mut memory = path == ":memory:";
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            if !KNOWN_PARAMETERS.contains(&key) {
                return Err(format!(
                    "{shown}: unknown parameter '{key}' (SQLite URLs take {})",
                    KNOWN_PARAMETERS.join(", ")
                ));
            }
            match (key, value) {
                ("mode", "ro") | ("immutable", "1") => read_only = true,
                ("mode", "memory") => memory = true,
                _ => {}
            }
        }
        if path.is_empty() && !memory {
            return Err(format!(
                "{shown} names no file: give a path (sqlite:///var/lib/app.db, \
                 sqlite://relative.db) or sqlite::memory: for a database in memory"
            ));
        }
        let path = if path.is_empty() || path == ":memory:" {
            if query.is_empty() {
                ":memory:".to_owned()
            } else {
                format!("file::memory:?{query}")
            }
        } else if query.is_empty() {
            format!("file:{path}")
        } else {
            format!("file:{path}?{query}")
        };
        Ok(Target {
            path,
            memory,
            read_only,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let t = Target::of("sqlite::memory:").expect("memory");
        assert_eq!(
            (t.path.as_str(), t.memory, t.read_only),
            (":memory:", true, false)
        );
        let t = Target::of("sqlite:///var/a.db?mode=ro").expect("ro");
        assert_eq!(
            (t.path.as_str(), t.memory, t.read_only),
            ("file:/var/a.db?mode=ro", false, true)
        );
        let t = Target::of("sqlite://rel.db").expect("relative");
        assert_eq!(t.path, "file:rel.db");
        let e = Target::of("sqlite:///a.db?journal=wal")
            .err()
            .expect("unknown");
        assert!(e.contains("unknown parameter 'journal'"), "{e}");
    }
}
