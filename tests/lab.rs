//! The lab end to end, in-process: sessions opened with the runner's own MCP client, checked
//! through the lab's HTTP API and its store, on SQLite and on PostgreSQL (a schema per test).
//!
//! Expiry tests use short real timeouts (a second) and poll with generous bounds; they assert
//! what the store recorded (reason, and the gap between last activity and the end), not how
//! long the test took.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use runner::lab::store::{NewSession, Store};
use runner::lab::{Lab, Settings};
use runner::proto::mcp::{McpClient, Settings as McpSettings};
use serde_json::{Value, json};
use support::pg::Schema;

/// Where a test's store lives; dropped with the test.
enum Db {
    Sqlite(tempfile::TempDir),
    Postgres(Schema),
}

impl Db {
    async fn new(postgres: bool) -> Self {
        match postgres {
            true => Db::Postgres(Schema::create().await),
            false => Db::Sqlite(tempfile::tempdir().unwrap()),
        }
    }

    fn url(&self) -> String {
        match self {
            Db::Sqlite(dir) => format!("sqlite://{}", dir.path().join("lab.db").display()),
            Db::Postgres(schema) => schema.url().to_string(),
        }
    }
}

/// The lab's settings for a test: loopback, a free port.
fn settings(db: &Db, timeout: Duration, interval: Duration, max: Option<usize>) -> Settings {
    Settings {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        session_timeout: timeout,
        cleanup_interval: interval,
        database: db.url(),
        max_sessions: max,
        header_read_timeout: runner::lab::HEADER_READ_TIMEOUT,
    }
}

async fn start(db: &Db, timeout: Duration, interval: Duration, max: Option<usize>) -> Lab {
    Lab::start(settings(db, timeout, interval, max))
        .await
        .expect("the lab starts")
}

fn client(lab: &Lab) -> McpClient {
    McpClient::new(McpSettings {
        url: lab.mcp_url(),
        headers: Vec::new(),
        connect_timeout: Duration::from_secs(5),
        timeout: Duration::from_secs(10),
        idle_timeout: Duration::from_secs(10),
        max_answer: runner::plan::MAX_ANSWER,
    })
}

/// Opens a session; its id.
async fn open(client: &mut McpClient) -> String {
    let answer = client
        .initialize("2025-11-25", json!({}), json!({"name": "lab-test", "version": "1.2.3"}))
        .await
        .unwrap();
    assert_eq!(answer.status, 200, "{answer:?}");
    client.session_id().expect("a session id").to_string()
}

async fn call(client: &mut McpClient, tool: &str, arguments: Value) -> u16 {
    let answer = client
        .request("tools/call", Some(json!({"name": tool, "arguments": arguments})))
        .await
        .unwrap();
    answer.status
}

