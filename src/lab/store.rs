//! The lab's record of MCP sessions: a row per session in `mcp_sessions`, a row per request in
//! `mcp_requests`, in PostgreSQL or an SQLite file, through the crate's own SQL layer.
//!
//! Times are written at microsecond precision (finer digits are dropped), so what is read back
//! equals what was written, on both backends. PostgreSQL keeps them as `timestamptz`; SQLite as
//! RFC 3339 text in UTC with exactly six fraction digits (`2026-11-25T08:00:00.123456Z`), so that
//! text order is time order and the same SQL compares, sorts and takes the later of two times.
//!
//! Every operation is one statement (a request is two), each in its own autocommit transaction:
//! the pool may hand each call another connection, so no transaction spans calls. A session ends
//! in one conditional `UPDATE … WHERE status = 'active'`, which is what makes ending exactly-once
//! however many enders race (the client's DELETE, the reaper, shutdown).
//!
//! One lab per database (or PostgreSQL schema): opening the store ends the sessions an earlier
//! process left active, and would end those of a lab still running on it too.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Datelike, SecondsFormat, TimeDelta, Utc};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::proto::sql::{Database, Durability, Options, Rows, SqlError, Target};

/// Every statement's deadline, from waiting for a connection to the last row.
const DEADLINE: Duration = Duration::from_secs(10);

/// The columns of a [`SessionRow`], in its order.
const SESSION_COLUMNS: &str = "session_id, client_name, client_version, protocol_version, connected_at, \
                               last_activity, request_count, status, disconnected_at, disconnect_reason, \
                               total_duration_ms";

/// The tables and their indexes, one statement each. `{time}`, `{int}`, `{real}` and `{serial}`
/// are the dialect's types.
const SCHEMA: [&str; 4] = [
    "CREATE TABLE IF NOT EXISTS mcp_sessions (
        session_id TEXT NOT NULL PRIMARY KEY,
        client_name TEXT,
        client_version TEXT,
        protocol_version TEXT,
        connected_at {time} NOT NULL,
        last_activity {time} NOT NULL,
        request_count {int} NOT NULL DEFAULT 0,
        status TEXT NOT NULL CHECK (status IN ('active', 'disconnected')),
        disconnected_at {time},
        disconnect_reason TEXT
            CHECK (disconnect_reason IN ('client_delete', 'timeout_no_activity', 'server_shutdown')),
        total_duration_ms {int}
    )",
    "CREATE INDEX IF NOT EXISTS mcp_sessions_status ON mcp_sessions (status)",
    "CREATE TABLE IF NOT EXISTS mcp_requests (
        id {serial} PRIMARY KEY,
        session_id TEXT NOT NULL,
        method TEXT NOT NULL,
        tool_name TEXT,
        at {time} NOT NULL,
        duration_ms {real} NOT NULL,
        outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'error', 'tool_error'))
    )",
    "CREATE INDEX IF NOT EXISTS mcp_requests_session ON mcp_requests (session_id)",
];

/// Where the two backends' SQL differs.
struct Dialect {
    /// Column types: a point in time, a 64-bit integer, a double, an auto-numbered key.
    time: &'static str,
    int: &'static str,
    real: &'static str,
    serial: &'static str,
    /// The later of two times: `greatest` in PostgreSQL, the two-argument `max` in SQLite.
    later: &'static str,
    /// Whole milliseconds (truncated toward zero) from `connected_at` to the time in `$2`.
    elapsed_ms: &'static str,
}

const POSTGRES: Dialect = Dialect {
    time: "timestamptz",
    int: "bigint",
    real: "double precision",
    serial: "bigserial",
    later: "greatest",
    // `extract` gives an exact numeric (PostgreSQL 14+), to the microsecond.
    elapsed_ms: "trunc(extract(epoch FROM $2::timestamptz - connected_at) * 1000)::bigint",
};

