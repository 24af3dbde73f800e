//! In front of rmcp's endpoint: what the session manager cannot see from inside. A DELETE is
//! noted before rmcp closes the session (so the close is recorded as the client's), and past
//! `--max-sessions` a new session is refused with 503 before rmcp creates it. A DELETE of an id
//! that is no live session gets 404, as the spec requires (rmcp answers 202), and one of a live
//! session 200, as the official Python and TypeScript servers answer (rmcp's 202 made the
//! Python client log "Session termination failed: 202").
//!
//! A request with the id of a session that is not live gets 404 here, before rmcp, which may
//! still hold a session the reaper has just ended; so does an id that is not visible ASCII,
//! which no session has (rmcp would read it as no id at all, and say one is required).
//!
//! A POST's body is read here ([`body`]): at the limit, to tell `initialize` (refused: 503) from
//! anything else (passed on, so rmcp answers its 400 for a missing session id, as it does below
//! the limit); and to answer a body that is no JSON-RPC message with 400 and a JSON-RPC error
//! where rmcp answers 415.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::ToStrError;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::LabState;
use super::body;
use super::sessions::InFlight;

pub async fn gate(State(lab): State<Arc<LabState>>, request: Request, next: Next) -> Response {
    let Ok(session) = session_id(request.headers()) else {
        return not_visible_ascii();
    };
    match (request.method(), session) {
        // rmcp answers 202 to a DELETE of any id; the spec wants 404 for one that is not a
        // session (any more).
        (&Method::DELETE, Some(id)) if !lab.tracker.is_live(&id) => not_found(),
        (&Method::DELETE, Some(id)) => {
            lab.tracker.delete_requested(&id);
            let mut response = next.run(request).await;
            if response.status() == StatusCode::ACCEPTED {
                *response.status_mut() = StatusCode::OK;
            }
            response
        }
        (&Method::POST, session) => post(&lab, session, request, next).await,
        // A session the reaper has just ended may still be in rmcp's map while it is closed:
        // the tracker decides, and the request keeps the session busy until rmcp has taken it.
        (_, Some(id)) => match InFlight::begin(lab.clone(), &id) {
            Some(_busy) => next.run(request).await,
            None => not_found(),
        },
        _ => next.run(request).await,
    }
}

/// A POST, with its body read.
async fn post(lab: &Arc<LabState>, session: Option<String>, request: Request, next: Next) -> Response {
    let _busy = match &session {
        Some(id) => match InFlight::begin(lab.clone(), id) {
            Some(busy) => Some(busy),
            None => return not_found(),
        },
        None => None,
    };
    let json = body::declares_json(request.headers());
    let (parts, bytes) = match body::read(request).await {
        Ok(read) => read,
        Err(refusal) => return refusal,
    };
    let request = Request::from_parts(parts, axum::body::Body::from(bytes.clone()));
    let response = match session {
        Some(_) => next.run(request).await,
        // Without a session id, a POST that is not `initialize` is rmcp's to refuse (400).
        None if lab.tracker.admit(lab.settings.max_sessions) => {
            let response = next.run(request).await;
            lab.tracker.answered();
            response
        }
        None if body::is_initialize(&bytes) => return at_capacity(lab.settings.max_sessions.unwrap_or(0)),
        None => next.run(request).await,
    };
    // With a JSON Content-Type, rmcp's only 415 is for a body it could not read as a message.
    if response.status() == StatusCode::UNSUPPORTED_MEDIA_TYPE
        && json
        && let Some(refusal) = body::refusal(&bytes)
    {
        return refusal;
    }
    response
}

/// The `Mcp-Session-Id` a request carries; `Err` when it is not visible ASCII.
fn session_id(headers: &HeaderMap) -> Result<Option<String>, ToStrError> {
    let id = headers.get("mcp-session-id").map(HeaderValue::to_str).transpose()?;
    Ok(id.map(str::to_string))
}

/// What rmcp answers for an unknown session.
fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "Not Found: Session not found").into_response()
}

/// An `Mcp-Session-Id` that is not visible ASCII is no id the lab gave (the spec allows only
/// 0x21–0x7E), so it gets 404, saying why.
fn not_visible_ascii() -> Response {
    let message = "Not Found: Session not found (session ids are visible ASCII, and this Mcp-Session-Id is not)";
    (StatusCode::NOT_FOUND, message).into_response()
}

/// 503 with a JSON-RPC error, as a server at its session limit would answer.
fn at_capacity(max: usize) -> Response {
    let message = format!("the server holds its maximum of {max} sessions; try again later");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, "1")],
        axum::Json(body::error(-32000, &message)),
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
            header_read_timeout: super::super::HEADER_READ_TIMEOUT,
        })
        .await
        .unwrap();
        let settings = mcp::Settings {
            url: lab.mcp_url(),
            headers: Vec::new(),
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(10),
            max_answer: crate::plan::MAX_ANSWER,
        };
        let mut client = McpClient::new(settings);
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
