//! JSON-RPC 2.0 messages: building them, telling them apart, checking an answer.

use serde_json::{Map, Value, json};

use super::Failure;

/// A request with an id.
pub(super) fn request(id: u64, method: &str, params: Option<Value>) -> Value {
    let mut message = json!({ "jsonrpc": "2.0", "id": id, "method": method });
    if let Some(params) = params {
        message["params"] = params;
    }
    message
}

/// A notification: no id.
pub(super) fn notification(method: &str, params: Option<Value>) -> Value {
    let mut message = json!({ "jsonrpc": "2.0", "method": method });
    if let Some(params) = params {
        message["params"] = params;
    }
    message
}

/// The answer to a server's `ping`.
pub(super) fn pong(id: &Value) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "result": {} })
}

/// What a message on a stream is.
#[derive(Debug, PartialEq)]
pub(super) enum Kind {
    /// A server request (`method` and a non-null `id`).
    Request { id: Value, method: String },
    /// A notification (`method`, no id).
    Notification,
    /// A response (no `method`).
    Response,
}

/// Classifies a message; anything but an object is not JSON-RPC.
pub(super) fn classify(message: &Value) -> Result<Kind, Failure> {
    let object = object(message)?;
    match object.get("method") {
        None => Ok(Kind::Response),
        Some(method) => match object.get("id") {
            Some(id) if !id.is_null() => Ok(Kind::Request {
                id: id.clone(),
                method: method.as_str().unwrap_or_default().to_string(),
            }),
            _ => Ok(Kind::Notification),
        },
    }
}

/// Checks that `message` answers the request whose id is `expected`: a JSON-RPC 2.0 object with
/// that id and exactly one of `result` and `error`, which are returned.
pub(super) fn check_answer(message: &Value, expected: &Value) -> Result<(Option<Value>, Option<Value>), Failure> {
    let object = object(message)?;
    let got = object.get("id").unwrap_or(&Value::Null);
    if got != expected {
        return Err(Failure::WrongId {
            expected: Box::new(expected.clone()),
            got: Box::new(got.clone()),
        });
    }
    if object.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return Err(Failure::NotJsonRpc("`jsonrpc` is not \"2.0\"".into()));
    }
    match (object.get("result"), object.get("error")) {
        (Some(_), Some(_)) => Err(Failure::NotJsonRpc("the answer has both `result` and `error`".into())),
        (None, None) => Err(Failure::NotJsonRpc(
            "the answer has neither `result` nor `error`".into(),
        )),
        (result, error) => Ok((result.cloned(), error.cloned())),
    }
}

/// `result` and `error` of any body, without judging it (for non-2xx answers and notifications).
pub(super) fn parts(body: &Value) -> (Option<Value>, Option<Value>) {
    match body {
        Value::Object(object) => (object.get("result").cloned(), object.get("error").cloned()),
        _ => (None, None),
    }
}

fn object(message: &Value) -> Result<&Map<String, Value>, Failure> {
    message
        .as_object()
        .ok_or_else(|| Failure::NotJsonRpc(format!("the message is {}, not an object", crate::json::kind(message))))
}

/// At most `max` characters of `text`, for messages.
pub(super) fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}
