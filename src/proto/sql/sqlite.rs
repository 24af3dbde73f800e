//! SQLite through rusqlite: a small pool of blocking connections, each statement run on tokio's
//! blocking threads and interrupted when its deadline passes.

use std::ffi::c_int;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, ErrorCode, InterruptHandle, OpenFlags, Statement};
use serde_json::{Map, Number, Value};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::{JoinError, JoinHandle, spawn_blocking};
use tokio::time::{Instant, sleep_until, timeout_at};

use super::target::SqliteLocation;
use super::{Durability, Fault, Options, Rows, SqlError};

/// The longest busy timeout SQLite takes (milliseconds in a C `int`).
const MAX_BUSY: Duration = Duration::from_millis(i32::MAX as u64);

/// A bounded set of connections to one SQLite database, opened on first use.
pub struct Pool {
    source: Arc<Source>,
    /// One permit per connection that may be in use at once.
    permits: Arc<Semaphore>,
    idle: Mutex<Vec<Connection>>,
    durability: Durability,
}

/// What a new connection opens.
enum Source {
    File(PathBuf),
    /// An in-memory database in SQLite's `memdb` VFS, which shares a name starting with `/`
    /// among a process's connections. (A shared cache, `mode=memory&cache=shared`, would fail a
    /// write at once with "database table is locked" while another connection reads the
    /// table, busy timeout or not; `memdb` locks like a file, so writers wait.) SQLite drops
    /// the database with its last connection, so `anchor` keeps one open for the pool's
    /// lifetime (opened with the first connection).
    Memory {
        uri: String,
        anchor: Mutex<Option<Connection>>,
    },
}

/// A connection on loan, with the permit that counts it against the pool's size. The two travel
/// together so that a connection still busy on a blocking thread (its caller gone) still counts.
struct Lease {
    conn: Connection,
    permit: OwnedSemaphorePermit,
}

/// Interrupts the statement running on a connection unless disarmed: dropping the `query`
/// future (the run is cancelled) must not leave its statement running.
struct InterruptOnDrop(Option<InterruptHandle>);

impl InterruptOnDrop {
    fn interrupt(&mut self) {
        if let Some(handle) = self.0.take() {
            handle.interrupt();
        }
    }

    fn disarm(&mut self) {
        self.0 = None;
    }
}

impl Drop for InterruptOnDrop {
    fn drop(&mut self) {
        self.interrupt();
    }
}

impl Pool {
    /// Sets up the pool. No I/O: connections open on first use.
    pub fn new(location: SqliteLocation, options: Options) -> Self {
        let source = match location {
            SqliteLocation::File(path) => Source::File(path),
            SqliteLocation::Memory => Source::Memory {
                uri: format!("file:/runner-mem-{}?vfs=memdb", uuid::Uuid::new_v4()),
                anchor: Mutex::new(None),
            },
        };
        // A pool of 0 would time out every query; it means "no parallelism" at most.
        let size = usize::try_from(options.pool_size.max(1)).unwrap_or(1);
        Self {
            source: Arc::new(source),
            permits: Arc::new(Semaphore::new(size)),
            idle: Mutex::new(Vec::new()),
            durability: options.durability,
        }
    }

    /// Runs one statement within `deadline` in all (waiting for a pooled connection, opening
    /// it, running). `params` bind to `?`, `?N`, `$N`, `:N` and `@N`, N counting from 1.
    pub async fn query(&self, sql: &str, params: &[Value], deadline: Duration) -> Result<Rows, SqlError> {
        let end = deadline_instant(deadline);
        let timed_out = SqlError::Timeout {
            after: deadline,
            cancelled: false,
        };
        let permit = match timeout_at(end, Arc::clone(&self.permits).acquire_owned()).await {
            Ok(Ok(permit)) => permit,
            // The semaphore is never closed; a closed one could only mean no connection ever.
            Ok(Err(_)) | Err(_) => return Err(timed_out),
        };
        let lease = self.lease(permit, end, timed_out).await?;
        self.run(lease, sql, params, end, deadline).await
    }