/// SQLite's date functions round to the millisecond, which would make a duration differ from
/// PostgreSQL's by one now and then; so whole seconds come from `unixepoch` on the text without
/// its fraction, and microseconds from the fixed place of the fraction in our own format.
const SQLITE: Dialect = Dialect {
    time: "TEXT",
    int: "INTEGER",
    real: "REAL",
    serial: "INTEGER",
    later: "max",
    elapsed_ms: "((unixepoch(substr($2, 1, 19)) - unixepoch(substr(connected_at, 1, 19))) * 1000000 \
                 + CAST(substr($2, 21, 6) AS INTEGER) - CAST(substr(connected_at, 21, 6) AS INTEGER)) / 1000",
};

/// Which database the store is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A PostgreSQL server.
    Postgres,
    /// An SQLite file.
    Sqlite,
}

impl Backend {
    fn dialect(self) -> &'static Dialect {
        match self {
            Self::Postgres => &POSTGRES,
            Self::Sqlite => &SQLITE,
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Postgres => "PostgreSQL",
            Self::Sqlite => "SQLite",
        })
    }
}

/// Why the store could not do what it was asked.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StoreError {
    /// A statement failed; `during` says what the store was doing.
    #[error("lab database: cannot {during}: {error}")]
    Sql {
        /// What the store was doing, e.g. `record a finished request`.
        during: &'static str,
        /// What the database said.
        error: SqlError,
    },
    /// A row does not hold what the store writes (a missing column, a value of another type).
    #[error("lab database: unreadable {what}")]
    Corrupt {
        /// The table, the column and what was found.
        what: String,
    },
    /// A value the store cannot write (a time outside years 1–9999, a duration that is not a
    /// finite, non-negative number).
    #[error("lab database: cannot store {what}")]
    Invalid {
        /// The value and why.
        what: String,
    },
}

/// `Err(UnknownValue)` from a word's `FromStr`: it names what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} `{found}`; expected {}", expected.join(", "))]
pub struct UnknownValue {
    /// What was being read, e.g. `session status`.
    pub kind: &'static str,
    /// The text given.
    pub found: String,
    /// The words that are known.
    pub expected: &'static [&'static str],
}

