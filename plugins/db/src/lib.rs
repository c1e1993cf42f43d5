//! The `db` plugin: SQL against PostgreSQL and MySQL/MariaDB (through sqlx) and SQLite
//! (through rusqlite, on the script's thread: see `sqlite`).
//!
//! ```lua
//! local conn = db.connect("postgres://app:pw@db:5432/app", {max_connections = 5, timeout = 10})
//! conn:execute("insert into users (name, admin) values ($1, $2)", {"ada", true})
//! for _, user in ipairs(conn:query("select id, name from users where admin = $1", {true})) do
//!   print(user.id, user.name)
//! end
//! local one = conn:query_one("select count(*) as n from users")   --> {n = 1}, or nil
//! local lite = db.connect("sqlite::memory:")                       -- zero setup
//! conn:transaction(function(tx)                    -- commits when it returns, rolls back
//!   tx:execute("update accounts set n = n - 1 where id = $1", {1})   -- when it raises
//!   tx:transaction(function(inner) ... end)        -- a savepoint
//! end)
//! ```
//!
//! **Parameters are always bound, never put into the SQL text**: `$1, $2, ...` for
//! PostgreSQL, `?` for MySQL/MariaDB and SQLite. `params` is a list; `json.null` is SQL NULL
//! (a Lua list cannot hold nil).
//!
//! **Values keep their types both ways.** Integers stay integers (64-bit), floats floats,
//! booleans booleans; text is a string, bytes (bytea, blob) a string of those bytes; NULL is
//! `json.null`; JSON columns are tables, and a table bound to a parameter is sent as JSON;
//! numeric/decimal values are strings (never a lossy float); dates, times and timestamps are
//! RFC 3339 strings; UUIDs are strings; PostgreSQL arrays are lists. A column of a type the
//! plugin cannot convert is an error naming the column and its type, never a silent nil.
//!
//! The connection object is a pool (`max_connections`, default 10; `timeout`, seconds to wait
//! for a free connection, default 30; `idle_timeout`, seconds); `ca_cert` verifies TLS to a
//! server (see `tls`); `db.connect` opens one connection first, within `timeout`, so a
//! refused connection, a wrong password or an unknown database is said at once with the
//! server's words. Credentials never appear in messages: URLs are shown with `***` for the
//! password. Server queries run on the plugin's I/O, on the script's thread: coroutines
//! querying at once share the pool and wait by yielding, and the script goes on meanwhile.
//! `conn:close()` never waits; transaction control written as SQL is refused (`control`).

mod bind;
mod conn;
mod control;
mod errors;
mod migrate;
mod mysql;
mod postgres;
mod sqlite;
mod statements;
mod tls;
mod tx;
mod url;

use assay_sdk::{Args, Error, Result};

pub use conn::Conn;
use conn::{Action, Rows};

/// Registers the `db` global: `connect`, and the connection's methods as functions taking
/// the connection first (`db.query(conn, sql, params)` is `conn:query(sql, params)`).
pub fn register(plugin: &mut assay_sdk::Plugin) {
    plugin.io_on_lua_thread();
    plugin
        .global("db")
        .async_function("connect", conn::connect)
        .async_function("query", |args: Args| {
            let (conn, action) = (first(&args), Action::query(Rows::All));
            async move { conn?.run(args, 1, action).await }
        })
        .async_function("query_one", |args: Args| {
            let (conn, action) = (first(&args), Action::query(Rows::First));
            async move { conn?.run(args, 1, action).await }
        })
        .async_function("execute", |args: Args| {
            let conn = first(&args);
            async move { conn?.run(args, 1, Action::Execute).await }
        })
        .async_function("transaction", |args: Args| {
            let conn = first(&args);
            async move { conn?.transaction(args, 1).await }
        })
        .async_function("migrate", |args: Args| {
            let conn = first(&args);
            async move { migrate::migrate(conn?, args, 1).await }
        })
        .async_function("close", |args: Args| {
            let conn = first(&args);
            async move {
                conn?.close().await;
                Ok(())
            }
        });
}

/// The connection a `db.*` function was given first, with the other arguments after it.
fn first(args: &Args) -> Result<Conn> {
    let object = args.object(1, "conn")?;
    object.downcast_ref::<Conn>().cloned().ok_or_else(|| {
        Error::new(format!(
            "bad argument #1 'conn' (a db connection expected, got {})",
            object.type_name()
        ))
    })
}

assay_sdk::plugin!(register);