    /// An idle connection, or a new one when none is idle.
    async fn lease(&self, permit: OwnedSemaphorePermit, end: Instant, timed_out: SqlError) -> Result<Lease, SqlError> {
        let idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner).pop();
        if let Some(conn) = idle {
            return Ok(Lease { conn, permit });
        }
        let (source, durability) = (Arc::clone(&self.source), self.durability);
        // Opening touches the file system, so it blocks. Past the deadline the opening is left
        // to finish on its own; its connection and permit are then dropped with it.
        let opening = spawn_blocking(move || {
            let conn = source.open()?;
            set_durability(&conn, durability)?;
            Ok(Lease { conn, permit })
        });
        match timeout_at(end, opening).await {
            Ok(joined) => joined.map_err(crashed)?,
            Err(_) => Err(timed_out),
        }
    }

    /// Runs the statement on a blocking thread, interrupting it at the deadline.
    async fn run(
        &self,
        lease: Lease,
        sql: &str,
        params: &[Value],
        end: Instant,
        deadline: Duration,
    ) -> Result<Rows, SqlError> {
        // The handle is taken before the connection moves away: it is how we reach the
        // statement while it runs.
        let mut guard = InterruptOnDrop(Some(lease.conn.get_interrupt_handle()));
        let cancelled = SqlError::Timeout {
            after: deadline,
            cancelled: true,
        };
        let (sql, params, end_std) = (sql.to_owned(), params.to_vec(), end.into_std());
        let mut task = spawn_blocking(move || {
            // An interrupt that comes before the statement starts is lost: a task that starts
            // after the deadline must not start the statement at all.
            let answer = match end_std.checked_duration_since(std::time::Instant::now()) {
                Some(left) if !left.is_zero() => execute(&lease.conn, &sql, &params, left),
                _ => Err(cancelled),
            };
            (lease, answer)
        });
        let finished = tokio::select! {
            joined = &mut task => Some(joined),
            () = sleep_until(end) => None,
        };
        let Some(joined) = finished else {
            guard.interrupt();
            return self.after_interrupt(task, deadline).await;
        };
        // The connection must not be interrupted once it may serve another query.
        guard.disarm();
        let (lease, answer) = joined.map_err(crashed)?;
        self.give_back(lease, answer)
    }

    /// Waits for an interrupted statement, which returns promptly. One that finished just as
    /// the deadline passed keeps its answer.
    async fn after_interrupt(
        &self,
        task: JoinHandle<(Lease, Result<Rows, SqlError>)>,
        deadline: Duration,
    ) -> Result<Rows, SqlError> {
        let (lease, answer) = task.await.map_err(crashed)?;
        let cancelled = SqlError::Timeout {
            after: deadline,
            cancelled: true,
        };
        self.give_back(lease, answer.map_err(|_| cancelled))
    }

    /// Returns the connection to the idle list before its permit, so that the next holder of
    /// the permit finds it there; passes `outcome` through.
    fn give_back<T>(&self, lease: Lease, outcome: T) -> T {
        let Lease { conn, permit } = lease;
        self.idle.lock().unwrap_or_else(PoisonError::into_inner).push(conn);
        drop(permit);
        outcome
    }
}

/// `deadline` from now; a deadline too far to represent is as good as none.
fn deadline_instant(deadline: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(deadline)
        .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600))
}

/// A blocking task that panicked (rusqlite panics on names that are not UTF-8) or was aborted.
fn crashed(error: JoinError) -> SqlError {
    query_error_message(format!("the SQLite worker failed: {error}"))
}

