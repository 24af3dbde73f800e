//! A local HTTP server for the executor's end-to-end tests: it answers, fails, stalls and breaks
//! on purpose, on a free loopback port.

#![allow(dead_code)]

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