/// An enum stored and serialized as a fixed word, with `as_str`, `Display` and `FromStr`.
macro_rules! words {
    (
        $(#[$meta:meta])*
        pub enum $name:ident ($kind:literal) {
            $( $(#[$variant_meta:meta])* $variant:ident = $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $( $(#[$variant_meta])* #[serde(rename = $text)] $variant, )+
        }

        impl $name {
            /// Every variant, in order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The word stored in the database and shown in JSON.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownValue;

            fn from_str(s: &str) -> Result<Self, UnknownValue> {
                match s {
                    $($text => Ok(Self::$variant),)+
                    _ => Err(UnknownValue {
                        kind: $kind,
                        found: s.to_owned(),
                        expected: &[$($text),+],
                    }),
                }
            }
        }
    };
}

words! {
    /// Whether a session is still open.
    pub enum SessionStatus ("session status") {
        /// Open: it may still send requests.
        Active = "active",
        /// Ended, for the reason in `disconnect_reason`.
        Disconnected = "disconnected",
    }
}

words! {
    /// Why a session ended.
    pub enum EndReason ("disconnect reason") {
        /// The client sent `DELETE` with its session id.
        ClientDelete = "client_delete",
        /// The reaper found it idle past the session timeout.
        TimeoutNoActivity = "timeout_no_activity",
        /// The server stopped (or had stopped, for a session found active when it started).
        ServerShutdown = "server_shutdown",
    }
}

words! {
    /// How a request ended.
    pub enum Outcome ("request outcome") {
        /// A result.
        Ok = "ok",
        /// A JSON-RPC error.
        Error = "error",
        /// A `tools/call` result with `isError: true`.
        ToolError = "tool_error",
    }
}

/// One row of `mcp_sessions`.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct SessionRow {
    /// The MCP session id (`Mcp-Session-Id`).
    pub session_id: String,
    /// `clientInfo.name` from `initialize`.
    pub client_name: Option<String>,
    /// `clientInfo.version` from `initialize`.
    pub client_version: Option<String>,
    /// The protocol version the session agreed on.
    pub protocol_version: Option<String>,
    /// When `initialize` arrived.
    #[serde(serialize_with = "rfc3339")]
    pub connected_at: DateTime<Utc>,
    /// When the session's latest request ended.
    #[serde(serialize_with = "rfc3339")]
    pub last_activity: DateTime<Utc>,
    /// Requests recorded for it.
    pub request_count: i64,
    /// Open or ended.
    pub status: SessionStatus,
    /// When it ended.
    #[serde(serialize_with = "rfc3339_option")]
    pub disconnected_at: Option<DateTime<Utc>>,
    /// Why it ended.
    pub disconnect_reason: Option<EndReason>,
    /// `disconnected_at − connected_at`, whole milliseconds (truncated).
    pub total_duration_ms: Option<i64>,
}

/// One row of `mcp_requests`.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct RequestRow {
    /// The session it came on.
    pub session_id: String,
    /// The JSON-RPC method.
    pub method: String,
    /// For `tools/call`, the tool.
    pub tool_name: Option<String>,
    /// When it arrived.
    #[serde(serialize_with = "rfc3339")]
    pub at: DateTime<Utc>,
    /// How long the server took, in milliseconds.
    pub duration_ms: f64,
    /// How it ended.
    pub outcome: Outcome,
}

/// A session that has just been initialized.
#[derive(Clone, Debug, PartialEq)]
pub struct NewSession {
    /// The MCP session id.
    pub session_id: String,
    /// `clientInfo.name`.
    pub client_name: Option<String>,
    /// `clientInfo.version`.
    pub client_version: Option<String>,
    /// The agreed protocol version.
    pub protocol_version: Option<String>,
    /// When `initialize` arrived.
    pub at: DateTime<Utc>,
}

/// A request that has just been answered.
#[derive(Clone, Debug, PartialEq)]
pub struct NewRequest {
    /// The session it came on.
    pub session_id: String,
    /// The JSON-RPC method.
    pub method: String,
    /// For `tools/call`, the tool.
    pub tool_name: Option<String>,
    /// When it arrived.
    pub at: DateTime<Utc>,
    /// How long the server took, in milliseconds (finite, not negative).
    pub duration_ms: f64,
    /// How it ended.
    pub outcome: Outcome,
}

/// The statements whose text depends on the dialect, built once.
struct Statements {
    /// `$1` reason, `$2` time: ends every active session.
    end_all: String,
    /// `$1` reason, `$2` time, `$3` session id: ends one session if it is active.
    end_one: String,
    /// `$1` session id, `$2` when the request ended: counts a request.
    count_request: String,
}

impl Statements {
    fn new(dialect: &Dialect) -> Self {
        let end_all = format!(
            "UPDATE mcp_sessions SET status = 'disconnected', disconnect_reason = $1, disconnected_at = $2, \
             total_duration_ms = {} WHERE status = 'active'",
            dialect.elapsed_ms
        );
        Self {
            end_one: format!("{end_all} AND session_id = $3"),
            end_all,
            count_request: format!(
                "UPDATE mcp_sessions SET request_count = request_count + 1, \
                 last_activity = {}(last_activity, $2) WHERE session_id = $1",
                dialect.later
            ),
        }
    }
}

/// The lab's session records, in one database.
pub struct Store {
    database: Database,
    backend: Backend,
    statements: Statements,
}

impl Store {
    /// Connects (PostgreSQL `postgres://…`, or SQLite `sqlite://PATH`), creates the tables, and
    /// marks every session an earlier process left `active` as `disconnected` with
    /// `server_shutdown` (disconnected_at = now, total_duration_ms = now − connected_at).
    /// Returns the store and how many sessions it so recovered.
    pub async fn open(url: &str) -> Result<(Self, u64), StoreError> {
        const OPEN: &str = "open the database";
        let target = Target::parse(url).map_err(sql_error(OPEN))?;
        let backend = match target {
            Target::Postgres(_) => Backend::Postgres,
            Target::Sqlite(_) => Backend::Sqlite,
        };
        // SQLite writes one at a time whatever the pool: more connections only wait longer.
        let pool_size = match backend {
            Backend::Postgres => 8,
            Backend::Sqlite => 4,
        };
        // Every request writes a row: waiting for the disk on each would make the lab's speed
        // the disk's. A crash of the machine may lose the last rows, never corrupt the store.
        let options = Options {
            pool_size,
            connect_timeout: DEADLINE,
            durability: Durability::Relaxed,
        };
        let database = Database::open(target, options).map_err(sql_error(OPEN))?;
        let dialect = backend.dialect();
        let store = Self {
            database,
            backend,
            statements: Statements::new(dialect),
        };
        if backend == Backend::Sqlite {
            // Readers then never wait for the writer, nor it for them. The mode is kept in the
            // file, so one connection setting it is enough. Its answer (the mode now in force)
            // is not checked: an in-memory database stays `memory`, and a file system that
            // cannot do WAL still works, only with more waiting.
            store
                .run("switch SQLite to WAL", "PRAGMA journal_mode=WAL", &[])
                .await?;
        }
        for statement in SCHEMA {
            let statement = statement
                .replace("{time}", dialect.time)
                .replace("{int}", dialect.int)
                .replace("{real}", dialect.real)
                .replace("{serial}", dialect.serial);
            store.run("create the tables", &statement, &[]).await?;
        }
        let recovered = store
            .end_all(
                "end the sessions an earlier run left active",
                EndReason::ServerShutdown,
                Utc::now(),
            )
            .await?;
        Ok((store, recovered))
    }

    /// Which database the store is in.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A new session row, `active`, request_count 0, last_activity = connected_at = at.
    pub async fn session_started(&self, s: &NewSession) -> Result<(), StoreError> {
        let at = stamp(s.at)?;
        let params = [
            text_param(&s.session_id),
            optional_text_param(s.client_name.as_deref()),
            optional_text_param(s.client_version.as_deref()),
            optional_text_param(s.protocol_version.as_deref()),
            Value::from(at),
        ];
        self.run(
            "record a new session",
            "INSERT INTO mcp_sessions (session_id, client_name, client_version, protocol_version, connected_at, \
             last_activity, request_count, status) VALUES ($1, $2, $3, $4, $5, $5, 0, 'active')",
            &params,
        )
        .await?;
        Ok(())
    }

    /// One request row, and on its session: request_count + 1, last_activity =
    /// greatest(last_activity, at + duration). A request on an unknown session is recorded
    /// alone; one on an ended session still counts (it was served).
    pub async fn request_finished(&self, r: &NewRequest) -> Result<(), StoreError> {
        let ended = request_end(r)?;
        let params = [
            text_param(&r.session_id),
            text_param(&r.method),
            optional_text_param(r.tool_name.as_deref()),
            Value::from(stamp(r.at)?),
            Value::from(r.duration_ms),
            Value::from(r.outcome.as_str()),
        ];
        self.run(
            "record a finished request",
            "INSERT INTO mcp_requests (session_id, method, tool_name, at, duration_ms, outcome) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            &params,
        )
        .await?;
        let params = [text_param(&r.session_id), Value::from(stamp(ended)?)];
        self.run(
            "count a request on its session",
            &self.statements.count_request,
            &params,
        )
        .await?;
        Ok(())
    }

    /// Ends an `active` session: disconnected, `reason`, disconnected_at = at,
    /// total_duration_ms = at − connected_at (whole ms, truncated). Returns false when it was not
    /// active (unknown or already ended): a session ends once.
    pub async fn session_ended(
        &self,
        session_id: &str,
        reason: EndReason,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let params = [
            Value::from(reason.as_str()),
            Value::from(stamp(at)?),
            text_param(session_id),
        ];
        let answer = self.run("end a session", &self.statements.end_one, &params).await?;
        Ok(answer.row_count > 0)
    }

    /// Ends every active session with `reason` (at shutdown); returns how many.
    pub async fn end_all_active(&self, reason: EndReason, at: DateTime<Utc>) -> Result<u64, StoreError> {
        self.end_all("end the active sessions", reason, at).await
    }

    async fn end_all(&self, during: &'static str, reason: EndReason, at: DateTime<Utc>) -> Result<u64, StoreError> {
        let params = [Value::from(reason.as_str()), Value::from(stamp(at)?)];
        let answer = self.run(during, &self.statements.end_all, &params).await?;
        Ok(answer.row_count)
    }

    /// Sessions, newest connected first, optionally only those with one status.
    pub async fn sessions(&self, status: Option<SessionStatus>) -> Result<Vec<SessionRow>, StoreError> {
        const DURING: &str = "list the sessions";
        let answer = match status {
            None => {
                let sql = format!("SELECT {SESSION_COLUMNS} FROM mcp_sessions ORDER BY connected_at DESC, session_id");
                self.run(DURING, &sql, &[]).await?
            }
            Some(status) => {
                let sql = format!(
                    "SELECT {SESSION_COLUMNS} FROM mcp_sessions WHERE status = $1 \
                     ORDER BY connected_at DESC, session_id"
                );
                self.run(DURING, &sql, &[Value::from(status.as_str())]).await?
            }
        };
        answer.rows.iter().map(session_row).collect()
    }

    /// Sessions that connected at or after `since`, or are still active; newest connected first.
    pub async fn sessions_since(&self, since: DateTime<Utc>) -> Result<Vec<SessionRow>, StoreError> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM mcp_sessions WHERE connected_at >= $1 OR status = 'active' \
             ORDER BY connected_at DESC, session_id"
        );
        let answer = self
            .run("list the recent sessions", &sql, &[Value::from(stamp(since)?)])
            .await?;
        answer.rows.iter().map(session_row).collect()
    }

    /// One session and its requests (oldest first); `None` if unknown.
    pub async fn session(&self, id: &str) -> Result<Option<(SessionRow, Vec<RequestRow>)>, StoreError> {
        const DURING: &str = "read a session";
        let params = [text_param(id)];
        let sql = format!("SELECT {SESSION_COLUMNS} FROM mcp_sessions WHERE session_id = $1");
        let answer = self.run(DURING, &sql, &params).await?;
        let Some(row) = answer.rows.first() else {
            return Ok(None);
        };
        let session = session_row(row)?;
        let answer = self
            .run(
                DURING,
                "SELECT session_id, method, tool_name, at, duration_ms, outcome FROM mcp_requests \
                 WHERE session_id = $1 ORDER BY at, id",
                &params,
            )
            .await?;
        let requests = answer.rows.iter().map(request_row).collect::<Result<_, _>>()?;
        Ok(Some((session, requests)))
    }

    async fn run(&self, during: &'static str, sql: &str, params: &[Value]) -> Result<Rows, StoreError> {
        self.database
            .query(sql, params, DEADLINE)
            .await
            .map_err(sql_error(during))
    }
}

