//! Every behaviour on both backends: SQLite in a temporary directory, PostgreSQL at
//! `DATABASE_URL` (else `postgres://postgres@127.0.0.1:5432/test`) in a schema of its own per
//! test. A missing PostgreSQL fails the tests; it never skips them.

use std::sync::Arc;

use chrono::{SubsecRound, TimeZone};
use serde_json::json;
use tempfile::TempDir;
use tokio_postgres::NoTls;

use super::*;

/// A database for one test, gone when the test ends.
struct Db {
    backend: Backend,
    url: String,
    /// SQLite: the directory holding the file.
    _dir: Option<TempDir>,
    /// PostgreSQL: the schema to drop.
    schema: Option<String>,
}

fn postgres_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

impl Db {
    fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("lab.db").display());
        Self {
            backend: Backend::Sqlite,
            url,
            _dir: Some(dir),
            schema: None,
        }
    }

    async fn postgres() -> Self {
        let base = postgres_url();
        let name = format!("runner_lab_t_{}", uuid::Uuid::new_v4().simple());
        let (client, connection) = tokio_postgres::connect(&base, NoTls)
            .await
            .unwrap_or_else(|e| panic!("these tests need PostgreSQL at {base} (set DATABASE_URL): {e}"));
        tokio::spawn(async move {
            let _ = connection.await;
        });
        client
            .batch_execute(&format!("CREATE SCHEMA {name}"))
            .await
            .unwrap_or_else(|e| panic!("CREATE SCHEMA {name}: {e}"));
        let separator = if base.contains('?') { '&' } else { '?' };
        Self {
            backend: Backend::Postgres,
            // `-c search_path=NAME`, URL-encoded: every session opened with this URL uses it.
            url: format!("{base}{separator}options=-csearch_path%3D{name}"),
            _dir: None,
            schema: Some(name),
        }
    }

    async fn open(&self) -> (Store, u64) {
        let (store, recovered) = Store::open(&self.url).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(store.backend(), self.backend);
        (store, recovered)
    }

    async fn store(&self) -> Store {
        self.open().await.0
    }

    /// Runs one statement beside the store, for what its API does not show.
    async fn raw(&self, sql: &str) -> Vec<Map<String, Value>> {
        let options = Options {
            pool_size: 1,
            connect_timeout: DEADLINE,
            durability: Durability::Default,
        };
        let database = Database::open(Target::parse(&self.url).unwrap(), options).unwrap();
        database
            .query(sql, &[], DEADLINE)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .rows
    }
}

impl Drop for Db {
    /// Best effort, on a thread with its own runtime: the test's runtime may be shutting down.
    fn drop(&mut self) {
        let Some(schema) = self.schema.take() else { return };
        let sql = format!("DROP SCHEMA IF EXISTS {schema} CASCADE");
        let dropper = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                return;
            };
            runtime.block_on(async {
                let work = async {
                    let (client, connection) = tokio_postgres::connect(&postgres_url(), NoTls).await.ok()?;
                    tokio::spawn(async move {
                        let _ = connection.await;
                    });
                    client.batch_execute(&sql).await.ok()
                };
                let _ = tokio::time::timeout(Duration::from_secs(10), work).await;
            });
        });
        let _ = dropper.join();
    }
}

/// Each named `async fn(Db)` becomes a module with a test per backend.
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name(super::Db::sqlite()).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name(super::Db::postgres().await).await;
                }
            }
        )+
    };
}

on_both_backends!(
    open_creates_the_tables_once,
    commits_do_not_wait_for_the_disk,
    a_session_lives_and_ends_with_each_reason,
    a_session_ends_once,
    shutdown_ends_every_active_session,
    open_ends_sessions_left_active,
    sessions_are_listed_newest_first_and_filtered,
    two_hundred_concurrent_sessions_all_land,
    times_round_trip_to_the_microsecond,
    bad_values_are_refused_before_the_database,
    a_nul_is_stored_escaped_and_found_by_the_same_sql,
);