impl Source {
    fn open(&self) -> Result<Connection, SqlError> {
        match self {
            Self::File(path) => Connection::open(path).map_err(|e| {
                let message = sqlite_message(&e);
                let path = path.display().to_string();
                // rusqlite's message names the path already, SQLite's own does not.
                SqlError::Connect(match message.contains(&path) {
                    true => message,
                    false => format!("{path}: {message}"),
                })
            }),
            Self::Memory { uri, anchor } => {
                let mut anchor = anchor.lock().unwrap_or_else(PoisonError::into_inner);
                if anchor.is_none() {
                    *anchor = Some(open_memory(uri)?);
                }
                open_memory(uri)
            }
        }
    }
}

/// Applies [`Durability`] to a new connection (`synchronous` is per connection).
fn set_durability(conn: &Connection, durability: Durability) -> Result<(), SqlError> {
    match durability {
        Durability::Default => Ok(()),
        Durability::Relaxed => conn
            .pragma_update(None, "synchronous", "NORMAL")
            .map_err(|e| SqlError::Connect(format!("PRAGMA synchronous=NORMAL: {}", sqlite_message(&e)))),
    }
}

fn open_memory(uri: &str) -> Result<Connection, SqlError> {
    let flags = OpenFlags::SQLITE_OPEN_URI | OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE;
    Connection::open_with_flags(uri, flags)
        .map_err(|e| SqlError::Connect(format!("in-memory database: {}", sqlite_message(&e))))
}

/// Runs one statement to its end on a blocking thread, `left` before its deadline.
fn execute(conn: &Connection, sql: &str, params: &[Value], left: Duration) -> Result<Rows, SqlError> {
    // A locked database waits, up to the deadline, instead of failing at once. 0 would turn
    // the wait off.
    let busy = left.clamp(Duration::from_millis(1), MAX_BUSY);
    conn.busy_timeout(busy).map_err(|e| query_error(&e, sql))?;
    let mut stmt = conn.prepare(sql).map_err(|e| prepare_error(&e, sql))?;
    bind(&mut stmt, params)?;
    let columns = super::unique_names(stmt.column_names().map(str::to_owned));
    if columns.is_empty() {
        return change(conn, &mut stmt, sql);
    }
    read_rows(&mut stmt, columns, sql)
}

/// Runs a statement without result columns; counts the rows it changed.
fn change(conn: &Connection, stmt: &mut Statement<'_>, sql: &str) -> Result<Rows, SqlError> {
    let before = conn.total_changes();
    stmt.raw_execute().map_err(|e| query_error(&e, sql))?;
    // `changes()` keeps the count of the last INSERT, UPDATE or DELETE across other statements
    // (DDL, say): it is this statement's only if the total moved.
    let row_count = if conn.total_changes() == before {
        0
    } else {
        conn.changes()
    };
    Ok(Rows {
        columns: Vec::new(),
        rows: Vec::new(),
        row_count,
    })
}

/// Runs a statement with result columns and reads all its rows.
fn read_rows(stmt: &mut Statement<'_>, columns: Vec<String>, sql: &str) -> Result<Rows, SqlError> {
    let kinds: Vec<Kind> = stmt.columns().map(|c| Kind::of(c.decl_type())).collect();
    let mut rows = stmt.raw_query();
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(|e| query_error(&e, sql))? {
        let mut object = Map::with_capacity(columns.len());
        for (i, (name, kind)) in columns.iter().zip(&kinds).enumerate() {
            let value = row.get_ref(i).map_err(|e| query_error(&e, sql))?;
            object.insert(name.clone(), kind.read(value));
        }
        out.push(object);
    }
    let row_count = out.len() as u64;
    Ok(Rows {
        columns,
        rows: out,
        row_count,
    })
}

