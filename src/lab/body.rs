//! A POST's body, read once in front of rmcp: to tell `initialize` apart at `--max-sessions`,
//! and to answer a body that is no JSON-RPC message as the official Python and TypeScript
//! servers do — 400 with a JSON-RPC error (-32700 for text that is not JSON, -32600 for a
//! batch or other JSON that is not one message) — where rmcp answers 415, which says the
//! Content-Type was wrong when it was not.

use axum::body::Bytes;
use axum::extract::Request;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use rmcp::model::ClientJsonRpcMessage;
use serde_json::{Value, json};

/// The largest body the lab reads: rmcp's default limit, which the lab sets on rmcp too.
pub const MAX_BODY: usize = 4 * 1024 * 1024;

/// JSON-RPC's "Parse error": the body is not JSON.
const PARSE_ERROR: i64 = -32700;
/// JSON-RPC's "Invalid Request": JSON, but not one request, notification or response.
const INVALID_REQUEST: i64 = -32600;

/// The request's head and its whole body; `Err` is the answer for a body past [`MAX_BODY`]
/// (413, as rmcp answers it) or one that could not be read.
pub async fn read(request: Request) -> Result<(Parts, Bytes), Response> {
    let (parts, body) = request.into_parts();
    match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => Ok((parts, collected.to_bytes())),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
            let message = format!("Payload Too Large: request body exceeds {MAX_BODY} bytes");
            Err((StatusCode::PAYLOAD_TOO_LARGE, message).into_response())
        }
        Err(e) => Err((
            StatusCode::BAD_REQUEST,
            format!("Bad Request: cannot read the body: {e}"),
        )
            .into_response()),
    }
}

/// Whether the request says its body is JSON (`application/json`, any parameters): then a
/// 415 from rmcp is about the body, not the Content-Type.
pub fn declares_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
}

/// Whether the body is an `initialize` request.
pub fn is_initialize(body: &[u8]) -> bool {
    serde_json::from_slice::<Value>(body).is_ok_and(|v| v.get("method").and_then(Value::as_str) == Some("initialize"))
}

/// The answer for a body that is not one JSON-RPC message; `None` when it is one.
pub fn refusal(body: &[u8]) -> Option<Response> {
    let (code, message) = match serde_json::from_slice::<Value>(body) {
        Err(e) => (PARSE_ERROR, format!("Parse error: the body is not JSON: {e}")),
        Ok(Value::Array(_)) => (
            INVALID_REQUEST,
            "Invalid Request: batches are not accepted (MCP removed them in 2025-06-18); send one message per POST"
                .into(),
        ),
        Ok(value) => match serde_json::from_value::<ClientJsonRpcMessage>(value) {
            Ok(_) => return None,
            Err(e) => (INVALID_REQUEST, format!("Invalid Request: not a JSON-RPC message: {e}")),
        },
    };
    Some((StatusCode::BAD_REQUEST, axum::Json(error(code, &message))).into_response())
}

/// A JSON-RPC error answer to a request whose id the lab does not know.
pub fn error(code: i64, message: &str) -> Value {
    json!({ "jsonrpc": "2.0", "id": null, "error": { "code": code, "message": message } })
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn code(body: &str) -> Option<i64> {
        let response = refusal(body.as_bytes())?;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let value: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(value["jsonrpc"], "2.0");
        assert_eq!(value["id"], Value::Null);
        Some(value["error"]["code"].as_i64().unwrap())
    }

    #[tokio::test]
    async fn bodies_that_are_no_message_get_the_json_rpc_code() {
        assert_eq!(code("{not json").await, Some(PARSE_ERROR));
        assert_eq!(code("").await, Some(PARSE_ERROR));
        assert_eq!(
            code(r#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#).await,
            Some(INVALID_REQUEST)
        );
        assert_eq!(code("[]").await, Some(INVALID_REQUEST));
        assert_eq!(code(r#"{"hello":"world"}"#).await, Some(INVALID_REQUEST));
        assert_eq!(code(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#).await, None);
        assert_eq!(
            code(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).await,
            None
        );
    }

    #[test]
    fn json_is_told_by_the_content_type_essence() {
        let mut headers = HeaderMap::new();
        assert!(!declares_json(&headers));
        headers.insert(header::CONTENT_TYPE, "Application/JSON; charset=utf-8".parse().unwrap());
        assert!(declares_json(&headers));
        headers.insert(header::CONTENT_TYPE, "text/plain".parse().unwrap());
        assert!(!declares_json(&headers));
    }
}
