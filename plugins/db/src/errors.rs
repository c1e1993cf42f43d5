//! sqlx's errors as messages a user can act on: what failed, where (the redacted URL or the
//! host), and the server's own words with its error code. No message holds a password: sqlx's
//! own never print the URL (the `any` driver's would, so it is not used), and ours show the
//! redacted one.

use std::fmt::Write as _;

use crate::url::Backend;

/// What was being done, for the message's start.
pub struct Doing<'a> {
    pub backend: Backend,
    /// The redacted URL.
    pub url: &'a str,
    /// `host:port`, if the database is on the network.
    pub host: Option<&'a str>,
}

/// How a URL turns certificate checks off, for messages that suggest it.
const SKIP_VERIFYING: &str =
    "connect with sslmode=require (PostgreSQL) or ssl-mode=REQUIRED (MySQL) to skip verification";

/// `error` while connecting.
pub fn connecting(doing: &Doing<'_>, error: sqlx::Error) -> String {
    let place = doing.host.unwrap_or(doing.url);
    if let Some(tls) = assay_sdk::tls::find(&error) {
        let name = place.rsplit_once(':').map_or(place, |(name, _)| name);
        return format!(
            "TLS handshake with {place} failed: {}",
            assay_sdk::tls::reason(tls, name, SKIP_VERIFYING)
        );
    }
    match &error {
        sqlx::Error::Io(e) => format!("cannot connect to {} at {place}: {e}", doing.backend.name()),
        sqlx::Error::Tls(e) => format!("TLS with {place} failed: {e}"),
        sqlx::Error::Configuration(e) => format!("{}: {e}", doing.url),
        sqlx::Error::Database(db) if doing.backend == Backend::Sqlite => {
            let mut message = format!(
                "cannot open the SQLite database {}: {}",
                doing.url,
                db.message()
            );
            code(&mut message, db.as_ref());
            message
        }
        sqlx::Error::Database(db) => {
            let mut message = format!(
                "{} at {place} refused the connection: {}",
                doing.backend.name(),
                db.message()
            );
            code(&mut message, db.as_ref());
            message
        }
        other => format!(
            "{}: {}",
            doing.url,
            without_source_location(&other.to_string())
        ),
    }
}

pub const POOL_TIMED_OUT: &str = "no connection became free in time (the pool's timeout; \
                                  raise max_connections or timeout in db.connect's options)";
pub const POOL_CLOSED: &str = "the connection was closed (conn:close())";

/// A SQLite error: SQLite's words and its extended result code.
pub fn sqlite(error: rusqlite::Error) -> String {
    match error {
        rusqlite::Error::SqliteFailure(e, _) if e.code == rusqlite::ErrorCode::OutOfMemory => {
            format!(
                "SQLite ran out of memory: its memory counts against the script's memory limit \
                 (--memory-limit) (code {})",
                e.extended_code
            )
        }
        rusqlite::Error::SqliteFailure(e, message) => format!(
            "{} (code {})",
            message.unwrap_or_else(|| e.to_string()),
            e.extended_code
        ),
        rusqlite::Error::SqlInputError { error, msg, .. } => {
            format!("{msg} (code {})", error.extended_code)
        }
        rusqlite::Error::MultipleStatement => "the SQL holds more than one statement: run one \
                                                per call (db.migrate runs files of several)"
            .to_owned(),
        other => other.to_string(),
    }
}

/// `error` from a statement (the SDK puts the function's name before it).
pub fn statement(error: sqlx::Error) -> String {
    match &error {
        sqlx::Error::Database(db) => {
            let mut message = db.message().to_owned();
            code(&mut message, db.as_ref());
            message
        }
        sqlx::Error::PoolTimedOut => POOL_TIMED_OUT.to_owned(),
        sqlx::Error::PoolClosed => POOL_CLOSED.to_owned(),
        sqlx::Error::Io(e) => format!("the connection to the database failed: {e}"),
        other => without_source_location(&other.to_string()).to_owned(),
    }
}

/// sqlx ends some messages with where in its source they were made
/// (`(sqlx_postgres::connection::tls:109)`): of no use to a script's author.
fn without_source_location(text: &str) -> &str {
    match text.rfind(" (sqlx_") {
        Some(at) if text.ends_with(')') && text[at..].contains("::") => &text[..at],
        _ => text,
    }
}

/// Appends the server's error code and the constraint, when it says them.
fn code(message: &mut String, db: &dyn sqlx::error::DatabaseError) {
    if let Some(code) = db.code() {
        let _ = write!(message, " (code {code}");
        if let Some(constraint) = db.constraint() {
            let _ = write!(message, ", constraint {constraint}");
        }
        message.push(')');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlx_source_locations_are_dropped() {
        assert_eq!(
            without_source_location(
                "unexpected response from SSLRequest: 0x64 (sqlx_postgres::connection::tls:109)"
            ),
            "unexpected response from SSLRequest: 0x64"
        );
        assert_eq!(without_source_location("plain (words)"), "plain (words)");
    }
}
