//! What a run keeps of its requests, through the real binary: every MCP request in
//! `transcript.jsonl`, answered or not, with its method, URL, masked headers and body; answers
//! capped by the connection's `max_answer`; bodies stored once and cut past the body limit.

mod support;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::Value;
use support::binary::{console, runner};
use support::mcp::{McpOptions, start_mcp};

/// A server that misbehaves on purpose: it stalls, cuts its SSE stream, streams forever, and
/// sends a 1 MB body.
async fn start_mock() -> SocketAddr {
    let app = Router::new()
        .route(
            "/stall",
            post(|| async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                "too late"
            }),
        )
        .route(
            "/cut",
            post(|| async { sse(futures_util::stream::iter([chunk(b": hello\n\n")])) }),
        )
        .route("/endless", post(|| async { sse(endless(b"data: ")) }))
        .route(
            "/endless",
            get(|| async { Response::new(Body::from_stream(endless(b"["))) }),
        )
        .route(
            "/big",
            get(|| async { axum::Json(serde_json::json!({ "text": "y".repeat(1_000_000) })) }),
        )
        .route(
            "/big-once",
            get(|| async { axum::Json(serde_json::json!({ "text": "z".repeat(20_000) })) }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

fn chunk(bytes: &'static [u8]) -> Result<Bytes, std::io::Error> {
    Ok(Bytes::from_static(bytes))
}

/// `start`, then `x` without end and without a newline.
fn endless(start: &'static [u8]) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> {
    let xs = futures_util::stream::repeat_with(|| Ok(Bytes::from(vec![b'x'; 8192])));
    futures_util::StreamExt::chain(futures_util::stream::iter([chunk(start)]), xs)
}

fn sse(body: impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static) -> Response {
    Response::builder()
        .header("content-type", "text/event-stream")
        .body(Body::from_stream(body))
        .unwrap()
}

/// A loopback port that nobody listens on.
fn closed_port() -> u16 {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    probe.local_addr().unwrap().port()
}

/// Runs `scenario` (written to a file) with `ARGS…`; the exit code, the results folder, the
/// console.
async fn run(scenario: &str, args: &[&str]) -> (Option<i32>, PathBuf, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("t.yaml");
    std::fs::write(&file, scenario).unwrap();
    let out = dir.path().join("out");
    let mut all = vec![
        "run",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--progress",
        "never",
    ];
    all.extend_from_slice(args);
    let output = runner(&all, dir.path(), Duration::from_secs(60)).await;
    (output.status.code(), out, console(&output), dir)
}

fn lines(out: &Path) -> Vec<Value> {
    std::fs::read_to_string(out.join("transcript.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[tokio::test]
async fn every_mcp_request_has_a_line_with_method_url_headers_and_body() {
    let server = start_mcp(McpOptions::default()).await;
    let scenario = format!(
        r#"name: lines
connections:
  server: {{ mcp: {{ url: "{}", headers: {{ X-Tenant: tenant-secret }} }} }}
clients:
  main:
    steps:
      - initialize: {{}}
      - call: echo
        arguments: {{ text: hello }}
      - close: {{}}
"#,
        server.url()
    );
    let (code, out, console, _dir) = run(&scenario, &[]).await;
    assert_eq!(code, Some(0), "{console}");
    let lines = lines(&out);
    let shape: Vec<(&str, &str)> = lines
        .iter()
        .map(|l| {
            let method = l["request"]["method"].as_str().unwrap();
            (method, l["request"]["body"]["method"].as_str().unwrap_or("-"))
        })
        .collect();
    assert_eq!(
        shape,
        [
            ("POST", "initialize"),
            ("POST", "notifications/initialized"),
            ("POST", "tools/call"),
            ("DELETE", "-"),
        ],
        "{lines:#?}"
    );
    let statuses: Vec<u64> = lines
        .iter()
        .map(|l| l["response"]["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses[..3], [200, 202, 200]);
    assert!(matches!(statuses[3], 200 | 202), "{statuses:?}");
    let session = lines[0]["response"]["headers"]["mcp-session-id"].as_str().unwrap();
    for line in &lines {
        assert_eq!(line["request"]["url"], server.url().as_str());
        assert_eq!(line["request"]["headers"]["x-tenant"], "***", "{line}");
    }
    assert_eq!(lines[0]["request"]["headers"]["content-type"], "application/json");
    assert_eq!(lines[1]["request"]["headers"]["mcp-session-id"], session);
    assert_eq!(lines[3]["request"]["headers"]["mcp-session-id"], session);
    assert_eq!(
        lines[1]["step"], "initialize",
        "the automatic notification belongs to its step"
    );
    let text = std::fs::read_to_string(out.join("transcript.jsonl")).unwrap();
    assert!(!text.contains("tenant-secret"), "{text}");
}

#[tokio::test]
async fn a_reinitialized_step_shows_every_answer_whole() {
    // The 404, the new handshake and the resent call: the last is the step's result document,
    // the others the client gave back; each line has its headers and body all the same.
    let server = start_mcp(McpOptions {
        session_idle: Some(Duration::from_millis(300)),
    })
    .await;
    let scenario = format!(
        r#"name: reinit
connections:
  server: {{ mcp: {{ url: "{}", on_expired: reinitialize }} }}
clients:
  main:
    steps:
      - initialize: {{}}
        save: {{ first: $.session_id }}
      - name: the lab expires the session
        http: {{ url: "{}/sessions/{{{{ first }}}}" }}
        retry: {{ within: 10s, every: 50ms }}
        expect:
          - $.body.disconnect_reason: timeout_no_activity
      - call: echo
        arguments: {{ text: again }}
        expect:
          - $.reinitialized: true
"#,
        server.url(),
        server.api_url()
    );
    let (code, out, console, _dir) = run(&scenario, &["--transcript", "all"]).await;
    assert_eq!(code, Some(0), "{console}");
    let call: Vec<Value> = lines(&out).into_iter().filter(|l| l["step"] == "echo").collect();
    let shape: Vec<(u64, &str)> = (call.iter())
        .map(|l| {
            let method = l["request"]["body"]["method"].as_str().unwrap_or("-");
            (l["response"]["status"].as_u64().unwrap(), method)
        })
        .collect();
    assert_eq!(
        shape,
        [
            (404, "tools/call"),
            (200, "initialize"),
            (202, "notifications/initialized"),
            (200, "tools/call")
        ],
        "{call:#?}"
    );
    for line in &call {
        assert!(line["response"]["headers"].is_object(), "{line}");
        assert!(line["response"].get("body").is_some(), "{line}");
    }
    assert!(
        call[1]["response"]["body"]["result"]["serverInfo"].is_object(),
        "{:#}",
        call[1]
    );
    assert_ne!(
        call[0]["response"]["body"], call[3]["response"]["body"],
        "the 404's own body"
    );
    assert_eq!(call[3]["response"]["body"]["result"]["content"][0]["text"], "again");
    let first_init = &lines(&out)[0];
    assert_eq!(first_init["step"], "initialize");
    assert!(
        first_init["response"]["body"]["result"]["serverInfo"].is_object(),
        "{first_init:#}"
    );
}

#[tokio::test]
async fn mcp_requests_without_an_answer_are_in_the_transcript_with_their_error() {
    let mock = start_mock().await;
    let scenario = format!(
        r#"name: unanswered
connections:
  refused: {{ mcp: {{ url: "http://127.0.0.1:{port}/mcp" }} }}
  slow: {{ mcp: {{ url: "http://{mock}/stall", timeout: 300ms }} }}
  stalled: {{ mcp: {{ url: "http://{mock}/stall" }} }}
  cut: {{ mcp: {{ url: "http://{mock}/cut" }} }}
clients:
  refused:
    steps: [ {{ initialize: {{}}, connection: refused }} ]
  slow:
    steps: [ {{ initialize: {{}}, connection: slow }} ]
  stalled:
    steps: [ {{ initialize: {{}}, connection: stalled, timeout: 300ms }} ]
  cut:
    steps: [ {{ initialize: {{}}, connection: cut }} ]
"#,
        port = closed_port()
    );
    let (code, out, console, _dir) = run(&scenario, &[]).await;
    assert_eq!(code, Some(1), "{console}");
    let lines = lines(&out);
    let errors: Vec<(&str, &str)> = lines
        .iter()
        .map(|l| {
            assert_eq!(l["request"]["method"], "POST", "{l}");
            assert_eq!(l["request"]["body"]["method"], "initialize", "{l}");
            let error = l["response"]["error"]
                .as_str()
                .unwrap_or_else(|| panic!("no error: {l}"));
            (l["group"].as_str().unwrap(), error)
        })
        .collect();
    assert_eq!(errors.len(), 4, "{errors:?}");
    let error = |group: &str| errors.iter().find(|(g, _)| *g == group).map_or("", |(_, e)| *e);
    assert!(
        error("refused").starts_with("cannot connect to http://127.0.0.1:"),
        "{errors:?}"
    );
    assert_eq!(error("slow"), "no complete answer within 300ms", "{errors:?}");
    assert_eq!(error("stalled"), "timed out after 300ms", "{errors:?}");
    assert_eq!(error("cut"), "stream closed before response", "{errors:?}");
}

#[tokio::test]
async fn an_answer_larger_than_max_answer_fails_its_step() {
    let mock = start_mock().await;
    let scenario = format!(
        r#"name: capped
connections:
  endless: {{ mcp: {{ url: "http://{mock}/endless", max_answer: 64KiB }} }}
  api: {{ http: {{ base_url: "http://{mock}", max_answer: 64KiB }} }}
clients:
  mcp:
    steps:
      - initialize: {{}}
  http:
    steps:
      - http: {{ path: /endless }}
  big:
    steps:
      - http: {{ path: /big }}
"#
    );
    let (code, out, console, _dir) = run(&scenario, &[]).await;
    assert_eq!(code, Some(1), "{console}");
    let error = |file: &str| {
        json(&out.join(file))["steps"][0]["error"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    let mcp = error("client_1_mcp.json");
    assert!(mcp.ends_with("answer larger than 64.0 KiB (`max_answer`)"), "{mcp}");
    let http = error("client_1_http.json");
    assert!(http.ends_with("is larger than 64.0 KiB (`max_answer`)"), "{http}");
    // A body whose length is announced is refused before it is read.
    let big = error("client_1_big.json");
    assert!(big.ends_with("is larger than 64.0 KiB (`max_answer`)"), "{big}");
}

#[tokio::test]
async fn the_transcript_stores_a_body_once_and_cuts_it_past_the_limit() {
    let mock = start_mock().await;
    let server = start_mcp(McpOptions::default()).await;
    let scenario = format!(
        r#"name: cut
vars:
  text: "{text}"
connections:
  server: {{ mcp: {{ url: "{mcp}" }} }}
  api: {{ http: {{ base_url: "http://{mock}" }} }}
clients:
  main:
    steps:
      - initialize: {{}}
      - name: echo
        call: echo
        arguments: {{ text: "{{{{ vars.text }}}}" }}
      - name: big
        http: {{ path: /big }}
        expect:
          - $.status: 200
"#,
        text = "w".repeat(20_000),
        mcp = server.url()
    );
    let (code, out, console, _dir) = run(&scenario, &[]).await;
    assert_eq!(code, Some(0), "{console}");
    let text = std::fs::read_to_string(out.join("transcript.jsonl")).unwrap();
    let echo = text.lines().find(|l| l.contains("\"step\":\"echo\"")).unwrap();
    // The request carries the text once, the answer once: not once more as `result`.
    assert_eq!(echo.matches(&"w".repeat(20_000)).count(), 2, "{}", &echo[..500]);
    let big = lines(&out).into_iter().find(|l| l["step"] == "big").unwrap();
    let body = big["response"]["body"].as_str().unwrap();
    assert_eq!(body.len(), 64 * 1024);
    assert!(body.starts_with("{\"text\":\"yyy"), "{}", &body[..40]);
    assert_eq!(big["response"]["body_bytes"], 1_000_011);
    let line = text.lines().find(|l| l.contains("\"step\":\"big\"")).unwrap();
    assert!(line.len() < 70 * 1024, "{}", line.len());

    let (code, out, console, _dir) = run(&scenario, &["--transcript-body-limit", "1KiB"]).await;
    assert_eq!(code, Some(0), "{console}");
    let lines = lines(&out);
    let echo = lines.iter().find(|l| l["step"] == "echo").unwrap();
    assert_eq!(echo["request"]["body"].as_str().unwrap().len(), 1024, "{echo}");
    assert!(echo["request"]["body_bytes"].as_u64().unwrap() > 20_000);
    let big = lines.iter().find(|l| l["step"] == "big").unwrap();
    assert_eq!(big["response"]["body"].as_str().unwrap().len(), 1024);
}

#[tokio::test]
async fn by_default_the_transcript_keeps_each_clients_first_ten_exchanges_and_every_failed_step() {
    let server = start_mcp(McpOptions::default()).await;
    let scenario = format!(
        r#"name: kept
connections:
  server: {{ mcp: {{ url: "{}" }} }}
clients:
  main:
    steps:
      - initialize: {{}}
      - repeat: {{ times: 12 }}
        steps:
          - name: loop
            call: echo
            arguments: {{ text: "{{{{ iteration }}}}" }}
      - name: fails
        call: echo
        arguments: {{ text: wrong }}
        expect:
          - $.result.content[0].text: right
        retry: {{ within: 250ms, every: 100ms }}
        continue_on_failure: true
      - name: after
        call: echo
        arguments: {{ text: after }}
"#,
        server.url()
    );
    let steps = |out: &Path| -> Vec<String> {
        lines(out)
            .iter()
            .map(|l| l["step"].as_str().unwrap().to_string())
            .collect()
    };
    let (code, out, console, _dir) = run(&scenario, &[]).await;
    assert_eq!(code, Some(1), "{console}");
    let attempts = json(&out.join("client_1_main.json"))["steps"][2]["attempts"]
        .as_u64()
        .unwrap() as usize;
    assert!(attempts >= 2, "{attempts}");
    let mut expected = vec!["initialize".to_string(); 2];
    expected.extend(std::iter::repeat_n("loop".to_string(), 8));
    expected.extend(std::iter::repeat_n("fails".to_string(), attempts));
    assert_eq!(steps(&out), expected);
    let failed = lines(&out).pop().unwrap();
    assert_eq!(
        failed["request"]["body"]["params"]["arguments"]["text"], "wrong",
        "{failed}"
    );

    let (code, out, console, _dir) = run(&scenario, &["--transcript", "all"]).await;
    assert_eq!(code, Some(1), "{console}");
    let attempts = json(&out.join("client_1_main.json"))["steps"][2]["attempts"]
        .as_u64()
        .unwrap() as usize;
    assert_eq!(steps(&out).len(), 2 + 12 + attempts + 1);

    let (code, out, console, _dir) = run(&scenario, &["--transcript", "off"]).await;
    assert_eq!(code, Some(1), "{console}");
    assert_eq!(std::fs::read_to_string(out.join("transcript.jsonl")).unwrap(), "");
}
