//! A database URL, read into what a backend needs: `postgres://…` or `sqlite://PATH`.

use std::path::PathBuf;
use std::str::FromStr;

use super::SqlError;

/// Where a connection points.
#[derive(Debug, Clone)]
pub enum Target {
    /// A PostgreSQL server (boxed: its configuration is large).
    Postgres(Box<PgTarget>),
    /// An SQLite database.
    Sqlite(SqliteLocation),
}

/// A PostgreSQL server and how to reach it.
#[derive(Debug, Clone)]
pub struct PgTarget {
    /// Host, port, user, password, database and options, from the URL.
    pub config: tokio_postgres::Config,
    /// What `sslmode` asked for.
    pub tls: TlsMode,
}

/// libpq's `sslmode`, as far as a test client needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// `disable` (and `allow`): plain TCP.
    Disable,
    /// `prefer`, libpq's default: TLS when the server offers it, certificate not checked.
    Prefer,
    /// `require`: TLS or nothing, certificate not checked (as libpq does without a root
    /// certificate).
    Require,
    /// `verify-ca` and `verify-full`: TLS with the certificate checked against the platform's
    /// roots, host name included.
    Verify,
}

/// An SQLite database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqliteLocation {
    /// A file, relative to the working directory unless absolute; created if missing.
    File(PathBuf),
    /// `sqlite://:memory:`: one in-memory database shared by the pool's connections, gone when
    /// the pool is.
    Memory,
}

impl Target {
    /// Reads a URL. Errors never hold the URL itself (it may carry a password).
    pub fn parse(url: &str) -> Result<Self, SqlError> {
        let url = url.trim();
        if let Some(path) = url.strip_prefix("sqlite://") {
            return sqlite(path);
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return postgres(url).map(|t| Self::Postgres(Box::new(t)));
        }
        let scheme = url.split_once("://").map_or("", |(s, _)| s);
        Err(SqlError::Url(if scheme.is_empty() {
            "expected `postgres://…` or `sqlite://PATH`".into()
        } else {
            format!("unknown scheme `{scheme}`; expected `postgres://…` or `sqlite://PATH`")
        }))
    }
}

fn sqlite(path: &str) -> Result<Target, SqlError> {
    match path {
        "" => Err(SqlError::Url(
            "`sqlite://` needs a path, e.g. `sqlite://runner.db`".into(),
        )),
        ":memory:" => Ok(Target::Sqlite(SqliteLocation::Memory)),
        path => Ok(Target::Sqlite(SqliteLocation::File(PathBuf::from(path)))),
    }
}

/// tokio-postgres reads the URL, except `sslmode`, whose `verify-*` values it does not know.
fn postgres(url: &str) -> Result<PgTarget, SqlError> {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut tls = TlsMode::Prefer;
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("sslmode", mode)) => tls = tls_mode(mode)?,
            _ => kept.push(pair),
        }
    }
    let rebuilt = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    let mut config = tokio_postgres::Config::from_str(&rebuilt).map_err(|e| SqlError::Url(e.to_string()))?;
    if config.get_user().is_none() {
        // libpq's default: the operating system's user name.
        if let Ok(user) = std::env::var("USER") {
            config.user(user);
        }
    }
    if config.get_application_name().is_none() {
        config.application_name("runner");
    }
    Ok(PgTarget { config, tls })
}

fn tls_mode(mode: &str) -> Result<TlsMode, SqlError> {
    Ok(match mode {
        "disable" | "allow" => TlsMode::Disable,
        "prefer" => TlsMode::Prefer,
        "require" => TlsMode::Require,
        "verify-ca" | "verify-full" => TlsMode::Verify,
        other => {
            return Err(SqlError::Url(format!(
                "unknown sslmode `{other}`; expected disable, prefer, require, verify-ca or verify-full"
            )));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pg(url: &str) -> PgTarget {
        match Target::parse(url).unwrap() {
            Target::Postgres(t) => *t,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn postgres_urls_keep_everything_but_sslmode() {
        let t = pg("postgres://app:s3cr3t@db.example:6432/mcp?sslmode=verify-full&connect_timeout=3");
        assert_eq!(t.tls, TlsMode::Verify);
        assert_eq!(t.config.get_user(), Some("app"));
        assert_eq!(t.config.get_password(), Some(&b"s3cr3t"[..]));
        assert_eq!(t.config.get_dbname(), Some("mcp"));
        assert_eq!(t.config.get_ports(), &[6432]);
        assert_eq!(pg("postgresql://u@h/d").tls, TlsMode::Prefer);
        assert_eq!(pg("postgres://u@h/d?sslmode=require").tls, TlsMode::Require);
        assert_eq!(pg("postgres://u@h/d?sslmode=disable").tls, TlsMode::Disable);
    }

    #[test]
    fn sqlite_urls_are_paths() {
        let file = |u: &str| match Target::parse(u).unwrap() {
            Target::Sqlite(l) => l,
            other => panic!("{other:?}"),
        };
        assert_eq!(file("sqlite://runner.db"), SqliteLocation::File("runner.db".into()));
        assert_eq!(file("sqlite:///tmp/x.db"), SqliteLocation::File("/tmp/x.db".into()));
        assert_eq!(file("sqlite://:memory:"), SqliteLocation::Memory);
    }

    #[test]
    fn bad_urls_say_why_without_the_password() {
        for (url, expected) in [
            ("mysql://root:pw@h/d", "unknown scheme `mysql`"),
            ("localhost/db", "expected `postgres://…`"),
            ("sqlite://", "needs a path"),
            ("postgres://u:pw@h/d?sslmode=sometimes", "unknown sslmode `sometimes`"),
        ] {
            let message = Target::parse(url).unwrap_err().to_string();
            assert!(message.contains(expected), "{url}: {message}");
            assert!(!message.contains("pw"), "{url}: {message}");
        }
    }
}
