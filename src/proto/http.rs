//! Plain HTTP: one request, its answer as a result document `{status, headers, body, elapsed_ms}`.

use std::time::{Duration, Instant};

use bytesize::ByteSize;
use serde_json::{Map, Value};

use crate::duration_text::format_duration;

/// A request ready to send.
#[derive(Debug, Clone)]
pub struct Request {
    /// Upper-case.
    pub method: String,
    /// The full URL.
    pub url: String,
    /// Headers, in order.
    pub headers: Vec<(String, String)>,
    pub query: Vec<(String, String)>,
    pub body: Body,
}

/// A request body.
#[derive(Debug, Clone)]
pub enum Body {
    Empty,
    /// JSON, sent with `Content-Type: application/json`.
    Json(Value),
    /// Raw text.
    Text(String),
}

/// Why a request was never sent. The same on both transports: an `mcp` connection's messages
/// are HTTP requests too (its [`crate::proto::mcp::Failure`] holds this one).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Unsent {
    /// Nobody listens, or the connection could not be made.
    #[error("cannot connect to {url}: {reason}")]
    Connect { url: String, reason: String },
    /// The request could not be built (a bad URL, a bad header, no TLS setup).
    #[error("cannot send the request: {0}")]
    Invalid(String),
}

impl Unsent {
    /// `connect` or `invalid_request`, as the metrics count failures.
    pub fn class(&self) -> &'static str {
        match self {
            Unsent::Connect { .. } => "connect",
            Unsent::Invalid(_) => "invalid_request",
        }
    }

    /// What a failed send of `url` was, when the request never went out.
    pub fn of(url: &str, e: &reqwest::Error) -> Option<Unsent> {
        if e.is_builder() {
            Some(Unsent::Invalid(root_cause(e)))
        } else if e.is_connect() {
            Some(Unsent::Connect {
                url: url.to_string(),
                reason: root_cause(e),
            })
        } else {
            None
        }
    }
}

/// Why a request got no answer. (An `mcp` connection's own texts for a late, cut or large
/// answer do not name the URL, so only [`Unsent`] is shared.)
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Failure {
    #[error(transparent)]
    Unsent(#[from] Unsent),
    /// No complete answer within the deadline.
    #[error("no complete answer from {url} within {}", format_duration(*.after))]
    Timeout { url: String, after: Duration },
    /// The server closed the connection or sent a broken answer.
    #[error("the answer from {url} broke off: {reason}")]
    Broken { url: String, reason: String },
    /// The answer is larger than the connection's `max_answer`.
    #[error("the answer from {url} is larger than {} (`max_answer`)", ByteSize(*.limit))]
    TooLarge {
        url: String,
        /// `max_answer`, bytes.
        limit: u64,
    },
}

impl Failure {
    /// What kind of failure this is, as the metrics count it.
    pub fn class(&self) -> &'static str {
        match self {
            Failure::Unsent(unsent) => unsent.class(),
            Failure::Timeout { .. } => "timeout",
            Failure::Broken { .. } => "broken",
            Failure::TooLarge { .. } => "too_large",
        }
    }
}

/// Why a body could not be read whole.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// It is larger than the limit.
    #[error("larger than {}", ByteSize(*.0))]
    TooLarge(u64),
    /// The connection broke.
    #[error(transparent)]
    Read(#[from] reqwest::Error),
}

/// Builds the HTTP client of one client instance: its own connection pool, the run's shared TLS
/// configuration.
pub fn client(connect_timeout: Duration) -> Result<reqwest::Client, Unsent> {
    let tls = super::tls::client_config().map_err(|e| Unsent::Invalid(format!("TLS setup: {e}")))?;
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .connect_timeout(connect_timeout)
        .pool_max_idle_per_host(1)
        .build()
        .map_err(|e| Unsent::Invalid(e.to_string()))
}

/// Sends a request and reads the whole answer, at most `max_answer` bytes, within `timeout`.
pub async fn send(
    client: &reqwest::Client,
    request: &Request,
    timeout: Duration,
    max_answer: u64,
) -> Result<Value, Failure> {
    let method = reqwest::Method::from_bytes(request.method.as_bytes()).map_err(|e| Unsent::Invalid(e.to_string()))?;
    let mut builder = client.request(method, &request.url).timeout(timeout);
    for (name, value) in &request.headers {
        builder = builder.header(name, value);
    }
    if !request.query.is_empty() {
        builder = builder.query(&request.query);
    }
    builder = match &request.body {
        Body::Empty => builder,
        Body::Json(json) => builder.json(json),
        Body::Text(text) => builder.body(text.clone()),
    };
    let started = Instant::now();
    let url = request.url.clone();
    let response = builder.send().await.map_err(|e| failure(&url, timeout, &e))?;
    let status = response.status().as_u16();
    let headers = headers(response.headers());
    let bytes = read_body(response, max_answer).await.map_err(|e| match e {
        BodyError::TooLarge(limit) => Failure::TooLarge {
            url: url.clone(),
            limit,
        },
        BodyError::Read(e) => failure(&url, timeout, &e),
    })?;
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    Ok(serde_json::json!({
        "status": status,
        "headers": headers,
        "body": body(&bytes),
        "elapsed_ms": elapsed_ms,
    }))
}

/// Reads a whole body of at most `limit` bytes, chunk by chunk, so that an endless or huge one
/// stops at the limit instead of filling the memory.
pub async fn read_body(mut response: reqwest::Response, limit: u64) -> Result<Vec<u8>, BodyError> {
    if response.content_length().is_some_and(|n| n > limit) {
        return Err(BodyError::TooLarge(limit));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if (body.len() + chunk.len()) as u64 > limit {
            return Err(BodyError::TooLarge(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Header names in lower case (HTTP names are case-insensitive); repeated headers joined by `, `.
pub fn headers(map: &reqwest::header::HeaderMap) -> Map<String, Value> {
    let mut out = Map::new();
    for (name, value) in map {
        let value = String::from_utf8_lossy(value.as_bytes());
        match out.entry(name.as_str()) {
            serde_json::map::Entry::Occupied(mut seen) => {
                if let Value::String(existing) = seen.get_mut() {
                    existing.push_str(", ");
                    existing.push_str(&value);
                }
            }
            serde_json::map::Entry::Vacant(slot) => {
                slot.insert(Value::String(value.into_owned()));
            }
        }
    }
    out
}

/// A body as JSON when it parses as JSON, otherwise as text.
pub fn body(bytes: &[u8]) -> Value {
    if bytes.is_empty() {
        return Value::Null;
    }
    serde_json::from_slice(bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()))
}

fn failure(url: &str, timeout: Duration, e: &reqwest::Error) -> Failure {
    if e.is_timeout() {
        return Failure::Timeout {
            url: url.to_string(),
            after: timeout,
        };
    }
    match Unsent::of(url, e) {
        Some(unsent) => unsent.into(),
        None => Failure::Broken {
            url: url.to_string(),
            reason: root_cause(e),
        },
    }
}

/// The innermost error's text: "connection refused", not "error sending request".
pub(super) fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    cause.to_string()
}
