//! PostgreSQL: a deadpool of tokio-postgres connections; the server builds each row's JSON.
//!
//! A statement is prepared as written first: that gives its columns, its parameters' types and,
//! for a mistake, an error position in the text the user wrote. A statement with columns then
//! runs wrapped as `WITH r AS (…) SELECT to_json(r)`, so every type the server knows (numeric,
//! interval, arrays, json…) comes back rendered by the server itself, in column order.

use std::error::Error;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Object, PoolError, RecyclingMethod};
use serde_json::{Map, Value};
use tokio::time::Instant;
use tokio_postgres::config::SslMode;
use tokio_postgres::error::ErrorPosition;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{CancelToken, NoTls, SimpleQueryMessage};
use tokio_postgres_rustls::MakeRustlsConnect;
use tokio_util::task::TaskTracker;

use super::pg_param::Param;
use super::pg_wrap::wrap;
use super::target::{PgTarget, TlsMode};
use super::{Durability, Fault, Options, Rows, SqlError, exact, unique_names};

/// How long a cancelled statement gets to end after the deadline, before its connection is
/// dropped instead.
const CANCEL_GRACE: Duration = Duration::from_secs(5);

/// One connection's pool.
pub struct Pool {
    pool: deadpool_postgres::Pool,
    tls: Tls,
    /// Cancel requests sent for dropped queries, so that a stopping run can wait for them.
    cancels: TaskTracker,
}

/// The TLS connector, kept to open cancel requests the same way as connections.
#[derive(Clone)]
enum Tls {
    Off,
    On(MakeRustlsConnect),
}

impl Pool {
    /// Sets up the pool; connections open on first use.
    pub fn new(target: PgTarget, options: Options) -> Result<Self, SqlError> {
        let mut config = target.config;
        config.connect_timeout(options.connect_timeout);
        // Timestamps come back in UTC, the same whatever the server's zone, unless the URL asks.
        let mut session = config.get_options().unwrap_or_default().to_string();
        if !session.to_ascii_lowercase().contains("timezone") {
            session.push_str(" -c TimeZone=UTC");
        }
        if options.durability == Durability::Relaxed {
            session.push_str(" -c synchronous_commit=off");
        }
        config.options(session.trim_start());
        let (tls, mode) = match target.tls {
            TlsMode::Disable => (Tls::Off, SslMode::Disable),
            TlsMode::Prefer => (rustls(false)?, SslMode::Prefer),
            TlsMode::Require => (rustls(false)?, SslMode::Require),
            TlsMode::Verify => (rustls(true)?, SslMode::Require),
        };
        config.ssl_mode(mode);
        let recycling = ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        };
        let manager = match &tls {
            Tls::Off => Manager::from_config(config, NoTls, recycling),
            Tls::On(connector) => Manager::from_config(config, connector.clone(), recycling),
        };
        let pool = deadpool_postgres::Pool::builder(manager)
            .max_size(options.pool_size.max(1) as usize)
            .build()
            .map_err(|e| SqlError::Connect(e.to_string()))?;
        Ok(Self {
            pool,
            tls,
            cancels: TaskTracker::new(),
        })
    }

    /// Runs one statement within `deadline`; past it, the server is asked to cancel it.
    pub async fn query(&self, sql: &str, params: &[Value], deadline: Duration) -> Result<Rows, SqlError> {
        let started = Instant::now();
        let client = match tokio::time::timeout(deadline, self.pool.get()).await {
            Err(_) => {
                return Err(SqlError::Timeout {
                    after: deadline,
                    cancelled: false,
                });
            }
            Ok(Err(e)) => return Err(pool_error(e)),
            Ok(Ok(client)) => client,
        };
        let mut guard = CancelOnDrop(Some((client.cancel_token(), self.tls.clone(), self.cancels.clone())));
        let left = deadline.saturating_sub(started.elapsed());
        let (outcome, clean) = {
            let work = run(&client, sql, params);
            tokio::pin!(work);
            tokio::select! {
                answer = &mut work => (answer, true),
                () = tokio::time::sleep(left) => {
                    let cancelled = self.tls.cancel(client.cancel_token()).await
                        && matches!(tokio::time::timeout(CANCEL_GRACE, &mut work).await, Ok(Err(_)));
                    (Err(SqlError::Timeout { after: deadline, cancelled }), cancelled)
                }
            }
        };
        guard.0 = None;
        if !clean {
            // It may still be running a statement: closed, not reused.
            drop(Object::take(client));
        }
        outcome
    }

    /// Waits until the cancel requests of dropped queries have gone out (each is bounded by
    /// [`CANCEL_GRACE`]): a process that exits before would leave their statements running.
    pub async fn settle(&self) {
        self.cancels.close();
        self.cancels.wait().await;
        self.cancels.reopen();
    }
}

