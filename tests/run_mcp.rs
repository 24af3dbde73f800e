//! MCP steps end to end: the real binary against a real MCP server, the lab, built on the
//! official `rmcp` SDK (started by tests/support/mcp.rs).

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use support::mcp::{McpOptions, start_mcp};

/// Writes a scenario whose MCP connection `server` points at `vars.mcp_url`; `vars.api_url` is
/// the lab's HTTP API.
fn scenario(dir: &Path, name: &str, connection: &str, body: &str) -> PathBuf {
    let text = format!(
        "name: {name}\nvars:\n  mcp_url: http://127.0.0.1:1/mcp\n  api_url: http://127.0.0.1:1/api/mcp\nconnections:\n  server: {{ mcp: {{ url: \"{{{{ vars.mcp_url }}}}\"{connection} }} }}\n{body}"
    );
    let path = dir.join(format!("{name}.yaml"));
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs a scenario against a fresh server; returns the exit code, the results folder and the console.
async fn run(
    options: McpOptions,
    name: &str,
    connection: &str,
    body: &str,
) -> (i32, PathBuf, String, tempfile::TempDir) {
    let server = start_mcp(options).await;
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(dir.path(), name, connection, body);
    let out = dir.path().join("out");
    let output = tokio::time::timeout(
        Duration::from_secs(60),
        tokio::process::Command::new(env!("CARGO_BIN_EXE_runner"))
            .arg("run")
            .arg(&file)
            .arg("--set")
            .arg(format!("mcp_url={}", server.url()))
            .arg("--set")
            .arg(format!("api_url={}", server.api_url()))
            .arg("--out")
            .arg(&out)
            .arg("--progress")
            .arg("never")
            .output(),
    )
    .await
    .expect("the run ends")
    .unwrap();
    let console = String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    (output.status.code().unwrap(), out, console, dir)
}

fn json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

#[tokio::test]
async fn handshake_tool_calls_tool_errors_and_unknown_tools() {
    let (code, out, console, _dir) = run(
        McpOptions::default(),
        "calls",
        "",
        r#"clients:
  main:
    steps:
      - initialize: {}
        expect:
          - { path: $.session_id, exists: true }
          - $.result.protocolVersion: "2025-11-25"
      - call: echo
        arguments: { text: "hello {{ client.id }}" }
        expect:
          - $.result.content[0].text: hello 1
          - $.result.isError: false
      - call: fail
        arguments: { message: broken on purpose }
        expect:
          - $.result.isError: true
      - call: no_such_tool
        expect:
          - $.error.code: -32602
      - request: tools/list
        expect:
          - { path: "$.result.tools[*].name", contains: heartbeat }
      - request: ping
"#,
    )
    .await;
    assert_eq!(code, 0, "{console}");
    let client = json(&out.join("client_1_main.json"));
    let session = client["session_id"].as_str().unwrap();
    assert!(!session.is_empty());
    assert_eq!(client["session_ids"], serde_json::json!([session]));
}

#[tokio::test]
async fn a_step_without_expect_fails_on_a_json_rpc_error() {
    let (code, out, _, _dir) = run(
        McpOptions::default(),
        "implicit",
        "",
        "clients:\n  main:\n    steps:\n      - initialize: {}\n      - call: no_such_tool\n",
    )
    .await;
    assert_eq!(code, 1);
    let client = json(&out.join("client_1_main.json"));
    let error = client["error"].as_str().unwrap();
    assert!(error.contains("JSON-RPC error -32602"), "{error}");
}

#[tokio::test]
async fn close_then_the_old_session_gets_404() {
    let (code, out, console, _dir) = run(
        McpOptions::default(),
        "closed",
        "",
        "clients:\n  main:\n    steps:\n      - initialize: {}\n        save: { first: $.session_id }\n      - close: {}\n        expect:\n          - { path: $.status, one_of: [200, 202, 204] }\n      - call: health_check\n        expect:\n          - $.status: 404\n          - $.session: expired\n      - initialize: {}\n      - check: \"{{ session_id != first and session_ids | length == 2 }}\"\n",
    )
    .await;
    assert_eq!(code, 0, "{console}");
    let client = json(&out.join("client_1_main.json"));
    assert_eq!(client["session_ids"].as_array().unwrap().len(), 2);
    // The 404 after `close` is not an expiry: the session had already ended. The second one was
    // still held when the client ended.
    let sessions = &json(&out.join("report.json"))["metrics"]["sessions"];
    assert_eq!(session_counts(sessions), [2, 1, 0, 0, 1, 1], "{sessions}");
    // The timeline: the closed session's lane holds its `close` and the 404 after it, which went
    // out with its id; the second lane was still held at the end.
    let lanes = &json(&out.join("report.json"))["timeline"]["lanes"];
    let ends: Vec<&str> = lanes
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["end"].as_str().unwrap())
        .collect();
    assert_eq!(ends, ["closed", "left_open"], "{lanes}");
    assert_eq!(lane_marks(&lanes[0]), ["call:close", "call:health_check"], "{lanes}");
    assert!(
        lanes[0]["marks"][1]["ms"].as_f64() > lanes[0]["ended_ms"].as_f64(),
        "{lanes}"
    );
    assert_eq!(lanes[0]["session_id"], client["session_ids"][0]);
}