/// The escape a NUL is stored as, on both backends: PostgreSQL text cannot hold `\0`, and a
/// scenario's `sql` check must read the same on either. JSON's spelling of it, so the stored
/// text is what the client wrote in its JSON.
const NUL_ESCAPE: &str = "\\u0000";

/// A text parameter as the store writes (and looks up) it: every NUL as [`NUL_ESCAPE`], the
/// rest as given. A lookup of an id with a NUL so finds nothing rather than failing.
fn text_param(text: &str) -> Value {
    Value::from(text.replace('\0', NUL_ESCAPE))
}

fn optional_text_param(text: Option<&str>) -> Value {
    text.map_or(Value::Null, text_param)
}

fn sql_error(during: &'static str) -> impl Fn(SqlError) -> StoreError {
    move |error| StoreError::Sql { during, error }
}

/// A time as the store writes it: RFC 3339 in UTC, `Z`, six fraction digits (finer ones
/// dropped). Years outside 1–9999 would not keep that shape (nor text order).
fn stamp(t: DateTime<Utc>) -> Result<String, StoreError> {
    if !(1..=9999).contains(&t.year()) {
        return Err(StoreError::Invalid {
            what: format!("the time {t}: only years 1 to 9999 are kept"),
        });
    }
    Ok(rfc3339_text(&t))
}