/// `GET {api}{path}`: the status and the JSON body.
async fn api(lab: &Lab, path: &str) -> (u16, Value) {
    let response = reqwest::get(format!("http://{}{path}", lab.addr())).await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn row(lab: &Lab, id: &str) -> Value {
    let (status, body) = api(lab, &format!("/api/mcp/sessions/{id}")).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// Polls the session's row until it is disconnected (at most `within`).
async fn ended(lab: &Lab, id: &str, within: Duration) -> Value {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let row = row(lab, id).await;
        if row["status"] == "disconnected" {
            return row;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "still active after {within:?}: {row}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn millis_between(from: &Value, to: &Value) -> i64 {
    let parse = |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap();
    (parse(to) - parse(from)).num_milliseconds()
}

/// One test body, run on SQLite and on PostgreSQL.
macro_rules! on_both {
    ($body:ident) => {
        mod $body {
            #[tokio::test]
            async fn sqlite() {
                super::$body(false).await;
            }
            #[tokio::test]
            async fn postgres() {
                super::$body(true).await;
            }
        }
    };
}

const LONG: Duration = Duration::from_secs(300);

async fn a_deleted_session_goes_from_active_to_client_delete(postgres: bool) {
    let db = Db::new(postgres).await;
    let lab = start(&db, LONG, Duration::from_secs(60), None).await;
    let mut mcp = client(&lab);
    let id = open(&mut mcp).await;
    assert_eq!(call(&mut mcp, "echo", json!({"text": "hi"})).await, 200);
    assert_eq!(call(&mut mcp, "fail", json!({"message": "no"})).await, 200);
    let active = row(&lab, &id).await;
    assert_eq!(active["status"], "active");
    assert_eq!(active["client_name"], "lab-test");
    assert_eq!(active["client_version"], "1.2.3");
    assert_eq!(active["protocol_version"], "2025-11-25");
    assert_eq!(active["request_count"], 3, "initialize and two calls: {active}");
    let requests: Vec<(Value, Value, Value)> = active["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["method"].clone(), r["tool_name"].clone(), r["outcome"].clone()))
        .collect();
    assert_eq!(
        requests,
        [
            (json!("initialize"), Value::Null, json!("ok")),
            (json!("tools/call"), json!("echo"), json!("ok")),
            (json!("tools/call"), json!("fail"), json!("tool_error")),
        ]
    );
    // 200, as the official Python and TypeScript servers answer (rmcp alone says 202).
    assert_eq!(mcp.close().await.unwrap().status, 200);
    let gone = row(&lab, &id).await;
    assert_eq!(
        gone["status"], "disconnected",
        "written before DELETE was answered: {gone}"
    );
    assert_eq!(gone["disconnect_reason"], "client_delete");
    assert!(gone["total_duration_ms"].as_i64().unwrap() >= 0);
    assert_eq!(call(&mut mcp, "echo", json!({"text": "late"})).await, 404);
    assert_eq!(lab.shutdown().await.unwrap(), 0);
}
on_both!(a_deleted_session_goes_from_active_to_client_delete);

async fn an_idle_session_is_ended_within_timeout_and_interval(postgres: bool) {
    let db = Db::new(postgres).await;
    let (timeout, interval) = (Duration::from_secs(1), Duration::from_millis(200));
    let lab = start(&db, timeout, interval, None).await;
    let mut mcp = client(&lab);
    let id = open(&mut mcp).await;
    let row = ended(&lab, &id, Duration::from_secs(10)).await;
    assert_eq!(row["disconnect_reason"], "timeout_no_activity");
    let idle = millis_between(&row["last_activity"], &row["disconnected_at"]);
    // Found after a whole timeout of silence, and by the sweep after that (plus the time to
    // write it, for which a slow machine gets half a second).
    assert!(idle >= 1000, "ended after {idle} ms of silence");
    assert!(idle <= 1000 + 200 + 500, "ended {idle} ms after its last activity");
    assert_eq!(call(&mut mcp, "echo", json!({"text": "late"})).await, 404);
    lab.shutdown().await.unwrap();
}
on_both!(an_idle_session_is_ended_within_timeout_and_interval);

async fn heartbeats_keep_a_session_past_the_timeout(postgres: bool) {
    let db = Db::new(postgres).await;
    let lab = start(&db, Duration::from_secs(1), Duration::from_millis(100), None).await;
    let mut mcp = client(&lab);
    let id = open(&mut mcp).await;
    // Ten heartbeats 250 ms apart: 2.5 s, well past the 1 s timeout.
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert_eq!(call(&mut mcp, "heartbeat", json!({})).await, 200);
    }
    let row = row(&lab, &id).await;
    assert_eq!(row["status"], "active", "{row}");
    assert_eq!(row["request_count"], 11);
    lab.shutdown().await.unwrap();
}
on_both!(heartbeats_keep_a_session_past_the_timeout);

async fn shutdown_ends_every_active_session(postgres: bool) {
    let db = Db::new(postgres).await;
    let lab = start(&db, LONG, Duration::from_secs(60), None).await;
    let (mut a, mut b) = (client(&lab), client(&lab));
    let (id_a, id_b) = (open(&mut a).await, open(&mut b).await);
    let addr = lab.addr();
    assert_eq!(lab.shutdown().await.unwrap(), 2);
    let store = Store::open(&db.url()).await.unwrap().0;
    for id in [id_a, id_b] {
        let (row, _) = store.session(&id).await.unwrap().unwrap();
        let row = serde_json::to_value(row).unwrap();
        assert_eq!(row["status"], "disconnected");
        assert_eq!(row["disconnect_reason"], "server_shutdown");
    }
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "the lab no longer listens"
    );
}
on_both!(shutdown_ends_every_active_session);

async fn two_hundred_concurrent_sessions_each_get_a_row(postgres: bool) {
    let db = Db::new(postgres).await;
    let lab = std::sync::Arc::new(start(&db, LONG, Duration::from_secs(60), None).await);
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let lab = lab.clone();
            tokio::spawn(async move {
                let mut mcp = client(&lab);
                let id = open(&mut mcp).await;
                assert_eq!(call(&mut mcp, "echo", json!({"text": format!("c{i}")})).await, 200);
                id
            })
        })
        .collect();
    let mut ids = Vec::new();
    for task in tasks {
        ids.push(task.await.unwrap());
    }
    let (status, list) = api(&lab, "/api/mcp/sessions?status=active").await;
    assert_eq!(status, 200);
    let mut listed: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["session_id"].as_str().unwrap())
        .collect();
    listed.sort_unstable();
    ids.sort_unstable();
    assert_eq!(listed, ids.iter().map(String::as_str).collect::<Vec<_>>());
    let (_, health) = api(&lab, "/api/mcp/sessions/health").await;
    assert_eq!(
        health["status_breakdown"],
        json!({"active": 200, "disconnected": 0, "total": 200})
    );
    let lab = std::sync::Arc::into_inner(lab).expect("every task ended");
    assert_eq!(lab.shutdown().await.unwrap(), 200);
}
on_both!(two_hundred_concurrent_sessions_each_get_a_row);