/// A lane's marks as `kind:step`, with `!` when the step failed.
fn lane_marks(lane: &Value) -> Vec<String> {
    (lane["marks"].as_array().unwrap().iter())
        .map(|m| {
            let failed = if m["failed"] == true { "!" } else { "" };
            format!(
                "{}:{}{failed}",
                m["kind"].as_str().unwrap(),
                m["step"].as_str().unwrap()
            )
        })
        .collect()
}

#[tokio::test]
async fn the_timeline_marks_calls_failed_steps_probes_and_the_sql_checks_that_name_a_session() {
    // The body goes on the scenario's `connections:` with a database of its own.
    let body = r#"  db: { sql: { url: "sqlite://:memory:" } }
clients:
  main:
    steps:
      - initialize: {}
        save: { first: $.session_id }
      - name: wrong text
        call: echo
        arguments: { text: hi }
        expect:
          - $.result.content[0].text: bye
        continue_on_failure: true
      - name: row of the session
        sql: SELECT ?1 AS session, 1 AS n
        params: ["{{ session_id }}"]
      - initialize: {}
      - name: probe the first
        call: health_check
        session_id: "{{ first }}"
      - name: rows of every session
        sql: SELECT ?1 AS a UNION ALL SELECT ?2
        params: ["{{ first }}", "{{ session_id }}"]
"#;
    let (code, out, console, _dir) = run(McpOptions::default(), "marks", "", body).await;
    assert_eq!(code, 1, "{console}");
    let report = json(&out.join("report.json"));
    let timeline = &report["timeline"];
    assert_eq!(
        (timeline["sessions"].as_u64(), timeline["every"].as_u64()),
        (Some(2), Some(1))
    );
    let lanes = &timeline["lanes"];
    assert_eq!(
        lane_marks(&lanes[0]),
        [
            "call:wrong text!",
            "check:row of the session",
            "call:probe the first",
            "check:rows of every session"
        ],
        "{lanes}"
    );
    assert_eq!(lane_marks(&lanes[1]), ["check:rows of every session"], "{lanes}");
    // The second `initialize` let the first session go without a word to the server.
    assert_eq!(lanes[0]["end"], "left_open");
    assert_eq!(lanes[0]["client"], "main#1");
}

/// A report's `metrics.sessions`: opened, closed, expired, reinitialized, left open, peak active.
fn session_counts(sessions: &Value) -> [u64; 6] {
    [
        "opened",
        "closed",
        "expired",
        "reinitialized",
        "left_open",
        "peak_active",
    ]
    .map(|name| {
        sessions[name]
            .as_u64()
            .unwrap_or_else(|| panic!("{name} in {sessions}"))
    })
}

/// Steps that wait, by polling the lab's API with a bound, until the lab has expired the session
/// saved as `first`: the reaper ends it between `session_idle` and `session_idle` plus one sweep
/// (a tenth of it) after its last activity.
const UNTIL_EXPIRED: &str = r#"      - name: the lab expires the session
        http: { url: "{{ vars.api_url }}/sessions/{{ first }}" }
        retry: { within: 10s, every: 50ms }
        expect:
          - $.body.disconnect_reason: timeout_no_activity