fn rfc3339_text(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// When a request ended: `at` + its duration, to the microsecond.
fn request_end(r: &NewRequest) -> Result<DateTime<Utc>, StoreError> {
    let invalid = || StoreError::Invalid {
        what: format!(
            "the duration {} ms of a `{}` request: it must be a finite number, not negative",
            r.duration_ms, r.method
        ),
    };
    if !r.duration_ms.is_finite() || r.duration_ms < 0.0 {
        return Err(invalid());
    }
    // Saturates for huge values, which then fail to add.
    let micros = (r.duration_ms * 1000.0).round() as i64;
    r.at.checked_add_signed(TimeDelta::microseconds(micros))
        .ok_or_else(invalid)
}

fn rfc3339<S: Serializer>(t: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&rfc3339_text(t))
}

fn rfc3339_option<S: Serializer>(t: &Option<DateTime<Utc>>, serializer: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => serializer.serialize_some(&rfc3339_text(t)),
        None => serializer.serialize_none(),
    }
}

fn session_row(row: &Map<String, Value>) -> Result<SessionRow, StoreError> {
    let r = Columns {
        table: "mcp_sessions",
        row,
    };
    Ok(SessionRow {
        session_id: r.required("session_id", string)?,
        client_name: r.optional("client_name", string)?,
        client_version: r.optional("client_version", string)?,
        protocol_version: r.optional("protocol_version", string)?,
        connected_at: r.required("connected_at", time)?,
        last_activity: r.required("last_activity", time)?,
        request_count: r.required("request_count", integer)?,
        status: r.required("status", word)?,
        disconnected_at: r.optional("disconnected_at", time)?,
        disconnect_reason: r.optional("disconnect_reason", word)?,
        total_duration_ms: r.optional("total_duration_ms", integer)?,
    })
}

