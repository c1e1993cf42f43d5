//! `db.connect` and the connection object: a pool of one backend's connections.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use assay_sdk::{Args, Error, List, Map, Methods, Multi, Object, ObjectType, Result, Value};
use sqlx::mysql::{MySqlConnectOptions, MySqlPoolOptions};
use sqlx::pool::PoolOptions;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Database, Executor, MySqlPool, PgPool};

use crate::errors::{self, Doing};
use crate::url::{self, Backend};

/// Connections a pool opens at most unless `max_connections` says otherwise.
const DEFAULT_MAX_CONNECTIONS: u32 = 10;
/// How long a statement waits for a free connection unless `timeout` says otherwise.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The longest `timeout` or `idle_timeout` (larger values mean this: for ever, in practice).
const LONGEST_WAIT: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// A pooled connection unused for this long is checked (pinged) before it is handed out; a
/// dead one is dropped and another taken.
const PING_IF_IDLE_FOR: Duration = Duration::from_secs(1);

/// One backend's pool.
#[derive(Clone)]
pub enum Db {
    Postgres(PgPool),
    MySql(MySqlPool),
    Sqlite(Arc<crate::sqlite::Pool>),
}

/// A connection object (a pool); clones share it.
#[derive(Clone)]
pub struct Conn(Arc<Shared>);

pub struct Shared {
    /// `None` only while it is dropped.
    db: Option<Db>,
    /// The URL with its password hidden, for messages.
    shown: String,
}

/// How many rows a query returns.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Rows {
    All,
    First,
}

impl Rows {
    /// The rows as the script gets them: a list, or the first row (`nil` for none).
    pub fn value(self, found: Vec<Map>) -> Value {
        match self {
            Rows::First => found.into_iter().next().map_or(Value::Nil, Value::Map),
            Rows::All => Value::Array(found.into_iter().map(Value::Map).collect::<List>()),
        }
    }
}

/// What a statement is run for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Rows, whose values may take at most `limit` bytes outside Lua (the calling script's
    /// memory limit): a query returning millions of rows is an error, not an unbounded buffer.
    Query {
        rows: Rows,
        limit: Option<u64>,
    },
    Execute,
}

impl Action {
    /// A query for the calling script: call it on the Lua thread (it reads the memory limit).
    pub fn query(rows: Rows) -> Action {
        Action::Query {
            rows,
            limit: assay_sdk::host::memory_limit(),
        }
    }

    /// `execute`'s result: `{rows_affected, last_insert_id}`.
    pub fn result(affected: u64, last_insert_id: Option<i64>) -> Value {
        let mut out = Map::new();
        out.insert("rows_affected", affected);
        if let Some(id) = last_insert_id {
            out.insert("last_insert_id", id);
        }
        Value::Map(out)
    }
}