"#;

/// Sessions idle for 300 ms expire.
const SHORT_IDLE: McpOptions = McpOptions {
    session_idle: Some(Duration::from_millis(300)),
};

#[tokio::test]
async fn an_idle_session_expires_and_reinitialize_recovers() {
    let body = format!(
        "clients:\n  main:\n    steps:\n      - initialize: {{}}\n        save: {{ first: $.session_id }}\n{UNTIL_EXPIRED}      - call: health_check\n        expect:\n          - $.status: 200\n          - $.reinitialized: true\n      - check: \"{{{{ session_id != first }}}}\"\n"
    );
    let (code, out, console, _dir) = run(SHORT_IDLE, "recovers", ", on_expired: reinitialize", &body).await;
    assert_eq!(code, 0, "{console}");
    let client = json(&out.join("client_1_main.json"));
    assert_eq!(client["reinitialized"], 1);
    assert_eq!(client["session_ids"].as_array().unwrap().len(), 2);
    let sessions = &json(&out.join("report.json"))["metrics"]["sessions"];
    assert_eq!(session_counts(sessions), [2, 0, 1, 1, 1, 1], "{sessions}");
    // The lab expires a session 300 ms after its last activity, the `initialize`.
    let idle = sessions["idle_to_expiry"]["p50_ms"].as_f64().unwrap();
    assert!(idle >= 300.0, "{sessions}");
}

#[tokio::test]
async fn an_idle_session_expires_and_fails_by_default() {
    let body = format!(
        "clients:\n  main:\n    steps:\n      - initialize: {{}}\n        save: {{ first: $.session_id }}\n{UNTIL_EXPIRED}      - call: health_check\n"
    );
    let (code, out, console, _dir) = run(SHORT_IDLE, "expires", "", &body).await;
    assert_eq!(code, 1, "{console}");
    let error = json(&out.join("client_1_main.json"))["error"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(error.contains("session_expired: the server answered 404"), "{error}");
    let sessions = &json(&out.join("report.json"))["metrics"]["sessions"];
    assert_eq!(session_counts(sessions), [1, 0, 1, 0, 0, 1], "{sessions}");
}

#[tokio::test]
async fn many_clients_each_get_their_own_answers() {
    let (code, out, console, _dir) = run(
        McpOptions::default(),
        "concurrent",
        "",
        r#"clients:
  echo:
    count: 50
    steps:
      - initialize: {}
      - repeat: { times: 20 }
        steps:
          - call: echo
            arguments: { text: "client {{ client.id }} call {{ iteration }}" }
            expect:
              - $.result.content[0].text: "client {{ client.id }} call {{ iteration }}"
after:
  - check: "{{ clients | map(attribute='session_id') | unique | list | length == 50 }}"
"#,
    )
    .await;
    assert_eq!(code, 0, "{console}");
    let report = json(&out.join("report.json"));
    assert_eq!(report["summary"]["passed"], 50);
}

#[tokio::test]
async fn a_chosen_session_id_goes_out_instead_of_the_connections_and_leaves_it_alone() {
    let (code, out, console, _dir) = run(
        McpOptions::default(),
        "chosen",
        ", on_expired: reinitialize",
        r#"clients:
  main:
    steps:
      - initialize: {}
        save: { own: $.session_id }
      - request: ping
        session_id: "never-issued-{{ client.id }}"
        expect:
          - $.session_id: never-issued-1
          - $.status: 404
          - $.session: expired
          - { path: $.reinitialized, absent: true }
      - call: echo
        arguments: { text: x }
        session_id: never-issued
        expect:
          - $.status: 404
      - notify: notifications/roots/list_changed
        session_id: never-issued
        expect:
          - $.status: 404
      - request: ping
        expect:
          - { path: $.status, gte: 200, lt: 300 }
          - $.session_id: "{{ own }}"
      - check: "{{ session_id == own and session_ids | length == 1 }}"
"#,
    )
    .await;
    assert_eq!(code, 0, "{console}");
    let client = json(&out.join("client_1_main.json"));
    assert_eq!(client["reinitialized"], 0, "{client}");
}
