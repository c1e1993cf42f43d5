//! Database URLs: which backend a URL names, and the URL as messages may show it (the
//! password never: `postgres://app:***@db:5432/app`).

/// The database behind a URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    MySql,
    Sqlite,
}

impl Backend {
    /// The backend of `url`, and the URL as sqlx reads it (`mariadb://` is `mysql://`).
    pub fn of(url: &str) -> Result<(Backend, String), String> {
        let lower = url.get(..12).unwrap_or(url).to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql:/") {
            Ok((Backend::Postgres, url.to_owned()))
        } else if lower.starts_with("mysql://") {
            Ok((Backend::MySql, url.to_owned()))
        } else if lower.starts_with("mariadb://") {
            Ok((
                Backend::MySql,
                format!("mysql://{}", &url["mariadb://".len()..]),
            ))
        } else if lower.starts_with("sqlite:") {
            Ok((Backend::Sqlite, url.to_owned()))
        } else {
            Err(format!(
                "'{}' is not a database URL (postgres://, postgresql://, mysql://, mariadb://, \
                 sqlite://path or sqlite::memory:)",
                redact(url)
            ))
        }
    }

    /// The name messages use.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Postgres => "PostgreSQL",
            Backend::MySql => "MySQL",
            Backend::Sqlite => "SQLite",
        }
    }
}

/// `url` with the password of its user info replaced by `***`, and its query and fragment
/// (which may hold `password=`) dropped. The user info ends at the *last* `@`: a password
/// written into a URL unencoded may hold `/`, `?`, `#` or `@`, and must not show for it.
pub fn redact(url: &str) -> String {
    let (scheme, rest) = split_scheme(url);
    let (info, after) = match rest.rfind('@') {
        Some(at) => (Some(&rest[..at]), &rest[at + 1..]),
        None => (None, rest),
    };
    let after = after.split(['?', '#']).next().unwrap_or_default();
    match info {
        Some(info) => {
            let (user, hidden) = match info.split_once(':') {
                Some((user, _)) => (user, ":***"),
                None => (info, ""),
            };
            format!("{scheme}{user}{hidden}@{after}")
        }
        None => format!("{scheme}{after}"),
    }
}

/// `scheme:` with the slashes after it (`postgres://`, `postgresql:/`, `sqlite:`), and the
/// rest of `url`.
fn split_scheme(url: &str) -> (&str, &str) {
    let Some(colon) = url.find(':').filter(|&i| {
        url[..i]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    }) else {
        return ("", url);
    };
    let after = &url[colon + 1..];
    let slashes = after.len() - after.trim_start_matches('/').len();
    url.split_at(colon + 1 + slashes)
}

/// `host:port` of a network URL, for messages (`None` for SQLite).
pub fn host(url: &str) -> Option<String> {
    if url
        .get(..7)
        .is_some_and(|s| s.eq_ignore_ascii_case("sqlite:"))
    {
        return None;
    }
    let (_, rest) = split_scheme(url);
    let rest = rest.rfind('@').map_or(rest, |at| &rest[at + 1..]);
    let host = rest.split(['/', '?', '#']).next()?;
    (!host.is_empty()).then(|| host.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backends_and_redaction() {
        assert_eq!(
            Backend::of("postgres://a@h/d").map(|b| b.0),
            Ok(Backend::Postgres)
        );
        assert_eq!(
            Backend::of("PostgreSQL://a@h/d").map(|b| b.0),
            Ok(Backend::Postgres)
        );
        let (backend, url) = Backend::of("mariadb://u:p@h:3306/d").expect("mariadb");
        assert_eq!(
            (backend, url.as_str()),
            (Backend::MySql, "mysql://u:p@h:3306/d")
        );
        assert_eq!(
            Backend::of("sqlite::memory:").map(|b| b.0),
            Ok(Backend::Sqlite)
        );
        let bad = Backend::of("redis://u:secret@h").expect_err("redis");
        assert!(
            bad.contains("'redis://u:***@h'") && !bad.contains("secret"),
            "{bad}"
        );
        assert_eq!(
            redact("postgres://app:s3cr%40t@db:5432/app?password=x&sslmode=require"),
            "postgres://app:***@db:5432/app"
        );
        assert_eq!(redact("mysql://root@h/d"), "mysql://root@h/d");
        assert_eq!(redact("sqlite:///tmp/a.db"), "sqlite:///tmp/a.db");
        assert_eq!(host("postgres://u:p@db:5432/x").as_deref(), Some("db:5432"));
        assert_eq!(host("sqlite::memory:"), None);
        // an unencoded password with / ? # @ in it never shows
        for url in [
            "postgres://assay:pa/ss-SECRET@127.0.0.1:5432/postgres",
            "postgres://assay:pa?SECRET@127.0.0.1:5432/postgres",
            "postgresql:/assay:SECRET@127.0.0.1:5432/postgres",
            "mysql://assay:pa/SECRET@h:1/x",
            "redis://u:pa/SECRET@h",
            "postgres://assay:p@ss#SECRET@h/d",
        ] {
            let shown = redact(url);
            assert!(!shown.contains("SECRET"), "{url} -> {shown}");
            assert!(shown.contains(":***@"), "{url} -> {shown}");
        }
        assert_eq!(
            redact("postgresql:/assay:SECRET@127.0.0.1:5432/postgres"),
            "postgresql:/assay:***@127.0.0.1:5432/postgres"
        );
        assert_eq!(
            host("postgres://a:pa/ss@db:5432/x").as_deref(),
            Some("db:5432")
        );
    }
}
