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

/// `url` with the password of its user info replaced by `***`, and its query (which may hold
/// `password=`) dropped.
pub fn redact(url: &str) -> String {
    let url = url.split_once('?').map_or(url, |(base, _)| base);
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = match rest.find('/') {
        Some(at) => rest.split_at(at),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((info, host)) => {
            let user = info.split_once(':').map_or(info, |(user, _)| user);
            let hidden = if info.contains(':') { ":***" } else { "" };
            format!("{scheme}://{user}{hidden}@{host}{path}")
        }
        None => url.to_owned(),
    }
}

/// `host:port` of a network URL, for messages (`None` for SQLite).
pub fn host(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?']).next()?;
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
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
    }
}
