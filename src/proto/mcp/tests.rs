//! The client against axum mock servers on 127.0.0.1.

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use futures_util::{StreamExt, stream};
use serde_json::{Value, json};
use tokio::sync::Notify;

use super::{Failure, McpClient, Settings};
use crate::proto::http::Unsent;

/// One request as the mock received it.
#[derive(Debug, Clone)]
struct Received {
    method: String,
    headers: HeaderMap,
    body: Value,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn rpc_method(&self) -> &str {
        self.body["method"].as_str().unwrap_or("")
    }
}

struct Mock {
    url: String,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Mock {
    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

/// A server that records every request and answers with `answer`.
async fn mock(answer: impl Fn(&Received) -> Response + Send + Sync + 'static) -> Mock {
    let received = Arc::new(Mutex::new(Vec::new()));
    let answer = Arc::new(answer);
    let log = received.clone();
    let app = Router::new().fallback(move |request: Request| {
        let log = log.clone();
        let answer = answer.clone();
        async move {
            let (parts, body) = request.into_parts();
            let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
            let received = Received {
                method: parts.method.to_string(),
                headers: parts.headers,
                body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            };
            log.lock().unwrap().push(received.clone());
            answer(&received)
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Mock {
        url: format!("http://{addr}/mcp"),
        received,
    }
}

fn settings(url: &str) -> Settings {
    Settings {
        url: url.to_string(),
        headers: Vec::new(),
        connect_timeout: Duration::from_secs(1),
        timeout: Duration::from_millis(1500),
        idle_timeout: Duration::from_millis(500),
        max_answer: 1024 * 1024,
    }
}

fn client(url: &str) -> McpClient {
    with(settings(url))
}

fn with(settings: Settings) -> McpClient {
    McpClient::new(settings)
}

fn json_response(status: u16, body: &Value) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

fn text_response(status: u16, text: &str) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "text/plain")
        .body(Body::from(text.to_string()))
        .unwrap()
}

fn accepted() -> Response {
    Response::builder()
        .status(StatusCode::ACCEPTED)
        .body(Body::empty())
        .unwrap()
}

fn sse_body(body: Body) -> Response {
    Response::builder()
        .status(200)
        .header("content-type", "text/event-stream")
        .header("cache-control", "no-cache")
        .body(body)
        .unwrap()
}

/// An SSE answer made of `chunks`, sent as they are.
fn sse(chunks: Vec<String>) -> Response {
    let chunks = chunks.into_iter().map(|c| Ok::<_, Infallible>(Bytes::from(c)));
    sse_body(Body::from_stream(stream::iter(chunks)))
}

fn data(message: &Value) -> String {
    format!("data: {message}\n\n")
}

fn result_for(request: &Received, result: Value) -> Value {
    json!({ "jsonrpc": "2.0", "id": request.body["id"], "result": result })
}

/// A mock MCP server: `initialize` gets `mcp-session-id: abc` and `version`, notifications 202,
/// everything else `rest`.
async fn mcp_server(version: &'static str, rest: impl Fn(&Received) -> Response + Send + Sync + 'static) -> Mock {
    mock(move |r| match (r.method.as_str(), r.rpc_method()) {
        ("POST", "initialize") => {
            let result = json!({
                "protocolVersion": version,
                "capabilities": { "tools": {} },
                "serverInfo": { "name": "mock", "version": "1.0" },
            });
            let mut response = json_response(200, &result_for(r, result));
            response.headers_mut().insert("mcp-session-id", "abc".parse().unwrap());
            response
        }
        ("POST", "notifications/initialized") => accepted(),
        _ => rest(r),
    })
    .await
}

async fn initialized(mock: &Mock) -> McpClient {
    let mut client = client(&mock.url);
    let answer = client
        .initialize("2025-11-25", json!({}), json!({ "name": "runner", "version": "0" }))
        .await
        .unwrap();
    assert_eq!(answer.status, 200);
    client
}

#[tokio::test]
async fn a_json_answer() {
    let mock = mock(|r| json_response(200, &result_for(r, json!({ "tools": [] })))).await;
    let mut client = client(&mock.url);
    let answer = client.request("tools/list", Some(json!({}))).await.unwrap();
    assert_eq!(answer.status, 200);
    assert_eq!(answer.result, Some(json!({ "tools": [] })));
    assert_eq!(answer.error, None);
    assert_eq!(answer.body["id"], 1);
    assert!(answer.events.is_empty());
    assert_eq!(answer.sent_session, None);
    assert_eq!(answer.headers["content-type"], "application/json");
    assert!(answer.ttfb_ms <= answer.elapsed_ms);
    let received = mock.received();
    assert_eq!(
        received[0].body,
        json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {} })
    );
    assert_eq!(received[0].header("content-type"), Some("application/json"));
    assert_eq!(
        received[0].header("accept"),
        Some("application/json, text/event-stream")
    );
    assert_eq!(received[0].header("mcp-session-id"), None);
    // Ids are fresh per request.
    client.request("ping", None).await.unwrap();
    assert_eq!(
        mock.received()[1].body,
        json!({ "jsonrpc": "2.0", "id": 2, "method": "ping" })
    );
}

#[tokio::test]
async fn an_sse_answer_skips_priming_and_comments_and_keeps_events() {
    let progress = json!({ "jsonrpc": "2.0", "method": "notifications/progress", "params": { "progress": 1 } });
    let note = progress.clone();
    let mock = mock(move |r| {
        sse(vec![
            "id: 0\nretry: 3000\ndata:\n\n".into(),
            ": keep-alive\n\n".into(),
            data(&note),
            format!("event: message\nid: 2\n{}", data(&result_for(r, json!({ "ok": true })))),
            data(&json!({ "jsonrpc": "2.0", "method": "notifications/after" })),
        ])
    })
    .await;
    let answer = client(&mock.url).request("tools/call", None).await.unwrap();
    assert_eq!(answer.result, Some(json!({ "ok": true })));
    assert_eq!(
        answer.body,
        json!({ "jsonrpc": "2.0", "id": 1, "result": { "ok": true } })
    );
    assert_eq!(answer.events, vec![progress]);
    assert_eq!(answer.headers["content-type"], "text/event-stream");
}

#[tokio::test]
async fn an_sse_answer_split_into_one_byte_chunks() {
    let mock = mock(|r| {
        let text = format!(
            ": hello\r\n\r\nid: 0\r\ndata:\r\n\r\n{}{}",
            data(&json!({ "jsonrpc": "2.0", "method": "notifications/message", "params": { "data": "ü" } })),
            data(&result_for(r, json!({ "text": "héllo" }))),
        );
        let bytes: Vec<Result<Bytes, Infallible>> = text
            .into_bytes()
            .into_iter()
            .map(|b| Ok(Bytes::from(vec![b])))
            .collect();
        sse_body(Body::from_stream(stream::iter(bytes)))
    })
    .await;
    let answer = client(&mock.url).request("tools/call", None).await.unwrap();
    assert_eq!(answer.result, Some(json!({ "text": "héllo" })));
    assert_eq!(answer.events.len(), 1);
    assert_eq!(answer.events[0]["params"]["data"], "ü");
}

#[tokio::test]
async fn a_wrong_id_is_a_failure() {
    let mock = mock(|_| json_response(200, &json!({ "jsonrpc": "2.0", "id": 99, "result": {} }))).await;
    let failure = client(&mock.url).request("tools/list", None).await.unwrap_err();
    assert_eq!(
        failure,
        Failure::WrongId {
            expected: json!(1).into(),
            got: json!(99).into()
        }
    );
}

#[tokio::test]
async fn a_wrong_id_on_a_stream_is_a_failure() {
    let mock = mock(|_| sse(vec![data(&json!({ "jsonrpc": "2.0", "id": "x", "result": {} }))])).await;
    let failure = client(&mock.url).request("tools/list", None).await.unwrap_err();
    assert_eq!(
        failure,
        Failure::WrongId {
            expected: json!(1).into(),
            got: json!("x").into()
        }
    );
}

#[tokio::test]
async fn both_or_neither_result_and_error_is_not_json_rpc() {
    let mock = mock(|r| {
        if r.body["id"] == 1 {
            json_response(
                200,
                &json!({ "jsonrpc": "2.0", "id": 1, "result": {}, "error": { "code": 1 } }),
            )
        } else {
            json_response(200, &json!({ "jsonrpc": "2.0", "id": 2 }))
        }
    })
    .await;
    let mut client = client(&mock.url);
    assert!(matches!(client.request("a", None).await, Err(Failure::NotJsonRpc(_))));
    assert!(matches!(client.request("b", None).await, Err(Failure::NotJsonRpc(_))));
}

#[tokio::test]
async fn garbage_is_not_json_rpc() {
    let mock = mock(|r| match r.rpc_method() {
        "text" => Response::builder().status(200).body(Body::from("hello")).unwrap(),
        "array" => json_response(200, &json!([1, 2])),
        "empty" => accepted(),
        _ => sse(vec!["data: {not json\n\n".into()]),
    })
    .await;
    let mut client = client(&mock.url);
    for method in ["text", "array", "empty", "sse"] {
        let failure = client.request(method, None).await.unwrap_err();
        assert!(matches!(failure, Failure::NotJsonRpc(_)), "{method}: {failure:?}");
    }
}

#[tokio::test]
async fn a_stream_that_ends_without_the_answer() {
    let mock = mock(|_| {
        sse(vec![
            "id: 0\ndata:\n\n".into(),
            data(&json!({ "jsonrpc": "2.0", "method": "notifications/progress" })),
        ])
    })
    .await;
    let failure = client(&mock.url).request("tools/call", None).await.unwrap_err();
    assert_eq!(failure, Failure::StreamClosed);
    assert_eq!(failure.to_string(), "stream closed before response");
}

#[tokio::test]
async fn a_stalled_stream_is_idle() {
    let mock = mock(|_| {
        let first = stream::iter([Ok::<_, Infallible>(Bytes::from("id: 0\ndata:\n\n"))]);
        sse_body(Body::from_stream(first.chain(stream::pending())))
    })
    .await;
    let mut settings = settings(&mock.url);
    settings.idle_timeout = Duration::from_millis(200);
    let mut client = with(settings);
    let started = Instant::now();
    let failure = client.request("tools/call", None).await.unwrap_err();
    assert_eq!(
        failure,
        Failure::Idle {
            after: Duration::from_millis(200)
        }
    );
    assert!(
        started.elapsed() < Duration::from_millis(1000),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn keep_alive_comments_are_not_idle_but_the_deadline_holds() {
    let mock = mock(|_| {
        let ticks = stream::unfold((), |()| async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            Some((Ok::<_, Infallible>(Bytes::from(": ping\n\n")), ()))
        });
        sse_body(Body::from_stream(ticks))
    })
    .await;
    let mut settings = settings(&mock.url);
    settings.idle_timeout = Duration::from_millis(200);
    settings.timeout = Duration::from_millis(600);
    let mut client = with(settings);
    let started = Instant::now();
    let failure = client.request("tools/call", None).await.unwrap_err();
    assert_eq!(
        failure,
        Failure::Timeout {
            after: Duration::from_millis(600)
        }
    );
    assert!(
        started.elapsed() < Duration::from_millis(1200),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn the_initialize_handshake() {
    let mock = mcp_server("2025-11-25", |r| {
        json_response(200, &result_for(r, json!({ "tools": [] })))
    })
    .await;
    let mut client = client(&mock.url);
    let answer = client
        .initialize(
            "2025-11-25",
            json!({ "roots": {} }),
            json!({ "name": "runner", "version": "0" }),
        )
        .await
        .unwrap();
    assert_eq!(answer.status, 200);
    assert_eq!(answer.sent_session, None);
    assert_eq!(answer.headers["mcp-session-id"], "abc");
    assert_eq!(client.session_id(), Some("abc"));
    assert_eq!(client.protocol_version(), Some("2025-11-25"));
    assert_eq!(client.server_info(), Some(&json!({ "name": "mock", "version": "1.0" })));

    let received = mock.received();
    assert_eq!(received.len(), 2);
    let init = &received[0];
    assert_eq!(init.header("mcp-session-id"), None);
    assert_eq!(init.header("mcp-protocol-version"), None);
    assert_eq!(init.body["id"], 1);
    assert_eq!(
        init.body["params"],
        json!({ "protocolVersion": "2025-11-25", "capabilities": { "roots": {} }, "clientInfo": { "name": "runner", "version": "0" } })
    );
    let note = &received[1];
    assert_eq!(
        note.body,
        json!({ "jsonrpc": "2.0", "method": "notifications/initialized" })
    );
    assert_eq!(note.header("mcp-session-id"), Some("abc"));
    assert_eq!(note.header("mcp-protocol-version"), Some("2025-11-25"));
    assert_eq!(note.header("accept"), Some("application/json, text/event-stream"));

    let later = client.request("tools/list", None).await.unwrap();
    assert_eq!(later.sent_session.as_deref(), Some("abc"));
    let received = mock.received();
    assert_eq!(received[2].body["id"], 2);
    assert_eq!(received[2].header("mcp-session-id"), Some("abc"));
    assert_eq!(received[2].header("mcp-protocol-version"), Some("2025-11-25"));
}

#[tokio::test]
async fn an_sse_initialize_answer_and_an_older_version() {
    let mock = mock(|r| match r.rpc_method() {
        "initialize" => {
            let result = json!({ "protocolVersion": "2025-03-26", "serverInfo": { "name": "s" } });
            let mut response = sse(vec!["id: 0\ndata:\n\n".into(), data(&result_for(r, result))]);
            let name = axum::http::HeaderName::from_bytes(b"Mcp-Session-Id").unwrap();
            response.headers_mut().insert(name, "S-1".parse().unwrap());
            response
        }
        _ => accepted(),
    })
    .await;
    let mut client = client(&mock.url);
    client.initialize("2025-11-25", json!({}), json!({})).await.unwrap();
    assert_eq!(client.session_id(), Some("S-1"));
    assert_eq!(client.protocol_version(), Some("2025-03-26"));
    // 2025-03-26 has no MCP-Protocol-Version header.
    let note = &mock.received()[1];
    assert_eq!(note.header("mcp-session-id"), Some("S-1"));
    assert_eq!(note.header("mcp-protocol-version"), None);
}

#[tokio::test]
async fn initialized_must_get_202() {
    let mock = mock(|r| match r.rpc_method() {
        "initialize" => json_response(200, &result_for(r, json!({ "protocolVersion": "2025-06-18" }))),
        _ => json_response(200, &json!({})),
    })
    .await;
    let failure = client(&mock.url)
        .initialize("2025-06-18", json!({}), json!({}))
        .await
        .unwrap_err();
    assert_eq!(failure, Failure::Broken("notifications/initialized got 200".into()));
}

#[tokio::test]
async fn a_refused_initialize_keeps_nothing() {
    let mock = mock(|r| {
        let error = json!({ "jsonrpc": "2.0", "id": r.body["id"], "error": { "code": -32602, "message": "Unsupported protocol version" } });
        let mut response = json_response(200, &error);
        response.headers_mut().insert("mcp-session-id", "nope".parse().unwrap());
        response
    })
    .await;
    let mut client = client(&mock.url);
    let answer = client.initialize("1999-01-01", json!({}), json!({})).await.unwrap();
    assert_eq!(answer.error.as_ref().unwrap()["code"], -32602);
    assert_eq!(answer.result, None);
    assert_eq!(client.session_id(), None);
    assert_eq!(client.protocol_version(), None);
    assert_eq!(mock.received().len(), 1, "no notifications/initialized after an error");
}

#[tokio::test]
async fn an_initialize_answer_without_a_session_header_opens_no_session() {
    let mock = mock(|r| match r.rpc_method() {
        "initialize" => {
            let result =
                json!({ "protocolVersion": "2025-11-25", "capabilities": {}, "serverInfo": { "name": "stateless" } });
            json_response(200, &result_for(r, result))
        }
        "notifications/initialized" => accepted(),
        _ => json_response(200, &result_for(r, json!({}))),
    })
    .await;
    let mut client = client(&mock.url);
    let answer = client.initialize("2025-11-25", json!({}), json!({})).await.unwrap();
    assert_eq!(answer.status, 200);
    assert_eq!(client.session_id(), None);
    assert_eq!(client.protocol_version(), Some("2025-11-25"));
    let later = client.request("tools/list", None).await.unwrap();
    assert_eq!(later.sent_session, None);
    assert_eq!(mock.received()[2].header("mcp-session-id"), None);
    assert_eq!(mock.received()[2].header("mcp-protocol-version"), Some("2025-11-25"));
}

#[tokio::test]
async fn a_404_is_an_answer() {
    let mock = mcp_server("2025-11-25", |_| text_response(404, "Not Found: Session not found")).await;
    let mut client = initialized(&mock).await;
    let answer = client.request("tools/list", None).await.unwrap();
    assert_eq!(answer.status, 404);
    assert_eq!(answer.body, json!("Not Found: Session not found"));
    assert_eq!(answer.sent_session.as_deref(), Some("abc"));
    assert_eq!(answer.result, None);
    // A JSON error body with a null id (TypeScript SDK) is an answer too.
    let mock = mcp_server("2025-11-25", |_| {
        json_response(
            404,
            &json!({ "jsonrpc": "2.0", "id": null, "error": { "code": -32001, "message": "Session not found" } }),
        )
    })
    .await;
    let mut client = initialized(&mock).await;
    let answer = client.request("tools/list", None).await.unwrap();
    assert_eq!(answer.status, 404);
    assert_eq!(answer.error.as_ref().unwrap()["code"], -32001);
}

#[tokio::test]
async fn a_non_json_500_is_text() {
    let mock = mock(|_| text_response(500, "boom <html>")).await;
    let answer = client(&mock.url).request("tools/list", None).await.unwrap();
    assert_eq!(answer.status, 500);
    assert_eq!(answer.body, json!("boom <html>"));
    assert_eq!((answer.result, answer.error), (None, None));
}

#[tokio::test]
async fn close_deletes_the_session_and_keeps_its_id() {
    let mock = mcp_server("2025-11-25", |r| match r.method.as_str() {
        "DELETE" => accepted(),
        _ => json_response(200, &result_for(r, json!({}))),
    })
    .await;
    let mut client = initialized(&mock).await;
    let answer = client.close().await.unwrap();
    assert_eq!(answer.status, 202);
    assert_eq!(answer.body, Value::Null);
    assert_eq!(answer.sent_session.as_deref(), Some("abc"));
    assert_eq!(client.session_id(), Some("abc"));
    let received = mock.received();
    let delete = &received[2];
    assert_eq!(delete.body, Value::Null);
    assert_eq!(delete.method, "DELETE");
    assert_eq!(delete.header("mcp-session-id"), Some("abc"));
    assert_eq!(delete.header("content-type"), None);
    // The next request still carries the closed session, to show what the server does with it.
    let after = client.request("tools/list", None).await.unwrap();
    assert_eq!(after.sent_session.as_deref(), Some("abc"));
    assert_eq!(mock.received()[3].header("mcp-session-id"), Some("abc"));
}

#[tokio::test]
async fn close_answered_405_is_an_answer() {
    let mock = mcp_server("2025-11-25", |_| text_response(405, "Method Not Allowed")).await;
    let mut client = initialized(&mock).await;
    assert_eq!(client.close().await.unwrap().status, 405);
    assert_eq!(client.session_id(), Some("abc"));
}

#[tokio::test]
async fn forget_drops_the_session_quietly() {
    let mock = mcp_server("2025-11-25", |r| json_response(200, &result_for(r, json!({})))).await;
    let mut client = initialized(&mock).await;
    client.forget();
    assert_eq!(
        (client.session_id(), client.protocol_version(), client.server_info()),
        (None, None, None)
    );
    assert_eq!(mock.received().len(), 2, "forget sends nothing");
    let answer = client.request("tools/list", None).await.unwrap();
    assert_eq!(answer.sent_session, None);
    let received = mock.received();
    assert_eq!(received[2].header("mcp-session-id"), None);
    assert_eq!(received[2].header("mcp-protocol-version"), None);
}

#[tokio::test]
async fn a_server_ping_on_the_stream_is_answered() {
    let ponged = Arc::new(Notify::new());
    let pongs = Arc::new(AtomicUsize::new(0));
    let (ponged_in, pongs_in) = (ponged.clone(), pongs.clone());
    let mock = mcp_server("2025-11-25", move |r| {
        if r.body.get("method").is_none() {
            // The client's answer to our ping.
            pongs_in.fetch_add(1, Ordering::SeqCst);
            ponged_in.notify_one();
            return accepted();
        }
        let ping = json!({ "jsonrpc": "2.0", "id": "srv-1", "method": "ping" });
        let sampling = json!({ "jsonrpc": "2.0", "id": 7, "method": "sampling/createMessage", "params": {} });
        let answer = data(&result_for(r, json!({ "done": true })));
        let first = stream::iter([data(&sampling), data(&ping)].map(|c| Ok::<_, Infallible>(Bytes::from(c))));
        let ponged = ponged_in.clone();
        // The answer comes only after the pong arrived.
        let rest = stream::once(async move {
            ponged.notified().await;
            Ok(Bytes::from(answer))
        });
        sse_body(Body::from_stream(first.chain(rest)))
    })
    .await;
    let mut client = initialized(&mock).await;
    let answer = client
        .request("tools/call", Some(json!({ "name": "slow" })))
        .await
        .unwrap();
    assert_eq!(answer.result, Some(json!({ "done": true })));
    assert_eq!(answer.events.len(), 2);
    assert_eq!(answer.events[0]["method"], "sampling/createMessage");
    assert_eq!(answer.events[1]["method"], "ping");
    assert_eq!(pongs.load(Ordering::SeqCst), 1, "only ping is answered");
    let pong = mock
        .received()
        .into_iter()
        .find(|r| r.body.get("method").is_none())
        .unwrap();
    assert_eq!(pong.body, json!({ "jsonrpc": "2.0", "id": "srv-1", "result": {} }));
    assert_eq!(pong.header("mcp-session-id"), Some("abc"));
    assert_eq!(pong.header("mcp-protocol-version"), Some("2025-11-25"));
    assert_eq!(pong.header("content-type"), Some("application/json"));
}

#[tokio::test]
async fn a_notification_gets_202_and_no_body() {
    let mock = mock(|_| accepted()).await;
    let answer = client(&mock.url)
        .notify("notifications/cancelled", Some(json!({ "requestId": 1 })))
        .await
        .unwrap();
    assert_eq!(answer.status, 202);
    assert_eq!(answer.body, Value::Null);
    assert_eq!(
        mock.received()[0].body,
        json!({ "jsonrpc": "2.0", "method": "notifications/cancelled", "params": { "requestId": 1 } })
    );
}

#[tokio::test]
async fn settings_headers_are_sent_and_replace_ours() {
    let mock = mock(|r| json_response(200, &result_for(r, json!({})))).await;
    let mut settings = settings(&mock.url);
    settings.headers = vec![
        ("Authorization".into(), "Bearer t".into()),
        ("Accept".into(), "application/json".into()),
        ("X-Many".into(), "1".into()),
        ("x-many".into(), "2".into()),
    ];
    let mut client = with(settings);
    client.request("tools/list", None).await.unwrap();
    let received = &mock.received()[0];
    assert_eq!(received.header("authorization"), Some("Bearer t"));
    assert_eq!(received.header("accept"), Some("application/json"));
    assert_eq!(received.headers.get_all("x-many").iter().count(), 2);
    assert_eq!(received.header("content-type"), Some("application/json"));
}

#[tokio::test]
async fn bad_settings_are_invalid() {
    let mut settings = settings("http://127.0.0.1:1/mcp");
    settings.headers = vec![("bad name".into(), "x".into())];
    let failure = with(settings).request("x", None).await.unwrap_err();
    assert!(matches!(failure, Failure::Unsent(Unsent::Invalid(_))), "{failure:?}");
    let failure = client("not a url").request("x", None).await.unwrap_err();
    assert!(matches!(failure, Failure::Unsent(Unsent::Invalid(_))), "{failure:?}");
}

#[tokio::test]
async fn nobody_listening_is_connect() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    drop(listener);
    let failure = client(&url).request("tools/list", None).await.unwrap_err();
    assert!(
        matches!(&failure, Failure::Unsent(Unsent::Connect { url: u, .. }) if *u == url),
        "{failure:?}"
    );
}

#[tokio::test]
async fn a_cut_body_is_broken() {
    // A Content-Length longer than the body, then the connection closes.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut buffer = [0u8; 4096];
        let _ = socket.read(&mut buffer).await;
        let answer = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"jsonrpc\":";
        socket.write_all(answer.as_bytes()).await.unwrap();
        socket.shutdown().await.unwrap();
    });
    let failure = client(&url).request("tools/list", None).await.unwrap_err();
    assert!(matches!(failure, Failure::Broken(_)), "{failure:?}");
}

#[test]
fn the_futures_are_send() {
    fn send<T: Send>(_: T) {}
    let mut client = McpClient::new(settings("http://127.0.0.1:1/"));
    send(client.request("x", None));
    send(client.notify("x", None));
    send(client.initialize("x", json!({}), json!({})));
    send(client.close());
}