fn t(text: &str) -> DateTime<Utc> {
    text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn new_session(id: &str, at: DateTime<Utc>) -> NewSession {
    NewSession {
        session_id: id.into(),
        client_name: Some("runner".into()),
        client_version: Some("0.1.0".into()),
        protocol_version: Some("2025-06-18".into()),
        at,
    }
}

fn new_request(id: &str, method: &str, at: DateTime<Utc>, duration_ms: f64, outcome: Outcome) -> NewRequest {
    NewRequest {
        session_id: id.into(),
        method: method.into(),
        tool_name: (method == "tools/call").then(|| "echo".into()),
        at,
        duration_ms,
        outcome,
    }
}

async fn start(store: &Store, id: &str, at: &str) {
    store.session_started(&new_session(id, t(at))).await.unwrap();
}

async fn row(store: &Store, id: &str) -> SessionRow {
    store
        .session(id)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{id}: no row"))
        .0
}

fn ids(rows: &[SessionRow]) -> Vec<&str> {
    rows.iter().map(|r| r.session_id.as_str()).collect()
}

async fn commits_do_not_wait_for_the_disk(db: Db) {
    let store = db.store().await;
    let (sql, expected) = match db.backend {
        Backend::Sqlite => ("PRAGMA synchronous", json!({"synchronous": 1})),
        Backend::Postgres => ("SHOW synchronous_commit", json!({"synchronous_commit": "off"})),
    };
    let answer = store.database.query(sql, &[], DEADLINE).await.unwrap();
    assert_eq!(Value::Object(answer.rows[0].clone()), expected);
}

async fn open_creates_the_tables_once(db: Db) {
    let (store, recovered) = db.open().await;
    assert_eq!(recovered, 0);
    assert_eq!(store.sessions(None).await.unwrap(), []);
    start(&store, "s1", "2026-11-25T08:00:00Z").await;
    store
        .session_ended("s1", EndReason::ClientDelete, Utc::now())
        .await
        .unwrap();
    drop(store);

    // A second open finds everything in place and keeps the rows.
    let (store, recovered) = db.open().await;
    assert_eq!(recovered, 0);
    assert_eq!(ids(&store.sessions(None).await.unwrap()), ["s1"]);

    let indexes = match db.backend {
        Backend::Postgres => {
            "SELECT indexname AS name FROM pg_indexes WHERE schemaname = current_schema() \
             AND indexname NOT LIKE '%pkey' ORDER BY 1"
        }
        Backend::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'mcp%' ORDER BY 1",
    };
    let names: Vec<Value> = db.raw(indexes).await.into_iter().map(|r| r["name"].clone()).collect();
    assert_eq!(names, [json!("mcp_requests_session"), json!("mcp_sessions_status")]);
    if db.backend == Backend::Sqlite {
        assert_eq!(db.raw("PRAGMA journal_mode").await[0]["journal_mode"], "wal");
    }
}

async fn a_session_lives_and_ends_with_each_reason(db: Db) {
    let store = db.store().await;
    let ends = [
        (EndReason::ClientDelete, "2026-11-25T08:00:05.000999Z", 5000),
        (EndReason::TimeoutNoActivity, "2026-11-25T08:05:01.250000Z", 301_250),
        (EndReason::ServerShutdown, "2026-11-25T08:00:00.001300Z", 0),
    ];
    for (reason, end, total) in ends {
        let id = format!("life-{reason}");
        // The last case lasts 0.9 ms: truncated to 0 on both backends (rounding each time to the
        // millisecond first, as SQLite's date functions do, would give 1).
        let connected = match reason {
            EndReason::ServerShutdown => "2026-11-25T08:00:00.000400Z",
            _ => "2026-11-25T08:00:00Z",
        };
        start(&store, &id, connected).await;
        let requests = [
            new_request(&id, "tools/list", t("2026-11-25T08:00:00.000500Z"), 0.25, Outcome::Ok),
            new_request(
                &id,
                "tools/call",
                t("2026-11-25T08:00:00.000700Z"),
                0.501,
                Outcome::ToolError,
            ),
            // Arrived earlier, recorded later, ended before the others: last_activity stays.
            new_request(&id, "ping", t("2026-11-25T08:00:00.000100Z"), 0.1, Outcome::Error),
        ];
        for request in &requests {
            store.request_finished(request).await.unwrap();
        }
        let started = row(&store, &id).await;
        assert_eq!(started.status, SessionStatus::Active);
        assert_eq!(started.request_count, 3);
        // 0.0007 s + 0.501 ms.
        assert_eq!(started.last_activity, t("2026-11-25T08:00:00.001201Z"));
        assert_eq!(started.disconnected_at, None);

        assert!(store.session_ended(&id, reason, t(end)).await.unwrap());
        let (ended, recorded) = store.session(&id).await.unwrap().unwrap();
        let expected = SessionRow {
            session_id: id.clone(),
            client_name: Some("runner".into()),
            client_version: Some("0.1.0".into()),
            protocol_version: Some("2025-06-18".into()),
            connected_at: t(connected),
            last_activity: t("2026-11-25T08:00:00.001201Z"),
            request_count: 3,
            status: SessionStatus::Disconnected,
            disconnected_at: Some(t(end)),
            disconnect_reason: Some(reason),
            total_duration_ms: Some(total),
        };
        assert_eq!(ended, expected);
        let in_order: Vec<RequestRow> = [&requests[2], &requests[0], &requests[1]]
            .into_iter()
            .map(|r| RequestRow {
                session_id: r.session_id.clone(),
                method: r.method.clone(),
                tool_name: r.tool_name.clone(),
                at: r.at,
                duration_ms: r.duration_ms,
                outcome: r.outcome,
            })
            .collect();
        assert_eq!(recorded, in_order);
    }
    assert_eq!(store.session("nobody").await.unwrap(), None);
}

async fn a_session_ends_once(db: Db) {
    let store = db.store().await;
    start(&store, "s1", "2026-11-25T08:00:00Z").await;
    let first = t("2026-11-25T08:00:01Z");
    assert!(
        store
            .session_ended("s1", EndReason::TimeoutNoActivity, first)
            .await
            .unwrap()
    );
    let after_first = row(&store, "s1").await;
    let later = t("2026-11-25T08:00:09Z");
    assert!(!store.session_ended("s1", EndReason::ClientDelete, later).await.unwrap());
    assert_eq!(row(&store, "s1").await, after_first);
    assert_eq!(after_first.disconnect_reason, Some(EndReason::TimeoutNoActivity));
    assert_eq!(after_first.total_duration_ms, Some(1000));
    assert!(
        !store
            .session_ended("nobody", EndReason::ClientDelete, later)
            .await
            .unwrap()
    );

    // Racing enders: exactly one wins.
    start(&store, "s2", "2026-11-25T08:00:00Z").await;
    let store = Arc::new(store);
    let racers: Vec<_> = (0..8)
        .map(|_| {
            let store = Arc::clone(&store);
            tokio::spawn(async move { store.session_ended("s2", EndReason::ClientDelete, later).await.unwrap() })
        })
        .collect();
    let mut won = 0;
    for racer in racers {
        won += usize::from(racer.await.unwrap());
    }
    assert_eq!(won, 1);
}

async fn shutdown_ends_every_active_session(db: Db) {
    let store = db.store().await;
    start(&store, "a", "2026-11-25T08:00:00Z").await;
    start(&store, "b", "2026-11-25T08:00:01.5Z").await;
    start(&store, "c", "2026-11-25T08:00:02Z").await;
    // A fraction SQLite's date functions would round up into the next second.
    start(&store, "d", "2026-11-25T08:00:09.999900Z").await;
    assert!(
        store
            .session_ended("b", EndReason::ClientDelete, t("2026-11-25T08:00:03Z"))
            .await
            .unwrap()
    );
    let at = t("2026-11-25T08:00:10.123456Z");
    assert_eq!(store.end_all_active(EndReason::ServerShutdown, at).await.unwrap(), 3);
    for (id, total) in [("a", 10_123), ("c", 8_123), ("d", 123)] {
        let row = row(&store, id).await;
        assert_eq!(row.status, SessionStatus::Disconnected);
        assert_eq!(row.disconnect_reason, Some(EndReason::ServerShutdown));
        assert_eq!(row.disconnected_at, Some(at));
        assert_eq!(row.total_duration_ms, Some(total), "{id}");
    }
    let b = row(&store, "b").await;
    assert_eq!(
        (b.disconnect_reason, b.total_duration_ms),
        (Some(EndReason::ClientDelete), Some(1500))
    );
    assert_eq!(store.end_all_active(EndReason::ServerShutdown, at).await.unwrap(), 0);
}

async fn open_ends_sessions_left_active(db: Db) {
    let store = db.store().await;
    let connected = Utc::now() - TimeDelta::seconds(3);
    for id in ["left-1", "left-2", "ended"] {
        store.session_started(&new_session(id, connected)).await.unwrap();
    }
    store
        .session_ended("ended", EndReason::ClientDelete, connected)
        .await
        .unwrap();
    // The process dies without ending its sessions.
    drop(store);

    let before = Utc::now();
    let (store, recovered) = db.open().await;
    let after = Utc::now();
    assert_eq!(recovered, 2);
    for id in ["left-1", "left-2"] {
        let row = row(&store, id).await;
        assert_eq!(row.status, SessionStatus::Disconnected);
        assert_eq!(row.disconnect_reason, Some(EndReason::ServerShutdown));
        let at = row.disconnected_at.unwrap();
        // Written at microsecond precision.
        assert!(before.trunc_subsecs(6) <= at && at <= after, "{at}");
        assert_eq!(row.total_duration_ms, Some((at - row.connected_at).num_milliseconds()));
    }
    assert_eq!(
        row(&store, "ended").await.disconnect_reason,
        Some(EndReason::ClientDelete)
    );
    assert_eq!(store.sessions(Some(SessionStatus::Active)).await.unwrap(), []);
}

async fn sessions_are_listed_newest_first_and_filtered(db: Db) {
    let store = db.store().await;
    start(&store, "old-active", "2026-11-25T07:00:00Z").await;
    start(&store, "old-ended", "2026-11-25T07:30:00Z").await;
    start(&store, "new-ended", "2026-11-25T08:00:00Z").await;
    start(&store, "new-active", "2026-11-25T08:30:00Z").await;
    // Same time: the id decides.
    start(&store, "new-active-2", "2026-11-25T08:30:00Z").await;
    for id in ["old-ended", "new-ended"] {
        store
            .session_ended(id, EndReason::ClientDelete, t("2026-11-25T09:00:00Z"))
            .await
            .unwrap();
    }
    let all = store.sessions(None).await.unwrap();
    assert_eq!(
        ids(&all),
        ["new-active", "new-active-2", "new-ended", "old-ended", "old-active"]
    );
    let active = store.sessions(Some(SessionStatus::Active)).await.unwrap();
    assert_eq!(ids(&active), ["new-active", "new-active-2", "old-active"]);
    let ended = store.sessions(Some(SessionStatus::Disconnected)).await.unwrap();
    assert_eq!(ids(&ended), ["new-ended", "old-ended"]);
    // Connected at or after the time, or still active.
    let recent = store.sessions_since(t("2026-11-25T08:00:00Z")).await.unwrap();
    assert_eq!(ids(&recent), ["new-active", "new-active-2", "new-ended", "old-active"]);
    let future = store.sessions_since(t("2026-11-26T00:00:00Z")).await.unwrap();
    assert_eq!(ids(&future), ["new-active", "new-active-2", "old-active"]);
}

async fn two_hundred_concurrent_sessions_all_land(db: Db) {
    let store = Arc::new(db.store().await);
    let at = t("2026-11-25T08:00:00Z");
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let id = format!("c-{i:03}");
                store.session_started(&new_session(&id, at)).await?;
                let request = new_request(&id, "tools/call", at, 1.0, Outcome::Ok);
                store.request_finished(&request).await
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap_or_else(|e| panic!("{e}"));
    }
    let all = store.sessions(None).await.unwrap();
    assert_eq!(all.len(), 200);
    assert!(all.iter().all(|s| s.request_count == 1), "{all:?}");
    let counted = db.raw("SELECT count(*) AS n FROM mcp_requests").await;
    assert_eq!(counted[0]["n"], 200);
    assert_eq!(store.session("c-123").await.unwrap().unwrap().1.len(), 1);
}

