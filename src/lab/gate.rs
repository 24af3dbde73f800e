//! In front of rmcp's endpoint: what the session manager cannot see from inside. A DELETE is
//! noted before rmcp closes the session (so the close is recorded as the client's), and past
//! `--max-sessions` a new session is refused with 503 before rmcp creates it. A DELETE of an id
//! that is no live session gets 404, as the spec requires (rmcp answers 202).
//!
//! A request with the id of a session that is not live gets 404 here, before rmcp, which may
//! still hold a session the reaper has just ended.
//!
//! At the limit, the body of a session-less POST is read to tell `initialize` (refused: 503)
//! from anything else (passed on, so rmcp answers its 400 for a missing session id, as it does
//! below the limit). Below the limit the body is not touched.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::LabState;
use super::sessions::InFlight;

/// The middleware.
pub async fn gate(State(lab): State<Arc<LabState>>, request: Request, next: Next) -> Response {
    let session = request
        .headers()
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    match (request.method(), session) {
        // rmcp answers 202 to a DELETE of any id; the spec wants 404 for one that is not a
        // session (any more).
        (&Method::DELETE, Some(id)) if !lab.tracker.is_live(&id) => not_found(),
        (&Method::DELETE, Some(id)) => {
            lab.tracker.delete_requested(&id);
            next.run(request).await
        }
        // A session the reaper has just ended may still be in rmcp's map while it is closed:
        // the tracker decides, and the request keeps the session busy until rmcp has taken it.
        (_, Some(id)) => match InFlight::begin(lab.clone(), &id) {
            Some(_busy) => next.run(request).await,
            None => not_found(),
        },
        // Without a session id, a POST that is not `initialize` is rmcp's to refuse (400).
        (&Method::POST, None) => {
            if lab.tracker.admit(lab.settings.max_sessions) {
                let response = next.run(request).await;
                lab.tracker.answered();
                return response;
            }
            let (request, initialize) = match read_body(request).await {
                Ok(read) => read,
                Err(refusal) => return refusal,
            };
            match initialize {
                true => at_capacity(lab.settings.max_sessions.unwrap_or(0)),
                false => next.run(request).await,
            }
        }
        _ => next.run(request).await,
    }
}

/// The largest body read to tell `initialize` apart: far above any real handshake.
const MAX_PEEK: usize = 1 << 20;

/// Reads the body, and gives back the request whole with whether it is an `initialize` request.
/// A body past [`MAX_PEEK`] or cut off is refused here.
async fn read_body(request: Request) -> Result<(Request, bool), Response> {
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_PEEK).await.map_err(|e| {
        let message = format!("Bad Request: cannot read the body (at most {MAX_PEEK} bytes): {e}");
        (StatusCode::BAD_REQUEST, message).into_response()
    })?;
    let method = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|v| v.get("method").and_then(|m| m.as_str()).map(str::to_string));
    let initialize = method.as_deref() == Some("initialize");
    Ok((Request::from_parts(parts, axum::body::Body::from(bytes)), initialize))
}

/// What rmcp answers for an unknown session.
fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "Not Found: Session not found").into_response()
}

/// 503 with a JSON-RPC error, as a server at its session limit would answer.
fn at_capacity(max: usize) -> Response {
    let body = json!({
        "jsonrpc": "2.0",
        "id": null,
        "error": { "code": -32000, "message": format!("the server holds its maximum of {max} sessions; try again later") },
    });
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, "1")],
        axum::Json(body),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;

    use super::super::{Lab, Settings};
    use crate::proto::mcp::{self, McpClient};

    #[tokio::test]
    async fn a_session_the_reaper_has_taken_gets_404_before_rmcp_closes_it() {
        let lab = Lab::start(Settings {
            listen: ([127, 0, 0, 1], 0).into(),
            session_timeout: Duration::from_secs(3600),
            cleanup_interval: Duration::from_secs(3600),
            database: "sqlite://:memory:".into(),
            max_sessions: None,
        })
        .await
        .unwrap();
        let http = crate::proto::http::client(Duration::from_secs(5)).unwrap();
        let settings = mcp::Settings {
            url: lab.mcp_url(),
            headers: Vec::new(),
            timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(10),
            max_answer: crate::plan::MAX_ANSWER,
        };
        let mut client = McpClient::new(http, settings);
        let answer = client
            .initialize("2025-11-25", json!({}), json!({"name": "t", "version": "1"}))
            .await
            .unwrap();
        assert_eq!(answer.status, 200, "{answer:?}");
        assert_eq!(client.request("ping", None).await.unwrap().status, 200);
        // The moment of a sweep: the tracker has taken the session, rmcp has not closed it yet.
        tokio::time::sleep(Duration::from_millis(2)).await;
        assert_eq!(lab.state.tracker.expire(Duration::from_millis(1)).len(), 1);
        assert_eq!(client.request("ping", None).await.unwrap().status, 404);
        lab.shutdown().await.unwrap();
    }
}
