//! SIGTERM and SIGHUP stop `runner run` as the first Ctrl-C does: the clients stop, the running
//! PostgreSQL queries are cancelled on the server, every result is written, the lab's sessions
//! end as `server_shutdown`, and the exit code is the signal's (143, 129).

#![cfg(unix)]

mod support;

use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use support::binary::console;

/// Two clients in a long query, one in a long wait, each on its own lab session.
const SCENARIO: &str = r#"
name: stopped
vars:
  mcp_url: http://127.0.0.1:1/mcp
  pg_url: postgres://postgres@127.0.0.1:5432/test
connections:
  server: { mcp: { url: "{{ vars.mcp_url }}" } }
  pg: { sql: { url: "{{ vars.pg_url }}", timeout: 10m } }
clients:
  sleepers:
    count: 2
    steps:
      - initialize: {}
      - barrier: connected
      - call: echo
        arguments: { text: hello }
        expect:
          - $.result.content[0].text: hello
      - name: long query
        sql: SELECT pg_sleep(600)
  waiter:
    steps:
      - initialize: {}
      - barrier: connected
      - wait: 10m
"#;

/// Runs the scenario with `--lab`, sends `signal` once both queries run, and checks everything
/// that must survive it.
async fn stopped_by(signal: &str, code: i32) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("stopped.yaml");
    std::fs::write(&file, SCENARIO).unwrap();
    let marker = format!("runner-signal-{}", uuid::Uuid::new_v4().simple());
    // The clients' queries are told apart from other tests' by their application name.
    let pg_url = support::pg::with_param(&support::pg::database_url(), "application_name", &marker);
    let pg_url = format!("pg_url={pg_url}");
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_runner"))
        .current_dir(dir.path())
        .args(["run", file.to_str().unwrap(), "--lab"])
        .args(["--out", "out", "--progress", "never", "--set", &pg_url])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pg = support::pg::connect(&support::pg::database_url()).await;
    // Both queries run only after every client has its session and passed the barrier.
    within(Duration::from_secs(60), "both queries to run", || async {
        running(&pg, &marker).await == 2
    })
    .await;

    let pid = child.id().unwrap().to_string();
    let sent = std::process::Command::new("kill")
        .args([&format!("-{signal}"), &pid])
        .status()
        .unwrap();
    assert!(sent.success());
    let output = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("the run ends soon after the signal")
        .unwrap();
    let text = console(&output);
    assert_eq!(output.status.code(), Some(code), "{text}");
    assert!(text.contains(&format!("{signal}: stopping the clients")), "{text}");

    // The server was asked to cancel the queries: they stop long before their 600 s.
    within(Duration::from_secs(10), "the queries to be cancelled", || async {
        running(&pg, &marker).await == 0
    })
    .await;

    let out = dir.path().join("out");
    let report = json(&out.join("report.json"));
    assert_eq!(report["status"], "interrupted", "{report}");
    for client in ["client_1_sleepers", "client_2_sleepers", "client_1_waiter"] {
        let result = json(&out.join(format!("{client}.json")));
        assert_eq!(result["status"], "interrupted", "{client}: {result}");
    }
    let transcript = std::fs::read_to_string(out.join("transcript.jsonl")).unwrap();
    let steps: Vec<Value> = transcript.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let calls = steps
        .iter()
        .filter(|l| l["request"]["body"]["method"] == "tools/call")
        .count();
    assert_eq!(calls, 2, "{transcript}");

    let db = rusqlite::Connection::open(out.join("lab.db")).unwrap();
    let mut rows = db
        .prepare("SELECT status, disconnect_reason FROM mcp_sessions")
        .unwrap();
    let sessions: Vec<(String, Option<String>)> = rows
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(sessions.len(), 3, "{sessions:?}");
    for (status, reason) in &sessions {
        assert_eq!(
            (status.as_str(), reason.as_deref()),
            ("disconnected", Some("server_shutdown"))
        );
    }
}

/// How many statements the connections named `marker` are running.
async fn running(pg: &tokio_postgres::Client, marker: &str) -> i64 {
    let sql = "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND application_name = $1";
    pg.query_one(sql, &[&marker]).await.unwrap().get(0)
}

/// Polls `done` every 50 ms until it holds; fails the test after `limit`.
async fn within<F, Fut>(limit: Duration, what: &str, done: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    while !done().await {
        assert!(tokio::time::Instant::now() < deadline, "waited {limit:?} for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

#[tokio::test]
async fn sigterm_writes_every_result_and_exits_143() {
    stopped_by("TERM", 143).await;
}

#[tokio::test]
async fn sighup_writes_every_result_and_exits_129() {
    stopped_by("HUP", 129).await;
}