/// `db.connect(url, {max_connections, timeout, idle_timeout, ca_cert})`.
pub async fn connect(args: Args) -> Result<Object> {
    args.at_most(2, 0)?;
    let given = args.str(1, "url")?.to_owned();
    let options = args.options(2, "opts")?;
    options.only(&["max_connections", "timeout", "idle_timeout", "ca_cert"])?;
    let max_connections = match options.int("max_connections")? {
        None => DEFAULT_MAX_CONNECTIONS,
        Some(n) => u32::try_from(n)
            .ok()
            .filter(|n| (1..=10_000).contains(n))
            .ok_or_else(|| options.invalid("max_connections", "a number from 1 to 10000"))?,
    };
    let seconds = |key: &str| -> Result<Option<Duration>> {
        options
            .float(key)?
            .map(|s| {
                // Past a century (math.huge too) is for ever; it must still be addable to a
                // clock.
                (!s.is_nan())
                    .then(|| Duration::try_from_secs_f64(s.min(LONGEST_WAIT.as_secs_f64())))
                    .and_then(std::result::Result::ok)
                    .filter(|d| !d.is_zero())
                    .ok_or_else(|| options.invalid(key, "a positive number of seconds"))
            })
            .transpose()
    };
    let timeout = seconds("timeout")?.unwrap_or(DEFAULT_TIMEOUT);
    let idle_timeout = seconds("idle_timeout")?;
    let ca = options
        .str("ca_cert")?
        .map(crate::tls::ca_cert)
        .transpose()?;
    let (backend, url) = Backend::of(&given).map_err(Error::new)?;
    if backend == Backend::Sqlite && ca.is_some() {
        return Err(options.invalid("ca_cert", "SQLite is a file, not a server: it has no TLS"));
    }
    let shown = url::redact(&given);
    let host = url::host(&url);
    let doing = Doing {
        backend,
        url: &shown,
        host: host.as_deref(),
    };
    let fail = |e: sqlx::Error| Error::new(errors::connecting(&doing, e));
    let db = match backend {
        Backend::Postgres => {
            let options = PgConnectOptions::from_str(&url).map_err(fail)?;
            let options = crate::tls::postgres(options, ca)?;
            // One connection first: through the pool a refused connection would only say
            // "timed out" after `timeout`.
            first_connection(options.connect(), timeout, &doing).await?;
            Db::Postgres(
                pool::<sqlx::Postgres>(
                    // PostgreSQL 14+ stops a statement whose client went away (an abandoned
                    // statement's connection is closed: `CloseIfAbandoned`) within a second,
                    // instead of running it to its end.
                    PgPoolOptions::new().after_connect(|conn, _| {
                        Box::pin(async move {
                            if conn.server_version_num().is_some_and(|v| v >= 140_000) {
                                conn.execute("SET client_connection_check_interval = 1000")
                                    .await?;
                            }
                            Ok(())
                        })
                    }),
                    max_connections,
                    timeout,
                    idle_timeout,
                )
                .connect_lazy_with(options),
            )
        }
        Backend::MySql => {
            let options = MySqlConnectOptions::from_str(&url).map_err(fail)?;
            let options = crate::tls::mysql(options, ca)?;
            first_connection(options.connect(), timeout, &doing).await?;
            Db::MySql(
                pool::<sqlx::MySql>(
                    MySqlPoolOptions::new(),
                    max_connections,
                    timeout,
                    idle_timeout,
                )
                .connect_lazy_with(options),
            )
        }
        Backend::Sqlite => Db::Sqlite(
            crate::sqlite::Pool::open(&url, max_connections, timeout, idle_timeout)
                .map_err(|e| Error::new(format!("cannot open the SQLite database {shown}: {e}")))?,
        ),
    };
    Ok(Object::new(Conn(Arc::new(Shared {
        db: Some(db),
        shown,
    }))))
}

/// The first connection, made within `timeout`: a server that accepts and never answers
/// is an error, not a wait for ever.
async fn first_connection<C>(
    connecting: impl std::future::Future<Output = sqlx::Result<C>>,
    timeout: Duration,
    doing: &Doing<'_>,
) -> Result<()> {
    match assay_sdk::tokio::time::timeout(timeout, connecting).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(Error::new(errors::connecting(doing, e))),
        Err(_) => Err(Error::new(format!(
            "cannot connect to {} at {}: no answer within {} s (the timeout option)",
            doing.backend.name(),
            doing.host.unwrap_or(doing.url),
            timeout.as_secs_f64()
        ))),
    }
}

fn pool<DB: Database>(
    options: PoolOptions<DB>,
    max_connections: u32,
    timeout: Duration,
    idle_timeout: Option<Duration>,
) -> PoolOptions<DB> {
    options
        .max_connections(max_connections)
        .acquire_timeout(timeout)
        .idle_timeout(idle_timeout)
        // sqlx pings every connection it hands out, a round trip per statement; like
        // HikariCP, check only one that sat idle a while (the server may have closed it).
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for < PING_IF_IDLE_FOR {
                    return Ok(true);
                }
                Ok(sqlx::Connection::ping(conn).await.is_ok())
            })
        })
}

impl Conn {
    pub fn db(&self) -> Result<&Db> {
        self.0
            .db
            .as_ref()
            .ok_or_else(|| Error::new(format!("{}: the connection is gone", self.0.shown)))
    }

