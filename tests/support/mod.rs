//! A local HTTP server for the executor's end-to-end tests: it answers, fails, stalls and breaks
//! on purpose, on a free loopback port.

#![allow(dead_code)]

pub mod binary;
pub mod lab_process;
pub mod mcp;
pub mod pg;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

/// Counts the hits of `/count`.
#[derive(Clone, Default)]
struct Hits(Arc<AtomicU64>);

/// Starts the server on `127.0.0.1:0` in the background and returns its address.
pub async fn start() -> SocketAddr {
    let app = Router::new()
        .route(
            "/ok",
            get(|| async { Json(json!({ "ok": true, "items": [1, 2, 3], "name": "lab" })) }),
        )
        .route("/status/{code}", get(status))
        .route("/stall", get(stall))
        .route("/cut", get(cut))
        .route("/text", get(|| async { "plain text, not JSON" }))
        .route(
            "/echo",
            post(|Json(body): Json<Value>| async move { Json(json!({ "echo": body })) }),
        )
        .route("/count", get(count))
        // The built-in lab's HTTP side, with fixed answers (for the `examples/http-*.yaml` runs).
        .route("/health", get(|| async { Json(json!({ "status": "ok" })) }))
        .route(
            "/api/mcp/sessions/health",
            get(|| async { Json(lab_sessions_health()) }),
        )
        .route("/api/mcp/sessions", get(|| async { Json(lab_sessions()) }))
        .with_state(Hits::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

async fn status(Path(code): Path<u16>) -> Response {
    let code = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (code, Json(json!({ "status": code.as_u16() }))).into_response()
}

async fn stall() -> &'static str {
    tokio::time::sleep(Duration::from_secs(30)).await;
    "too late"
}

/// Sends the start of a body, then breaks the connection.
async fn cut() -> Response {
    let chunks = futures_util::stream::iter([
        Ok::<_, std::io::Error>(axum::body::Bytes::from_static(b"{\"partial\": ")),
        Err(std::io::Error::other("cut on purpose")),
    ]);
    Response::builder()
        .header("content-type", "application/json")
        .body(Body::from_stream(chunks))
        .unwrap()
}

/// Fails the first two hits with 503, then answers with the hit number.
async fn count(State(hits): State<Hits>) -> Response {
    let n = hits.0.fetch_add(1, Ordering::SeqCst) + 1;
    let code = if n < 3 {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    (code, Json(json!({ "count": n }))).into_response()
}

/// What the lab's `GET /api/mcp/sessions/health` answers: two active sessions, one disconnected.
fn lab_sessions_health() -> Value {
    json!({
        "status_breakdown": { "active": 2, "disconnected": 1, "total": 3 },
        "age_distribution": { "under_1m": 1, "1m_to_5m": 1, "5m_to_1h": 1, "over_1h": 0 },
        "timestamp": "2025-06-01T12:00:00Z",
    })
}

/// What the lab's `GET /api/mcp/sessions` answers: the sessions it knows, as a list.
fn lab_sessions() -> Value {
    let session = |id: &str, status: &str, requests: u64, reason: Value| {
        json!({
            "session_id": id,
            "client_name": "runner",
            "client_version": "0.1.0",
            "protocol_version": "2025-11-25",
            "status": status,
            "request_count": requests,
            "connected_at": "2025-06-01T11:58:30Z",
            "last_activity": "2025-06-01T11:59:50Z",
            "disconnect_reason": reason,
        })
    };
    json!([
        session("3f6c1d2e-8a4b-4c7d-9e10-2b3c4d5e6f70", "active", 12, Value::Null),
        session("7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d", "active", 3, Value::Null),
        session(
            "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f",
            "disconnected",
            7,
            json!("client_delete")
        ),
    ])
}
