//! In front of rmcp's endpoint: what the session manager cannot see from inside. A DELETE is
//! noted before rmcp closes the session (so the close is recorded as the client's), and past
//! `--max-sessions` a new session is refused with 503 before rmcp creates it. A DELETE of an id
//! that is no live session gets 404, as the spec requires (rmcp answers 202).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::LabState;

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
        // Without a session id, a POST can only be `initialize`.
        (&Method::POST, None) => {
            if !lab.tracker.admit(lab.settings.max_sessions) {
                return at_capacity(lab.settings.max_sessions.unwrap_or(0));
            }
            let response = next.run(request).await;
            lab.tracker.answered();
            response
        }
        _ => next.run(request).await,
    }
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
