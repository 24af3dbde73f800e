//! Proves the MCP server of the end-to-end tests (the lab, through `support::mcp`) with raw HTTP:
//! the handshake, tool calls, DELETE, unknown sessions and idle expiry, as the runner will see
//! them on the wire.

mod support;

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::mcp::{McpOptions, McpServer, start_mcp};

const VERSION: &str = "2025-11-25";

/// A bare MCP client: one session, raw requests.
struct Client {
    http: reqwest::Client,
    url: String,
    session: Option<String>,
    next_id: u64,
}

impl Client {
    fn new(url: String) -> Self {
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        Self {
            http,
            url,
            session: None,
            next_id: 1,
        }
    }

    /// POSTs one JSON-RPC message with the session headers, if any.
    async fn post(&self, body: &Value) -> reqwest::Response {
        let mut request = self
            .http
            .post(&self.url)
            .header("Content-Type", "application/json")
            .header("Accept", "application/json, text/event-stream")
            .body(body.to_string());
        if let Some(session) = &self.session {
            request = request
                .header("Mcp-Session-Id", session)
                .header("MCP-Protocol-Version", VERSION);
        }
        request.send().await.unwrap()
    }

    /// `initialize` then `notifications/initialized`; returns the initialize result.
    async fn handshake(&mut self) -> Value {
        let response = self
            .post(&json!({
                "jsonrpc": "2.0", "id": 0, "method": "initialize",
                "params": {
                    "protocolVersion": VERSION,
                    "capabilities": {},
                    "clientInfo": { "name": "runner-smoke", "version": "0.1.0" },
                },
            }))
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let session = response
            .headers()
            .get("mcp-session-id")
            .expect("an mcp-session-id header");
        self.session = Some(session.to_str().unwrap().to_owned());
        let message = single_message(response).await;
        assert_eq!(message["id"], 0);
        let result = message["result"].clone();

        let response = self
            .post(&json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }))
            .await;
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        assert!(response.text().await.unwrap().is_empty());
        result
    }

    /// Sends a request and returns the HTTP response.
    async fn request(&mut self, method: &str, params: Value) -> (u64, reqwest::Response) {
        let id = self.next_id;
        self.next_id += 1;
        let response = self
            .post(&json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }))
            .await;
        (id, response)
    }

    /// Sends a request that must succeed on the HTTP level and returns its JSON-RPC message.
    async fn call(&mut self, method: &str, params: Value) -> Value {
        let (id, response) = self.request(method, params).await;
        assert_eq!(response.status(), StatusCode::OK);
        let message = single_message(response).await;
        assert_eq!(message["id"], id);
        message
    }

    async fn call_tool(&mut self, name: &str, arguments: Value) -> Value {
        self.call("tools/call", json!({ "name": name, "arguments": arguments }))
            .await
    }

    async fn delete(&self) -> reqwest::Response {
        self.http
            .delete(&self.url)
            .header("Mcp-Session-Id", self.session.as_deref().unwrap())
            .header("MCP-Protocol-Version", VERSION)
            .send()
            .await
            .unwrap()
    }
}

/// Reads a JSON or SSE body and returns its one JSON-RPC message.
async fn single_message(response: reqwest::Response) -> Value {
    let content_type = response
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let body = response.text().await.unwrap();
    let mut messages = if content_type.starts_with("application/json") {
        vec![serde_json::from_str(&body).unwrap()]
    } else {
        assert!(
            content_type.starts_with("text/event-stream"),
            "content type {content_type}"
        );
        sse_messages(&body)
    };
    assert_eq!(messages.len(), 1, "one message in {body:?}");
    messages.pop().unwrap()
}

/// The JSON of every SSE event with non-empty data (rmcp's priming event has empty data).
fn sse_messages(body: &str) -> Vec<Value> {
    let mut messages = Vec::new();
    let mut data = String::new();
    for line in body.lines().chain([""]) {
        if line.is_empty() {
            if !data.trim().is_empty() {
                messages.push(serde_json::from_str(&data).unwrap());
            }
            data.clear();
        } else if let Some(value) = line.strip_prefix("data:") {
            if !data.is_empty() {
                data.push('\n');
            }
            data.push_str(value.strip_prefix(' ').unwrap_or(value));
        }
    }
    messages
}