    /// Runs a statement on a connection of the pool: `sql` at `base + 1`, `params` at
    /// `base + 2`.
    pub async fn run(&self, args: Args, base: usize, action: Action) -> Result<Value> {
        let (sql, params) = sql_and_params(&args, base)?;
        crate::control::refuse(&sql, false).map_err(Error::new)?;
        // The statement on a connection of a sqlx pool, closed if abandoned.
        macro_rules! pooled {
            ($pool:expr, $backend:ident) => {
                match $pool.acquire().await {
                    Ok(c) => {
                        let mut c = CloseIfAbandoned(Some(c));
                        let done = match c.get() {
                            Ok(conn) => crate::$backend::run(conn, sql, &params, action).await,
                            Err(e) => Err(e),
                        };
                        c.finished();
                        done
                    }
                    Err(e) => Err(e.into()),
                }
            };
        }
        let done = match self.db()? {
            Db::Postgres(pool) => pooled!(pool, postgres),
            Db::MySql(pool) => pooled!(pool, mysql),
            Db::Sqlite(pool) => match pool.acquire().await {
                Ok(mut c) => crate::sqlite::run(&mut c, sql, &params, action).await,
                Err(e) => Err(e),
            },
        };
        done.map_err(|e| Error::new(e.message()))
    }

    /// `conn:transaction(fn)`: see `crate::tx`.
    pub async fn transaction(&self, args: Args, base: usize) -> Result<Multi> {
        args.at_most(base + 1, 0)?;
        let f = args.callback(base + 1, "fn")?;
        crate::tx::run(self.db()?, f).await
    }

    /// Closes the pool at once: later calls fail saying so; idle connections close now and
    /// those in use as they come back (one held by a `conn:transaction` running, which may
    /// be the caller's own, when that ends), so closing never waits.
    pub async fn close(&self) {
        match self.0.db.as_ref() {
            Some(Db::Postgres(pool)) => close_in_background(pool.clone()),
            Some(Db::MySql(pool)) => close_in_background(pool.clone()),
            Some(Db::Sqlite(pool)) => pool.close(),
            None => {}
        }
    }
}

/// Marks a sqlx pool closed now (sqlx does that as `close` is called) and lets its
/// connections close as they come back.
fn close_in_background<DB: Database>(pool: sqlx::Pool<DB>) {
    drop(pool.close());
    assay_sdk::runtime().spawn(async move { pool.close().await });
}

/// A pooled connection running a statement. If the statement's caller goes away before it
/// ends (its task cancelled), the connection is closed instead of going back to the pool,
/// where it would hold its slot until the server finished the abandoned statement;
/// PostgreSQL then stops that statement too (see `pool`).
struct CloseIfAbandoned<DB: Database>(Option<sqlx::pool::PoolConnection<DB>>);

impl<DB: Database> CloseIfAbandoned<DB> {
    fn get(&mut self) -> std::result::Result<&mut DB::Connection, Failure> {
        self.0
            .as_deref_mut()
            .ok_or_else(|| Failure::Call("the connection is gone".into()))
    }

    fn finished(mut self) {
        drop(self.0.take());
    }
}

impl<DB: Database> Drop for CloseIfAbandoned<DB> {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            c.close_on_drop();
            let _runtime = assay_sdk::runtime().enter();
            drop(c);
        }
    }
}

/// `sql` at `base + 1` and the `params` list at `base + 2`, nothing after.
pub fn sql_and_params(args: &Args, base: usize) -> Result<(String, Vec<Value>)> {
    args.at_most(base + 2, 0)?;
    Ok((
        args.str(base + 1, "sql")?.to_owned(),
        params(args, base + 2)?,
    ))
}