impl Tls {
    /// Asks the server to cancel what the connection is running; true when the request went out.
    async fn cancel(&self, token: CancelToken) -> bool {
        let sent = async {
            match self {
                Tls::Off => token.cancel_query(NoTls).await,
                Tls::On(connector) => token.cancel_query(connector.clone()).await,
            }
        };
        matches!(tokio::time::timeout(CANCEL_GRACE, sent).await, Ok(Ok(())))
    }
}

/// Cancels the running statement on the server if the query's future is dropped (Ctrl-C,
/// SIGTERM).
struct CancelOnDrop(Option<(CancelToken, Tls, TaskTracker)>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some((token, tls, cancels)) = self.0.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            cancels.spawn_on(async move { tls.cancel(token).await }, &runtime);
        }
    }
}

fn rustls(verify: bool) -> Result<Tls, SqlError> {
    let config = crate::proto::tls::database_config(verify).map_err(SqlError::Connect)?;
    Ok(Tls::On(MakeRustlsConnect::new(config)))
}

/// Prepares, binds and runs one statement on one connection.
async fn run(client: &Object, sql: &str, params: &[Value]) -> Result<Rows, SqlError> {
    let statement = client.prepare_cached(sql).await.map_err(|e| query_error(&e))?;
    let bound = bind(params, statement.params())?;
    let refs: Vec<&(dyn ToSql + Sync)> = bound.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
    if statement.columns().is_empty() {
        let row_count = client.execute(&statement, &refs).await.map_err(|e| query_error(&e))?;
        return Ok(Rows {
            columns: Vec::new(),
            rows: Vec::new(),
            row_count,
        });
    }
    let columns = unique_names(statement.columns().iter().map(|c| c.name().to_string()));
    let wrapped = wrap(sql);
    let prepared = match client.prepare_typed_cached(&wrapped.text, statement.params()).await {
        Ok(prepared) => prepared,
        // SHOW, EXPLAIN and the like cannot sit in a WITH; without parameters they can still
        // run as a simple query, whose values are all text.
        Err(_) if params.is_empty() => return simple(client, sql, columns).await,
        Err(e) => {
            return Err(SqlError::Query {
                message: format!("this statement cannot be read as rows of JSON: {}", db_message(&e)),
                code: None,
                position: None,
                fault: Fault::Statement,
            });
        }
    };
    let found = client.query(&prepared, &refs).await.map_err(|e| {
        let mut error = query_error(&e);
        if let SqlError::Query { position, .. } = &mut error {
            *position = position.and_then(|p| wrapped.original(p));
        }
        error
    })?;
    let mut rows = Vec::with_capacity(found.len());
    for row in &found {
        let text: String = row.try_get(0).map_err(|e| query_error(&e))?;
        let values = exact::field_values(&text).map_err(|_| unreadable_row(&text))?;
        rows.push(columns.iter().cloned().zip(values).collect());
    }
    Ok(Rows {
        row_count: rows.len() as u64,
        columns,
        rows,
    })
}

/// Checks the number of values against the placeholders, then binds each.
fn bind(params: &[Value], types: &[Type]) -> Result<Vec<Param>, SqlError> {
    if params.len() < types.len() {
        return Err(SqlError::Bind {
            index: params.len() + 1,
            message: format!(
                "the query uses `${}` but `params` gives {} value{}",
                types.len(),
                params.len(),
                if params.len() == 1 { "" } else { "s" }
            ),
        });
    }
    if params.len() > types.len() {
        return Err(SqlError::Bind {
            index: types.len() + 1,
            message: format!(
                "the query has no `${}` placeholder (it uses {})",
                types.len() + 1,
                types.len()
            ),
        });
    }
    params
        .iter()
        .zip(types)
        .enumerate()
        .map(|(i, (value, ty))| Param::new(i + 1, value, ty))
        .collect()
}