async fn times_round_trip_to_the_microsecond(db: Db) {
    let store = db.store().await;
    let cases = [
        ("2026-11-25T08:00:00.123456Z", "2026-11-25T08:00:00.123456Z"),
        // PostgreSQL shows no fraction when it is zero.
        ("2026-11-25T08:00:00Z", "2026-11-25T08:00:00.000000Z"),
        // Finer digits are dropped, not rounded: the same on both backends.
        ("2026-11-25T23:59:59.999999999Z", "2026-11-25T23:59:59.999999Z"),
        // An offset is the same instant in UTC.
        ("2026-11-25T10:00:00.5+02:00", "2026-11-25T08:00:00.500000Z"),
        ("1999-12-31T23:59:59.000001Z", "1999-12-31T23:59:59.000001Z"),
    ];
    for (i, (given, kept)) in cases.into_iter().enumerate() {
        let id = format!("t{i}");
        start(&store, &id, given).await;
        let request = new_request(&id, "ping", t(given), 0.0, Outcome::Ok);
        store.request_finished(&request).await.unwrap();
        store
            .session_ended(&id, EndReason::ClientDelete, t(given))
            .await
            .unwrap();
        let (row, requests) = store.session(&id).await.unwrap().unwrap();
        assert_eq!(row.connected_at, t(kept), "{given}");
        assert_eq!(row.last_activity, t(kept), "{given}");
        assert_eq!(row.disconnected_at, Some(t(kept)), "{given}");
        assert_eq!(row.total_duration_ms, Some(0), "{given}");
        assert_eq!(requests[0].at, t(kept), "{given}");
        let shown = serde_json::to_value(&row).unwrap();
        assert_eq!(shown["connected_at"], kept);
        assert_eq!(shown["disconnected_at"], kept);
    }
    if db.backend == Backend::Sqlite {
        // Stored as text in one shape, so text order is time order.
        let stored = db
            .raw("SELECT connected_at FROM mcp_sessions WHERE session_id = 't1'")
            .await;
        assert_eq!(stored[0]["connected_at"], "2026-11-25T08:00:00.000000Z");
    }
}