fn request_row(row: &Map<String, Value>) -> Result<RequestRow, StoreError> {
    let r = Columns {
        table: "mcp_requests",
        row,
    };
    Ok(RequestRow {
        session_id: r.required("session_id", string)?,
        method: r.required("method", string)?,
        tool_name: r.optional("tool_name", string)?,
        at: r.required("at", time)?,
        duration_ms: r.required("duration_ms", real)?,
        outcome: r.required("outcome", word)?,
    })
}

/// A row's values, read by column; any surprise is [`StoreError::Corrupt`].
struct Columns<'a> {
    table: &'static str,
    row: &'a Map<String, Value>,
}

/// Reads one non-null value; `Err` names what was expected.
type Reader<T> = fn(&Value) -> Result<T, String>;

impl Columns<'_> {
    fn optional<T>(&self, column: &str, read: Reader<T>) -> Result<Option<T>, StoreError> {
        match self.row.get(column) {
            None => Err(self.corrupt(column, "the column is missing".into())),
            Some(Value::Null) => Ok(None),
            Some(value) => read(value)
                .map(Some)
                .map_err(|expected| self.corrupt(column, format!("expected {expected}, found {}", shown(value)))),
        }
    }

    fn required<T>(&self, column: &str, read: Reader<T>) -> Result<T, StoreError> {
        self.optional(column, read)?
            .ok_or_else(|| self.corrupt(column, "expected a value, found null".into()))
    }

    fn corrupt(&self, column: &str, why: String) -> StoreError {
        StoreError::Corrupt {
            what: format!("{}.{column}: {why}", self.table),
        }
    }
}

fn string(value: &Value) -> Result<String, String> {
    value.as_str().map(str::to_owned).ok_or_else(|| "text".into())
}

fn integer(value: &Value) -> Result<i64, String> {
    value.as_i64().ok_or_else(|| "a 64-bit integer".into())
}

/// A JSON number, or the text PostgreSQL gives for a float JSON cannot hold.
fn real(value: &Value) -> Result<f64, String> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
    .ok_or_else(|| "a number".into())
}

fn time(value: &Value) -> Result<DateTime<Utc>, String> {
    value
        .as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| "an RFC 3339 time".into())
}

fn word<T: FromStr<Err = UnknownValue>>(value: &Value) -> Result<T, String> {
    let Some(s) = value.as_str() else {
        return Err("text".into());
    };
    s.parse()
        .map_err(|unknown: UnknownValue| format!("one of {}", unknown.expected.join(", ")))
}

/// A value for an error message, cut short.
fn shown(value: &Value) -> String {
    const MAX: usize = 80;
    let text = value.to_string();
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

#[cfg(test)]
#[path = "store_tests.rs"]
mod tests;