/// The `params` list (absent: none).
fn params(args: &Args, pos: usize) -> Result<Vec<Value>> {
    match args.get(pos) {
        Value::Nil => Ok(Vec::new()),
        Value::Array(list) => Ok(list.as_slice().to_vec()),
        Value::Map(map) if map.is_empty() => Ok(Vec::new()),
        // {1, nil, 3} is not a list to Lua: the usual slip for NULL.
        Value::Map(map) if map.iter().all(|(k, _)| k.as_int().is_some()) => Err(args.invalid(
            pos,
            "params",
            "a list with a hole: a nil in a list ends it; write json.null for NULL",
        )),
        _ => Err(args.bad(pos, "params", "list")),
    }
}

/// A failure of a statement, said with the function that ran it.
pub enum Failure {
    Sql(sqlx::Error),
    Sqlite(rusqlite::Error),
    /// A mistake of the call itself (a parameter that cannot be sent, a column that cannot be
    /// read).
    Call(String),
}

impl Failure {
    pub fn message(self) -> String {
        match self {
            Failure::Sql(e) => errors::statement(e),
            Failure::Sqlite(e) => errors::sqlite(e),
            Failure::Call(message) => message,
        }
    }
}

impl From<sqlx::Error> for Failure {
    fn from(e: sqlx::Error) -> Self {
        Failure::Sql(e)
    }
}

impl ObjectType for Conn {
    const TYPE_NAME: &'static str = "db.Conn";

    fn methods(m: &mut Methods<Self>) {
        m.async_method("query", |this: Arc<Conn>, args| {
            let action = Action::query(Rows::All);
            async move { this.run(args, 0, action).await }
        });
        m.async_method("query_one", |this: Arc<Conn>, args| {
            let action = Action::query(Rows::First);
            async move { this.run(args, 0, action).await }
        });
        m.async_method("execute", |this: Arc<Conn>, args| async move {
            this.run(args, 0, Action::Execute).await
        });
        m.async_method("transaction", |this: Arc<Conn>, args| async move {
            this.transaction(args, 0).await
        });
        m.async_method("migrate", |this: Arc<Conn>, args| async move {
            crate::migrate::migrate((*this).clone(), args, 0).await
        });
        m.async_method("close", |this: Arc<Conn>, _args| async move {
            this.close().await;
            Ok(())
        });
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        // A pool's connections close on its runtime: dropping them elsewhere would panic.
        let _runtime = assay_sdk::runtime().enter();
        drop(self.db.take());
    }
}

/// The bytes the rows of a query hold so far, against the calling script's memory limit.
pub struct Held {
    bytes: u64,
    limit: Option<u64>,
}

impl Held {
    pub fn new(limit: Option<u64>) -> Held {
        Held { bytes: 0, limit }
    }

    /// Counts one more row: an error once the rows take more than the limit.
    pub fn add(&mut self, row: &Map) -> Result<(), Failure> {
        self.count(row.iter().map(|(k, v)| size(k) + size(v)).sum::<u64>())
    }

    /// Counts `bytes` more, before they are copied: an error once past the limit.
    pub fn count(&mut self, bytes: u64) -> Result<(), Failure> {
        self.bytes += bytes;
        match self.limit {
            Some(limit) if self.bytes > limit => Err(Failure::Call(format!(
                "the rows take more than the memory limit of {} MiB: ask for fewer (LIMIT, a \
                 narrower select) or raise --memory-limit",
                limit >> 20
            ))),
            _ => Ok(()),
        }
    }
}

/// The first name that appears twice in `names`, if any.
pub fn repeated<'a>(names: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let mut seen: Vec<&str> = Vec::new();
    for name in names {
        if seen.contains(&name) {
            return Some(name);
        }
        seen.push(name);
    }
    None
}

/// The error for a result with two columns of one name.
pub fn repeated_column(name: &str) -> Failure {
    Failure::Call(format!(
        "two columns are named '{name}' (a row is a table by column name): name them apart \
         with AS"
    ))
}

/// About how many bytes `value` holds (strings, and a little per value and entry).
fn size(value: &Value) -> u64 {
    16 + match value {
        Value::Str(bytes) => bytes.len() as u64,
        Value::Array(items) => items.iter().map(size).sum(),
        Value::Map(map) => map.iter().map(|(k, v)| size(k) + size(v)).sum(),
        _ => 0,
    }
}