async fn bad_values_are_refused_before_the_database(db: Db) {
    let store = db.store().await;
    start(&store, "s", "2026-11-25T08:00:00Z").await;
    for duration in [f64::NAN, f64::INFINITY, -1.0, 1e300] {
        let request = new_request("s", "ping", t("2026-11-25T08:00:00Z"), duration, Outcome::Ok);
        let error = store.request_finished(&request).await.unwrap_err();
        assert!(matches!(error, StoreError::Invalid { .. }), "{error}");
    }
    let far = Utc.with_ymd_and_hms(10000, 1, 1, 0, 0, 0).unwrap();
    let error = store.session_started(&new_session("far", far)).await.unwrap_err();
    assert!(error.to_string().contains("only years 1 to 9999"), "{error}");
    let (_, requests) = store.session("s").await.unwrap().unwrap();
    assert_eq!(requests, []);
    // A duplicate id is the database's refusal, named by what the store was doing.
    let error = store.session_started(&new_session("s", Utc::now())).await.unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("lab database: cannot record a new session: "),
        "{error}"
    );
}

async fn a_nul_is_stored_escaped_and_found_by_the_same_sql(db: Db) {
    let store = db.store().await;
    let at = t("2026-11-25T08:00:00Z");
    let session = NewSession {
        client_name: Some("bad\0client".into()),
        client_version: Some("\0".into()),
        ..new_session("s", at)
    };
    store.session_started(&session).await.unwrap_or_else(|e| panic!("{e}"));
    let request = NewRequest {
        tool_name: Some("to\0ol".into()),
        ..new_request("s", "tools/call", at, 1.0, Outcome::Error)
    };
    store.request_finished(&request).await.unwrap_or_else(|e| panic!("{e}"));
    let (row, requests) = store.session("s").await.unwrap().unwrap();
    assert_eq!(row.client_name.as_deref(), Some("bad\\u0000client"));
    assert_eq!(row.client_version.as_deref(), Some("\\u0000"));
    assert_eq!(row.request_count, 1);
    assert_eq!(requests[0].tool_name.as_deref(), Some("to\\u0000ol"));
    // One SQL text finds them on both backends (a backslash is literal in both).
    let found = db
        .raw("SELECT count(*) AS n FROM mcp_sessions WHERE client_name = 'bad\\u0000client'")
        .await;
    assert_eq!(found[0]["n"], 1);
    let found = db
        .raw("SELECT count(*) AS n FROM mcp_requests WHERE tool_name = 'to\\u0000ol'")
        .await;
    assert_eq!(found[0]["n"], 1);
    // An id with a NUL is no session, not an error; it ends nothing either.
    assert_eq!(store.session("s\0").await.unwrap(), None);
    assert!(!store.session_ended("s\0", EndReason::ClientDelete, at).await.unwrap());
}

