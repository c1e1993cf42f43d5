//! Transaction control written as SQL is refused, naming what to use instead. Through `conn`,
//! each statement takes a connection from the pool and gives it back, so a transaction begun
//! that way would span no further statement (or, worse, stay open on a pooled connection for
//! whoever takes it next), and session state such as MySQL's `autocommit` would stay behind on
//! one connection of the pool; inside `conn:transaction`, ending the transaction by hand would
//! leave the rest of the function running outside it.
//!
//! Refused: `BEGIN`, `START TRANSACTION`, `COMMIT`, `END`, `ABORT`, `ROLLBACK`, `XA ...`,
//! `SET [SESSION] autocommit`; `SAVEPOINT`, `RELEASE` and `ROLLBACK TO` outside a transaction
//! (inside one they are allowed: savepoints of its own).

/// What a statement does to transactions.
#[derive(Debug, PartialEq, Eq)]
enum Kind {
    /// Begins or ends a transaction, or changes how the session commits.
    Control,
    /// Makes, releases or rolls back to a savepoint.
    Savepoint,
    Other,
}

/// An error when `sql` controls transactions itself.
pub fn refuse(sql: &str, in_transaction: bool) -> Result<(), String> {
    // Four words at most, on the stack: this runs before every statement.
    let mut found = [""; 4];
    let mut n = 0;
    for (slot, word) in found.iter_mut().zip(words(sql)) {
        *slot = word;
        n += 1;
    }
    let words = &found[..n];
    let kind = kind(words);
    if kind == Kind::Other {
        return Ok(());
    }
    let first = words
        .first()
        .copied()
        .unwrap_or_default()
        .to_ascii_uppercase();
    match (kind, in_transaction) {
        (Kind::Other, _) | (Kind::Savepoint, true) => Ok(()),
        (Kind::Control, true) => Err(format!(
            "{first} inside conn:transaction: the transaction commits when its function returns \
             and rolls back when it raises (tx:transaction(fn) makes a savepoint)"
        )),
        (Kind::Control, false) => Err(format!(
            "{first} through the connection: each statement runs on a connection of the pool, \
             so a transaction cannot span statements this way; use \
             conn:transaction(function(tx) ... end)"
        )),
        (Kind::Savepoint, false) => Err(format!(
            "{first} through the connection: savepoints live inside a transaction; use \
             tx:transaction(fn) inside conn:transaction"
        )),
    }
}

fn kind(words: &[&str]) -> Kind {
    let word = |i: usize, name: &str| words.get(i).is_some_and(|w| w.eq_ignore_ascii_case(name));
    // `ROLLBACK TO x`, `ROLLBACK TRANSACTION TO x`, `ROLLBACK WORK TO x`
    let rollback_to =
        word(1, "to") || ((word(1, "transaction") || word(1, "work")) && word(2, "to"));
    if word(0, "savepoint") || word(0, "release") || (word(0, "rollback") && rollback_to) {
        return Kind::Savepoint;
    }
    let autocommit = word(1, "autocommit")
        || ((word(1, "session") || word(1, "local") || word(1, "global")) && word(2, "autocommit"));
    if ["begin", "commit", "end", "abort", "rollback", "xa"]
        .iter()
        .any(|name| word(0, name))
        || (word(0, "start") && word(1, "transaction"))
        || (word(0, "set") && autocommit)
    {
        return Kind::Control;
    }
    Kind::Other
}

/// The first words of `sql`, skipping white space and comments (`-- ...`, `/* ... */`)
/// wherever they are.
fn words(sql: &str) -> impl Iterator<Item = &str> {
    let mut rest = sql;
    std::iter::from_fn(move || {
        loop {
            rest =
                rest.trim_start_matches(|c: char| !c.is_ascii_alphabetic() && c != '-' && c != '/');
            if let Some(after) = rest.strip_prefix("--") {
                rest = after.split_once('\n').map_or("", |(_, r)| r);
            } else if let Some(after) = rest.strip_prefix("/*") {
                rest = after.split_once("*/").map_or("", |(_, r)| r);
            } else if rest.starts_with(['-', '/']) {
                rest = &rest[1..];
            } else {
                break;
            }
        }
        let end = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let (word, after) = rest.split_at(end);
        rest = after;
        (!word.is_empty()).then_some(word)
    })
    .take(4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_statements() {
        for sql in [
            "BEGIN",
            " begin transaction;",
            "-- x\nSTART TRANSACTION",
            "commit",
            "END",
            "abort",
            "/* c */ rollback",
            "ROLLBACK WORK",
            "set autocommit = 0",
            "SET @@session.autocommit=0",
            "xa start 'x'",
        ] {
            assert!(refuse(sql, false).is_err(), "{sql}");
            assert!(refuse(sql, true).is_err(), "{sql}");
        }
        for sql in [
            "rollback to savepoint a",
            "ROLLBACK /* undo */ TO SAVEPOINT a",
            "rollback transaction to savepoint a",
            "savepoint a",
            "release a",
        ] {
            assert!(refuse(sql, true).is_ok(), "{sql}");
            assert!(refuse(sql, false).is_err(), "{sql}");
        }
        for sql in [
            "select 1",
            "insert into t (begin) values (1)",
            "do $$ begin end $$",
            "set names utf8mb4",
            "",
            "-- only a comment",
        ] {
            assert!(refuse(sql, true).is_ok(), "{sql}");
            assert!(refuse(sql, false).is_ok(), "{sql}");
        }
        let e = refuse("begin", false).expect_err("begin");
        assert!(e.starts_with("BEGIN through the connection"), "{e}");
    }
}