async fn max_sessions_gives_503_until_one_expires(postgres: bool) {
    let db = Db::new(postgres).await;
    let lab = start(&db, Duration::from_secs(1), Duration::from_millis(100), Some(2)).await;
    let (mut a, mut b, mut c) = (client(&lab), client(&lab), client(&lab));
    open(&mut a).await;
    open(&mut b).await;
    let refused = c
        .initialize("2025-11-25", json!({}), json!({"name": "third", "version": "1"}))
        .await
        .unwrap();
    assert_eq!(refused.status, 503, "{refused:?}");
    assert!(c.session_id().is_none());
    // A request that is not `initialize` and has no session id is still the client's mistake.
    let stray = reqwest::Client::new()
        .post(lab.mcp_url())
        .header("accept", "application/json, text/event-stream")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
        .send()
        .await
        .unwrap();
    assert_eq!(stray.status(), 400);
    // Both sessions go idle and expire; then there is room again.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let answer = c
            .initialize("2025-11-25", json!({}), json!({"name": "third", "version": "1"}))
            .await
            .unwrap();
        if answer.status == 200 {
            break;
        }
        assert_eq!(answer.status, 503);
        assert!(
            tokio::time::Instant::now() < deadline,
            "no room after the sessions expired"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    lab.shutdown().await.unwrap();
}
on_both!(max_sessions_gives_503_until_one_expires);

async fn a_restart_ends_sessions_a_crash_left_active(postgres: bool) {
    let db = Db::new(postgres).await;
    let (store, _) = Store::open(&db.url()).await.unwrap();
    let session = NewSession {
        session_id: "left-behind".into(),
        client_name: Some("crashed".into()),
        client_version: None,
        protocol_version: Some("2025-06-18".into()),
        at: chrono::Utc::now(),
    };
    store.session_started(&session).await.unwrap();
    drop(store);
    let lab = start(&db, LONG, Duration::from_secs(60), None).await;
    assert_eq!(lab.recovered(), 1);
    let row = row(&lab, "left-behind").await;
    assert_eq!(row["status"], "disconnected");
    assert_eq!(row["disconnect_reason"], "server_shutdown");
    let (status, _) = api(&lab, "/api/mcp/sessions/never-was").await;
    assert_eq!(status, 404);
    lab.shutdown().await.unwrap();
}
on_both!(a_restart_ends_sessions_a_crash_left_active);

/// A POST to `/mcp` with the headers a client sends, the raw `body`, and `session` if any: the
/// status and the body as text.
async fn post_raw(lab: &Lab, session: Option<reqwest::header::HeaderValue>, body: &str) -> (u16, String) {
    let mut request = reqwest::Client::new()
        .post(lab.mcp_url())
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .header("mcp-protocol-version", "2025-11-25")
        .body(body.to_string());
    if let Some(session) = session {
        request = request.header("mcp-session-id", session);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn every_route_refuses_a_foreign_host_name() {
    let db = Db::new(false).await;
    let lab = start(&db, LONG, Duration::from_secs(60), None).await;
    let mut mcp = client(&lab);
    let id = open(&mut mcp).await;
    let http = reqwest::Client::new();
    let base = format!("http://{}", lab.addr());
    let paths = ["/health", "/api/mcp/sessions", "/api/mcp/sessions/health", "/nowhere"];
    let session_path = format!("/api/mcp/sessions/{id}");
    for path in paths.iter().copied().chain([session_path.as_str(), "/mcp"]) {
        // A page on a name that resolves to 127.0.0.1 (DNS rebinding) sends its own name.
        let foreign = http
            .get(format!("{base}{path}"))
            .header("host", format!("rebind.example:{}", lab.addr().port()))
            .send()
            .await
            .unwrap();
        assert_eq!(foreign.status(), 403, "{path}");
        let body = foreign.text().await.unwrap();
        assert!(!body.contains(&id), "{path}: {body}");
        // The lab's own names still get through.
        for host in ["localhost", "127.0.0.1", "[::1]:1"] {
            let own = http
                .get(format!("{base}{path}"))
                .header("host", host)
                .send()
                .await
                .unwrap();
            assert_ne!(own.status(), 403, "{path} with Host {host}");
        }
    }
    lab.shutdown().await.unwrap();
}

async fn a_nul_in_a_client_or_tool_name_is_stored_escaped(postgres: bool) {
    let db = Db::new(postgres).await;
    let lab = start(&db, LONG, Duration::from_secs(60), None).await;
    let mut mcp = client(&lab);
    let answer = mcp
        .initialize(
            "2025-11-25",
            json!({}),
            json!({"name": "nul\u{0}client", "version": "1"}),
        )
        .await
        .unwrap();
    assert_eq!(answer.status, 200, "{answer:?}");
    let id = mcp.session_id().unwrap().to_string();
    assert_eq!(call(&mut mcp, "no\u{0}tool", json!({})).await, 200);
    let row = row(&lab, &id).await;
    assert_eq!(row["client_name"], "nul\\u0000client", "{row}");
    assert_eq!(row["request_count"], 2, "{row}");
    assert_eq!(row["requests"][1]["tool_name"], "no\\u0000tool", "{row}");
    assert_eq!(row["requests"][1]["outcome"], "error", "{row}");
    let (status, body) = api(&lab, &format!("/api/mcp/sessions/{id}%00")).await;
    assert_eq!(status, 404, "{body}");
    lab.shutdown().await.unwrap();
}
on_both!(a_nul_in_a_client_or_tool_name_is_stored_escaped);

async fn bodies_that_are_no_message_get_400_with_a_json_rpc_error(postgres: bool) {
    let db = Db::new(postgres).await;
    let lab = start(&db, LONG, Duration::from_secs(60), None).await;
    let mut mcp = client(&lab);
    let id = open(&mut mcp).await;
    let ping = r#"{"jsonrpc":"2.0","id":9,"method":"ping"}"#;
    let batch = format!("[{ping}]");
    let live = || Some(reqwest::header::HeaderValue::from_str(&id).unwrap());
    for (session, body, code) in [
        (None, "{\"jsonrpc\": ", -32700),
        (live(), "not json", -32700),
        (None, batch.as_str(), -32600),
        (live(), batch.as_str(), -32600),
        (live(), r#"{"hello": "world"}"#, -32600),
    ] {
        let (status, text) = post_raw(&lab, session.clone(), body).await;
        assert_eq!(status, 400, "{body}: {text}");
        let error: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(error["jsonrpc"], "2.0", "{text}");
        assert_eq!(error["error"]["code"], code, "{body}: {text}");
    }
    // A wrong Content-Type is still rmcp's 415; a good message still passes.
    let text_plain = reqwest::Client::new()
        .post(lab.mcp_url())
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "text/plain")
        .header("mcp-session-id", &id)
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(text_plain.status(), 415);
    assert_eq!(post_raw(&lab, live(), ping).await.0, 200);
    lab.shutdown().await.unwrap();
}
on_both!(bodies_that_are_no_message_get_400_with_a_json_rpc_error);

#[tokio::test]
async fn a_session_id_that_is_not_ascii_is_no_session() {
    let db = Db::new(false).await;
    let lab = start(&db, LONG, Duration::from_secs(60), None).await;
    let ping = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
    let id = reqwest::header::HeaderValue::from_bytes("sess\u{e9}".as_bytes()).unwrap();
    let (status, text) = post_raw(&lab, Some(id.clone()), ping).await;
    assert_eq!(status, 404, "{text}");
    assert!(text.contains("visible ASCII"), "{text}");
    let deleted = reqwest::Client::new()
        .delete(lab.mcp_url())
        .header("mcp-session-id", id)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 404);
    lab.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let db = Db::new(false).await;
    let mut settings = settings(&db, LONG, Duration::from_secs(60), None);
    settings.header_read_timeout = Duration::from_millis(200);
    let lab = Lab::start(settings).await.unwrap();
    let mut silent = tokio::net::TcpStream::connect(lab.addr()).await.unwrap();
    // Half a request head is as silent as none.
    let mut halfway = tokio::net::TcpStream::connect(lab.addr()).await.unwrap();
    halfway
        .write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\n")
        .await
        .unwrap();
    for stream in [&mut silent, &mut halfway] {
        let mut rest = Vec::new();
        let closed = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut rest)).await;
        assert!(closed.is_ok(), "still open after 10 s");
    }
    // A client that speaks is served as before.
    assert_eq!(api(&lab, "/health").await.0, 200);
    lab.shutdown().await.unwrap();
}