#[test]
fn rows_that_do_not_fit_are_corrupt_not_panics() {
    let good = json!({
        "session_id": "s", "client_name": null, "client_version": null, "protocol_version": null,
        "connected_at": "2026-11-25T08:00:00.123456+00:00", "last_activity": "2026-11-25T08:00:00Z",
        "request_count": 2, "status": "active", "disconnected_at": null, "disconnect_reason": null,
        "total_duration_ms": null,
    });
    let Value::Object(good) = good else { unreachable!() };
    assert_eq!(
        session_row(&good).unwrap().connected_at,
        t("2026-11-25T08:00:00.123456Z")
    );
    let broken = [
        ("connected_at", None, "mcp_sessions.connected_at: the column is missing"),
        (
            "connected_at",
            Some(json!("yesterday")),
            "mcp_sessions.connected_at: expected an RFC 3339 time, found \"yesterday\"",
        ),
        (
            "last_activity",
            Some(Value::Null),
            "mcp_sessions.last_activity: expected a value, found null",
        ),
        (
            "request_count",
            Some(json!(1.5)),
            "mcp_sessions.request_count: expected a 64-bit integer, found 1.5",
        ),
        (
            "status",
            Some(json!("gone")),
            "mcp_sessions.status: expected one of active, disconnected, found \"gone\"",
        ),
        (
            "disconnect_reason",
            Some(json!(7)),
            "mcp_sessions.disconnect_reason: expected text, found 7",
        ),
    ];
    for (column, value, message) in broken {
        let mut row = good.clone();
        match value {
            Some(value) => row.insert(column.into(), value),
            None => row.remove(column),
        };
        let error = session_row(&row).unwrap_err();
        assert_eq!(error, StoreError::Corrupt { what: message.into() });
    }
    let long = "x".repeat(200);
    let mut row = good.clone();
    row.insert("connected_at".into(), json!(long));
    let StoreError::Corrupt { what } = session_row(&row).unwrap_err() else {
        unreachable!()
    };
    assert!(what.ends_with("…") && what.len() < 150, "{what}");

    let request = json!({"session_id": "s", "method": "ping", "tool_name": null,
        "at": "2026-11-25T08:00:00Z", "duration_ms": "NaN", "outcome": "ok"});
    let Value::Object(request) = request else {
        unreachable!()
    };
    assert!(request_row(&request).unwrap().duration_ms.is_nan());
}