/// Runs a statement as a simple query: every value as text.
async fn simple(client: &Object, sql: &str, columns: Vec<String>) -> Result<Rows, SqlError> {
    let messages = client.simple_query(sql).await.map_err(|e| query_error(&e))?;
    let mut rows = Vec::new();
    for message in messages {
        if let SimpleQueryMessage::Row(row) = message {
            let values = (0..row.len()).map(|i| row.get(i).map_or(Value::Null, |v| Value::String(v.to_string())));
            rows.push(columns.iter().cloned().zip(values).collect::<Map<_, _>>());
        }
    }
    Ok(Rows {
        row_count: rows.len() as u64,
        columns,
        rows,
    })
}

fn unreadable_row(text: &str) -> SqlError {
    SqlError::Query {
        message: format!("the server's row is not a JSON object: {text:.80}"),
        code: None,
        position: None,
        fault: Fault::Circumstance,
    }
}

/// A statement's error, with its position in the text that was sent.
fn query_error(e: &tokio_postgres::Error) -> SqlError {
    let Some(db) = e.as_db_error() else {
        return match e.is_closed() {
            true => SqlError::Connect(format!("the connection closed: {}", chain(e))),
            false => SqlError::Query {
                message: chain(e),
                code: None,
                position: None,
                fault: Fault::Circumstance,
            },
        };
    };
    let position = match db.position() {
        Some(ErrorPosition::Original(p)) => Some(*p as usize),
        _ => None,
    };
    let code = db.code().code();
    // Class 42, syntax error or access rule violation: the statement's text, the objects it
    // names (42P01 undefined table, 42703 undefined column, 42883 undefined function) or the
    // rights it needs (42501). None changes while a retry waits.
    let fault = match code.starts_with("42") {
        true => Fault::Statement,
        false => Fault::Circumstance,
    };
    SqlError::Query {
        message: db_message(e),
        code: Some(code.to_string()),
        position,
        fault,
    }
}

/// The server's message with its detail and hint, or the error chain.
fn db_message(e: &tokio_postgres::Error) -> String {
    let Some(db) = e.as_db_error() else { return chain(e) };
    let mut message = db.message().to_string();
    if let Some(detail) = db.detail() {
        message = format!("{message}: {detail}");
    }
    if let Some(hint) = db.hint() {
        message = format!("{message} (hint: {hint})");
    }
    message
}

/// Why a connection could not be had.
fn pool_error(e: PoolError) -> SqlError {
    let PoolError::Backend(e) = e else {
        return SqlError::Connect(e.to_string());
    };
    let Some(db) = e.as_db_error() else {
        return SqlError::Connect(chain(&e));
    };
    let message = db.message().to_string();
    match db.code().code() {
        // invalid_password, invalid_authorization_specification (no such role, no hba entry)
        "28P01" | "28000" => SqlError::Auth(message),
        // invalid_catalog_name
        "3D000" => SqlError::NoDatabase(message),
        code => SqlError::Connect(format!("{message} (SQLSTATE {code})")),
    }
}

/// An error and its causes, in one line.
fn chain(e: &(dyn Error + 'static)) -> String {
    let mut text = e.to_string();
    for cause in std::iter::successors(e.source(), |c| (*c).source()) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text = format!("{text}: {cause}");
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_counts_are_checked_first() {
        let too_few = bind(&[Value::from(1)], &[Type::INT4, Type::TEXT]).unwrap_err();
        assert_eq!(
            too_few.to_string(),
            "parameter 2: the query uses `$2` but `params` gives 1 value"
        );
        let too_many = bind(&[Value::from(1), Value::from(2)], &[Type::INT4]).unwrap_err();
        assert_eq!(
            too_many.to_string(),
            "parameter 2: the query has no `$2` placeholder (it uses 1)"
        );
    }
}
