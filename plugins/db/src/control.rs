//! Transaction control written as SQL (`BEGIN`, `START TRANSACTION`, `COMMIT`, `END`,
//! `ROLLBACK`) is refused, naming what to use instead. Through `conn`, each statement takes a
//! connection from the pool and gives it back, so a transaction begun that way would span no
//! further statement (or, worse, stay open on a pooled connection for whoever takes it next);
//! inside `conn:transaction`, ending the transaction by hand would leave the rest of the
//! function running outside it. `SAVEPOINT`, `RELEASE` and `ROLLBACK TO` stay allowed inside
//! a transaction.

/// An error when `sql` begins or ends a transaction itself.
pub fn refuse(sql: &str, in_transaction: bool) -> Result<(), String> {
    let mut words = words(sql);
    let first = words.next().unwrap_or_default();
    let second = words.next().unwrap_or_default();
    let is = |word: &str, name: &str| word.eq_ignore_ascii_case(name);
    let control = is(first, "begin")
        || is(first, "commit")
        || is(first, "end")
        || (is(first, "start") && is(second, "transaction"))
        || (is(first, "rollback") && !is(second, "to"));
    if !control {
        return Ok(());
    }
    Err(if in_transaction {
        format!(
            "{} inside conn:transaction: the transaction commits when its function returns and \
             rolls back when it raises (tx:transaction(fn) makes a savepoint)",
            first.to_ascii_uppercase()
        )
    } else {
        format!(
            "{} through the connection: each statement runs on a connection of the pool, so a \
             transaction cannot span statements this way; use conn:transaction(function(tx) \
             ... end)",
            first.to_ascii_uppercase()
        )
    })
}

/// The words at the start of `sql`, after white space and comments (`-- ...`, `/* ... */`).
fn words(sql: &str) -> impl Iterator<Item = &str> {
    let mut rest = sql;
    loop {
        let trimmed = rest.trim_start();
        if let Some(after) = trimmed.strip_prefix("--") {
            rest = after.split_once('\n').map_or("", |(_, r)| r);
        } else if let Some(after) = trimmed.strip_prefix("/*") {
            rest = after.split_once("*/").map_or("", |(_, r)| r);
        } else {
            rest = trimmed;
            break;
        }
    }
    rest.split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| !w.is_empty())
        .take(2)
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
            "/* c */ rollback",
            "ROLLBACK WORK",
        ] {
            assert!(refuse(sql, false).is_err(), "{sql}");
            assert!(refuse(sql, true).is_err(), "{sql}");
        }
        for sql in [
            "select 1",
            "rollback to savepoint a",
            "savepoint a",
            "release a",
            "insert into t (begin) values (1)",
            "do $$ begin end $$",
            "",
        ] {
            assert!(refuse(sql, true).is_ok(), "{sql}");
        }
        let e = refuse("begin", false).expect_err("begin");
        assert!(e.starts_with("BEGIN through the connection"), "{e}");
    }
}