/// Binds `params` to the statement's placeholders, each by the number it names.
fn bind(stmt: &mut Statement<'_>, params: &[Value]) -> Result<(), SqlError> {
    let mut used = vec![false; params.len()];
    for index in 1..=stmt.parameter_count() {
        let number = placeholder_number(stmt.parameter_name(index), index)?;
        let value = params.get(number - 1).ok_or_else(|| {
            let shown = stmt.parameter_name(index).unwrap_or("?");
            let message = format!(
                "the query uses `{shown}` (parameter {number}) but `params` gives {} values",
                params.len()
            );
            SqlError::Bind { index: number, message }
        })?;
        used[number - 1] = true;
        let bound = to_sql(value).map_err(|message| SqlError::Bind { index: number, message })?;
        stmt.raw_bind_parameter(index, bound).map_err(|e| SqlError::Bind {
            index: number,
            message: sqlite_message(&e),
        })?;
    }
    match used.iter().position(|u| !u) {
        Some(unused) => Err(SqlError::Bind {
            index: unused + 1,
            message: format!("the query has no placeholder for it (`?{0}` or `${0}`)", unused + 1),
        }),
        None => Ok(()),
    }
}

/// The 1-based parameter a placeholder names. SQLite numbers `?` and `?N` itself (`index`), but
/// gives `$N`, `:N` and `@N` the next free index as it would any name, so those are read.
fn placeholder_number(name: Option<&str>, index: usize) -> Result<usize, SqlError> {
    let Some(name) = name else { return Ok(index) };
    let digits = name.get(1..).unwrap_or("");
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        let message = format!("named parameters (`{name}`) are not supported; use `?1` or `$1`");
        return Err(SqlError::Bind { index, message });
    }
    digits
        .parse::<usize>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| SqlError::Bind {
            index,
            message: format!("`{name}` names no parameter; they count from 1"),
        })
}

/// A JSON value as SQLite stores it; `Err` says why it cannot be.
fn to_sql(value: &Value) -> Result<ToSqlOutput<'_>, String> {
    Ok(ToSqlOutput::Borrowed(match value {
        Value::Null => ValueRef::Null,
        Value::Bool(b) => ValueRef::Integer(i64::from(*b)),
        Value::Number(n) => return number_to_sql(n),
        Value::String(s) => ValueRef::Text(s.as_bytes()),
        // Arrays and objects go in as their JSON text, which SQLite's JSON functions read.
        Value::Array(_) | Value::Object(_) => return Ok(ToSqlOutput::Owned(value.to_string().into())),
    }))
}

fn number_to_sql(n: &Number) -> Result<ToSqlOutput<'static>, String> {
    if let Some(i) = n.as_i64() {
        return Ok(ToSqlOutput::Borrowed(ValueRef::Integer(i)));
    }
    if n.is_u64() {
        return Err(format!("{n} does not fit SQLite's 64-bit signed integer"));
    }
    match n.as_f64() {
        Some(f) => Ok(ToSqlOutput::Borrowed(ValueRef::Real(f))),
        None => Err(format!("{n} is not a number SQLite can store")),
    }
}

/// How a column's declared type shapes the values read from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Plain,
    /// Declared `JSON…`: text that parses as JSON comes back as that JSON.
    Json,
    /// Declared `BOOL…`: 0 and 1 come back as false and true.
    Bool,
}

impl Kind {
    fn of(decl_type: Option<&str>) -> Self {
        let upper = decl_type.unwrap_or("").to_ascii_uppercase();
        if upper.contains("JSON") {
            Self::Json
        } else if upper.contains("BOOL") {
            Self::Bool
        } else {
            Self::Plain
        }
    }

    fn read(self, value: ValueRef<'_>) -> Value {
        match value {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(i @ (0 | 1)) if self == Self::Bool => Value::Bool(i == 1),
            ValueRef::Integer(i) => Value::from(i),
            ValueRef::Real(f) => real(f),
            ValueRef::Text(bytes) => self.read_text(&String::from_utf8_lossy(bytes)),
            // A JSON column's BLOB (SQLite's binary JSONB) stays hex too: it is not JSON text.
            ValueRef::Blob(bytes) => Value::String(hex(bytes)),
        }
    }

    /// A TEXT cell: its JSON for a JSON column (when it parses), else the text.
    fn read_text(self, text: &str) -> Value {
        if self == Self::Json
            && let Ok(parsed) = serde_json::from_str(text)
        {
            return parsed;
        }
        Value::String(text.to_owned())
    }
}

