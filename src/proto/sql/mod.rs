//! SQL over a pooled connection: PostgreSQL (tokio-postgres) and SQLite (rusqlite).
//!
//! A [`Database`] is opened once per connection of a scenario and shared by all its client
//! instances. A query's values are always bound as parameters, never spliced into its text; its
//! rows come back as JSON objects in column order. Each backend keeps the query under its
//! deadline itself, so that a query past it is cancelled on the server, not merely abandoned.

mod exact;
mod pg_param;
mod pg_wrap;
mod postgres;
mod sqlite;
mod target;

use std::time::Duration;

use serde_json::{Map, Value};

use crate::duration_text::format_duration;

pub use target::Target;

/// How a connection's pool is set up.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Connections in the pool.
    pub pool_size: u32,
    /// Deadline for opening one connection.
    pub connect_timeout: Duration,
    /// What a commit waits for.
    pub durability: Durability,
}

/// What a commit on the pool's connections waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// The database's own setting: `sql` steps never change how a user's database works.
    Default,
    /// A commit does not wait for the disk: a crash of the machine may lose the last commits,
    /// never corrupt the database. SQLite `synchronous=NORMAL` (safe in WAL mode), PostgreSQL
    /// `synchronous_commit=off`. For the lab's store, which writes on every request.
    Relaxed,
}

/// What a statement gave back: its rows, or how many rows it changed.
#[derive(Debug, Clone, PartialEq)]
pub struct Rows {
    /// Column names, in order (empty for a statement without rows).
    pub columns: Vec<String>,
    /// One object per row, keys in column order.
    pub rows: Vec<Map<String, Value>>,
    /// Rows returned, or rows changed by a statement without rows (INSERT, UPDATE, DELETE; 0 for
    /// DDL).
    pub row_count: u64,
}

/// Column names made unique, so that each value has its own key in a row's object: a repeated
/// name gets `_2`, `_3`, … (`SELECT 1, 2` has two columns named `?column?`).
fn unique_names(columns: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for column in columns {
        let mut name = column.clone();
        let mut n = 1;
        while names.contains(&name) {
            n += 1;
            name = format!("{column}_{n}");
        }
        names.push(name);
    }
    names
}

/// Why a statement did not run. Messages never hold the URL's password.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SqlError {
    /// The URL is not one we can use.
    #[error("invalid database URL: {0}")]
    Url(String),
    /// No connection could be opened (refused, unreachable, TLS).
    #[error("cannot connect: {0}")]
    Connect(String),
    /// The server refused the credentials (or the role).
    #[error("authentication failed: {0}")]
    Auth(String),
    /// The database named in the URL does not exist.
    #[error("database missing: {0}")]
    NoDatabase(String),
    /// The server rejected or failed the statement.
    #[error("{message}{}", code.as_ref().map(|c| format!(" (SQLSTATE {c})")).unwrap_or_default())]
    Query {
        /// The server's message.
        message: String,
        /// The SQLSTATE, for PostgreSQL.
        code: Option<String>,
        /// 1-based character position in the query text as given, when the server names one.
        position: Option<usize>,
        /// Whether the statement itself is at fault.
        fault: Fault,
    },
    /// A parameter's value cannot be bound to its placeholder.
    #[error("parameter {index}: {message}")]
    Bind {
        /// 1-based.
        index: usize,
        /// What does not fit.
        message: String,
    },
    /// The statement outlived its deadline.
    #[error("query timed out after {}{}", format_duration(*after), if *cancelled { "; cancelled on the server" } else { "" })]
    Timeout {
        after: Duration,
        /// Whether the server confirmed the cancellation.
        cancelled: bool,
    },
}

/// Whether a failed statement is wrong in itself, so that running it again cannot help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Its text or what it names: a syntax error, an undefined table, column or function, a
    /// right the role lacks. PostgreSQL's SQLSTATE class 42; SQLite's errors preparing it, and
    /// its authorization and read-only errors.
    Statement,
    /// What may change while a `retry` waits: a lock, a constraint, the data, the server.
    Circumstance,
}

impl SqlError {
    /// False for an error that waiting cannot heal, which a `retry` need not poll out: the
    /// statement is wrong, its URL cannot be used, or a parameter does not fit.
    pub fn heals_by_waiting(&self) -> bool {
        !matches!(
            self,
            SqlError::Query {
                fault: Fault::Statement,
                ..
            } | SqlError::Url(_)
                | SqlError::Bind { .. }
        )
    }
}

/// One connection's pool.
pub enum Database {
    Postgres(postgres::Pool),
    Sqlite(sqlite::Pool),
}

impl Database {
    /// Sets up the pool; connections open on first use.
    pub fn open(target: Target, options: Options) -> Result<Self, SqlError> {
        Ok(match target {
            Target::Postgres(target) => Self::Postgres(postgres::Pool::new(*target, options)?),
            Target::Sqlite(location) => Self::Sqlite(sqlite::Pool::new(location, options)),
        })
    }

    /// Waits until the server has been asked to cancel every statement whose query was dropped.
    pub async fn settle(&self) {
        if let Self::Postgres(pool) = self {
            pool.settle().await;
        }
    }

    /// Runs one statement with its parameters (`$1`… in PostgreSQL, `?1`/`$1`/`?` in SQLite),
    /// waiting for a connection, opening it, and running within `deadline` in all.
    pub async fn query(&self, sql: &str, params: &[Value], deadline: Duration) -> Result<Rows, SqlError> {
        match self {
            Self::Postgres(pool) => pool.query(sql, params, deadline).await,
            Self::Sqlite(pool) => pool.query(sql, params, deadline).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_mistakes_in_the_statement_do_not_heal() {
        let query = |fault| SqlError::Query {
            message: "x".into(),
            code: None,
            position: None,
            fault,
        };
        assert!(!query(Fault::Statement).heals_by_waiting());
        assert!(query(Fault::Circumstance).heals_by_waiting());
        assert!(!SqlError::Url("x".into()).heals_by_waiting());
        assert!(SqlError::Connect("refused".into()).heals_by_waiting());
        let timeout = SqlError::Timeout {
            after: Duration::from_secs(1),
            cancelled: true,
        };
        assert!(timeout.heals_by_waiting());
    }

    #[test]
    fn repeated_column_names_are_numbered() {
        let names = unique_names(["a", "a", "?column?", "a_2", "?column?"].map(String::from));
        assert_eq!(names, ["a", "a_2", "?column?", "a_2_2", "?column?_2"]);
    }
}