fn text_of(message: &Value) -> &str {
    message["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("no text in {message}"))
}

async fn start() -> (McpServer, Client) {
    let server = start_mcp(McpOptions::default()).await;
    let client = Client::new(server.url());
    (server, client)
}

#[tokio::test]
async fn handshake_tools_and_delete() {
    let (server, mut client) = start().await;

    let init = client.handshake().await;
    assert_eq!(init["protocolVersion"], VERSION);
    assert_eq!(init["serverInfo"]["name"], "runner-lab");
    assert!(init["capabilities"]["tools"].is_object());
    assert_eq!(server.live_sessions(), 1);

    let tools = client.call("tools/list", json!({})).await;
    let mut names: Vec<&str> = tools["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["echo", "fail", "health_check", "heartbeat", "sleep"]);

    let echo = client.call_tool("echo", json!({ "text": "hello, lab" })).await;
    assert_eq!(text_of(&echo), "hello, lab");
    assert_eq!(echo["result"]["isError"], false);

    let health = client.call_tool("health_check", json!({})).await;
    assert_eq!(
        serde_json::from_str::<Value>(text_of(&health)).unwrap(),
        json!({ "status": "ok" })
    );

    let beat = client.call_tool("heartbeat", json!({})).await;
    let structured = &beat["result"]["structuredContent"];
    assert_eq!(structured["success"], true);
    assert_eq!(structured["message"], "alive");
    assert_eq!(structured["timeout_seconds"], 3600, "no idle timeout asked: an hour");
    chrono::DateTime::parse_from_rfc3339(structured["timestamp"].as_str().unwrap()).unwrap();
    assert_eq!(&serde_json::from_str::<Value>(text_of(&beat)).unwrap(), structured);

    let slept = client.call_tool("sleep", json!({ "ms": 50 })).await;
    assert_eq!(text_of(&slept), "slept 50ms");

    let failed = client
        .call_tool("fail", json!({ "message": "broken on purpose" }))
        .await;
    assert_eq!(failed["result"]["isError"], true);
    assert_eq!(text_of(&failed), "broken on purpose");

    let unknown = client.call_tool("no_such_tool", json!({})).await;
    assert_eq!(unknown["error"]["code"], -32602, "{unknown}");
    assert!(unknown.get("result").is_none());

    let ping = client.call("ping", json!({})).await;
    assert_eq!(ping["result"], json!({}));

    let deleted = client.delete().await;
    assert!(deleted.status().is_success(), "DELETE gave {}", deleted.status());
    assert_eq!(
        deleted.status(),
        StatusCode::OK,
        "as the official Python and TypeScript servers answer"
    );
    assert_eq!(server.live_sessions(), 0);

    let (_, after) = client
        .request("tools/call", json!({ "name": "echo", "arguments": { "text": "x" } }))
        .await;
    assert_eq!(after.status(), StatusCode::NOT_FOUND);
    assert_eq!(after.text().await.unwrap(), "Not Found: Session not found");
    assert_eq!(
        client.delete().await.status(),
        StatusCode::NOT_FOUND,
        "the lab answers a DELETE of an ended session with 404 (rmcp alone would say 202)"
    );
}

#[tokio::test]
async fn unknown_and_missing_session() {
    let server = start_mcp(McpOptions::default()).await;
    let mut client = Client::new(server.url());

    // No session header on a non-initialize request.
    let (_, response) = client.request("tools/list", json!({})).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    client.session = Some("00000000-0000-4000-8000-000000000000".into());
    let (_, response) = client.request("tools/list", json!({})).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = client
        .post(&json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }))
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn idle_session_expires() {
    let server = start_mcp(McpOptions {
        session_idle: Some(Duration::from_millis(500)),
    })
    .await;
    let mut idle = Client::new(server.url());
    let mut busy = Client::new(server.url());
    idle.handshake().await;
    busy.handshake().await;

    let beat = idle.call_tool("heartbeat", json!({})).await;
    assert_eq!(beat["result"]["structuredContent"]["timeout_seconds"], 0.5);
    assert_eq!(server.live_sessions(), 2);

    // `busy` pings every 50 ms, which keeps its session alive; `idle` sends nothing. The reaper
    // ends `idle` between 500 and 550 ms after its heartbeat; wait for that, with a bound.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while server.live_sessions() == 2 {
        assert!(tokio::time::Instant::now() < deadline, "no session expired within 10 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
        busy.call("ping", json!({})).await;
    }

    let (_, response) = idle
        .request("tools/call", json!({ "name": "echo", "arguments": { "text": "x" } }))
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(response.text().await.unwrap(), "Not Found: Session not found");
    let echo = busy.call_tool("echo", json!({ "text": "still here" })).await;
    assert_eq!(text_of(&echo), "still here");
    assert_eq!(server.live_sessions(), 1);
}

#[tokio::test]
async fn answers_are_sse_with_a_priming_event() {
    let (_server, mut client) = start().await;
    client.handshake().await;
    let (_, response) = client
        .request("tools/call", json!({ "name": "echo", "arguments": { "text": "hi" } }))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let body = response.text().await.unwrap();
    // The priming event: an id (`index/stream`, here `0/0`), a retry, and no data.
    let priming: Vec<&str> = body.split("\n\n").next().unwrap().lines().collect();
    assert!(priming.contains(&"retry: 3000"), "{body:?}");
    assert!(priming.iter().any(|l| l.starts_with("id: 0/")), "{body:?}");
    assert!(
        priming
            .iter()
            .filter_map(|l| l.strip_prefix("data:"))
            .all(|data| data.trim().is_empty()),
        "{body:?}"
    );
    let messages = sse_messages(&body);
    assert_eq!(messages.len(), 1, "{body:?}");
    assert_eq!(text_of(&messages[0]), "hi");
}