/// JSON has no infinities; they come back as the strings JavaScript would print.
fn real(f: f64) -> Value {
    match Number::from_f64(f) {
        Some(n) => Value::Number(n),
        None if f == f64::INFINITY => Value::from("Infinity"),
        None if f == f64::NEG_INFINITY => Value::from("-Infinity"),
        None => Value::from("NaN"),
    }
}

/// The shape PostgreSQL's `to_json(bytea)` gives: `\x` then lowercase hex.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(2 + 2 * bytes.len());
    out.push_str("\\x");
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

/// A rusqlite error as a step's query error, with SQLite's own message and, for a syntax
/// error, where in `sql` it is.
fn query_error(error: &rusqlite::Error, sql: &str) -> SqlError {
    let fault = match code(error) {
        // The role's rights: an authorizer's refusal, a read-only database or file.
        Some(ErrorCode::AuthorizationForStatementDenied | ErrorCode::ReadOnly | ErrorCode::PermissionDenied) => {
            Fault::Statement
        }
        _ => Fault::Circumstance,
    };
    match error {
        rusqlite::Error::SqlInputError {
            msg, sql: part, offset, ..
        } => SqlError::Query {
            message: msg.clone(),
            code: None,
            position: position(sql, part, *offset),
            fault,
        },
        rusqlite::Error::MultipleStatement => {
            statement_error("one statement per step: the query holds more than one; split it into several steps".into())
        }
        rusqlite::Error::Empty => statement_error("the query is empty (or only a comment)".into()),
        other => SqlError::Query {
            message: sqlite_message(other),
            code: None,
            position: None,
            fault,
        },
    }
}

/// An error preparing a statement. SQLite's generic `SQLITE_ERROR` there means the statement
/// does not compile: a syntax error, no such table, column or function. (While it runs, the
/// same code can come from the data, such as malformed JSON, so it is not a fault then.)
fn prepare_error(error: &rusqlite::Error, sql: &str) -> SqlError {
    let mut failed = query_error(error, sql);
    if code(error) == Some(ErrorCode::Unknown)
        && let SqlError::Query { fault, .. } = &mut failed
    {
        *fault = Fault::Statement;
    }
    failed
}

/// SQLite's primary result code (`SQLITE_ERROR` is `Unknown`), when the error is SQLite's.
fn code(error: &rusqlite::Error) -> Option<ErrorCode> {
    match error {
        rusqlite::Error::SqliteFailure(e, _) | rusqlite::Error::SqlInputError { error: e, .. } => Some(e.code),
        _ => None,
    }
}

fn query_error_message(message: String) -> SqlError {
    SqlError::Query {
        message,
        code: None,
        position: None,
        fault: Fault::Circumstance,
    }
}

fn statement_error(message: String) -> SqlError {
    SqlError::Query {
        message,
        code: None,
        position: None,
        fault: Fault::Statement,
    }
}

/// SQLite's message when there is one, rather than rusqlite's wrapping of it.
fn sqlite_message(error: &rusqlite::Error) -> String {
    match error {
        rusqlite::Error::SqliteFailure(_, Some(message)) => message.clone(),
        rusqlite::Error::SqlInputError { msg, .. } => msg.clone(),
        other => other.to_string(),
    }
}

/// The 1-based character position in `sql` of byte `offset` in `part`. rusqlite reports an
/// error in a later statement against that statement's text alone, a suffix of `sql`.
fn position(sql: &str, part: &str, offset: c_int) -> Option<usize> {
    let start = sql
        .len()
        .checked_sub(part.len())
        .filter(|s| sql.get(*s..) == Some(part))?;
    let at = start + usize::try_from(offset).ok()?;
    Some(sql.char_indices().take_while(|(i, _)| *i < at).count() + 1)
}

#[cfg(test)]
#[path = "sqlite_tests.rs"]
mod tests;