#[test]
fn words_parse_show_and_serialize_alike() {
    for status in SessionStatus::ALL {
        assert_eq!(status.as_str().parse::<SessionStatus>(), Ok(*status));
        assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
    }
    for reason in EndReason::ALL {
        assert_eq!(reason.to_string().parse::<EndReason>(), Ok(*reason));
        assert_eq!(serde_json::to_value(reason).unwrap(), reason.as_str());
    }
    assert_eq!(serde_json::to_value(Outcome::ToolError).unwrap(), "tool_error");
    assert_eq!(
        serde_json::to_value(EndReason::TimeoutNoActivity).unwrap(),
        "timeout_no_activity"
    );
    assert_eq!(
        "Active".parse::<SessionStatus>().unwrap_err().to_string(),
        "unknown session status `Active`; expected active, disconnected"
    );
    assert_eq!(Backend::Postgres.to_string(), "PostgreSQL");
    assert_eq!(Backend::Sqlite.to_string(), "SQLite");
}

#[test]
fn rows_serialize_with_utc_times() {
    let row = SessionRow {
        session_id: "s".into(),
        client_name: Some("c".into()),
        client_version: None,
        protocol_version: Some("2025-06-18".into()),
        connected_at: t("2026-11-25T08:00:00.123456Z"),
        last_activity: t("2026-11-25T08:00:01Z"),
        request_count: 1,
        status: SessionStatus::Disconnected,
        disconnected_at: Some(t("2026-11-25T08:00:02Z")),
        disconnect_reason: Some(EndReason::ClientDelete),
        total_duration_ms: Some(1876),
    };
    assert_eq!(
        serde_json::to_value(&row).unwrap(),
        json!({
            "session_id": "s", "client_name": "c", "client_version": null, "protocol_version": "2025-06-18",
            "connected_at": "2026-11-25T08:00:00.123456Z", "last_activity": "2026-11-25T08:00:01.000000Z",
            "request_count": 1, "status": "disconnected", "disconnected_at": "2026-11-25T08:00:02.000000Z",
            "disconnect_reason": "client_delete", "total_duration_ms": 1876,
        })
    );
    let request = RequestRow {
        session_id: "s".into(),
        method: "tools/call".into(),
        tool_name: Some("echo".into()),
        at: t("2026-11-25T08:00:00Z"),
        duration_ms: 1.25,
        outcome: Outcome::ToolError,
    };
    assert_eq!(
        serde_json::to_value(&request).unwrap(),
        json!({"session_id": "s", "method": "tools/call", "tool_name": "echo",
               "at": "2026-11-25T08:00:00.000000Z", "duration_ms": 1.25, "outcome": "tool_error"})
    );
}

#[tokio::test]
async fn an_in_memory_sqlite_database_works_too() {
    // Its journal stays `memory`: the WAL switch's answer is not an error.
    let (store, recovered) = Store::open("sqlite://:memory:").await.unwrap();
    assert_eq!((store.backend(), recovered), (Backend::Sqlite, 0));
    start(&store, "m", "2026-11-25T08:00:00Z").await;
    assert_eq!(ids(&store.sessions(None).await.unwrap()), ["m"]);
}

#[tokio::test]
async fn a_bad_url_says_which_operation_failed() {
    let error = Store::open("mysql://root@h/d").await.err().unwrap();
    assert!(
        error
            .to_string()
            .starts_with("lab database: cannot open the database: invalid database URL"),
        "{error}"
    );
}
