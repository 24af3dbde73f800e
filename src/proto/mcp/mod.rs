//! MCP over Streamable HTTP: one client, its session, one answer per message.
//!
//! Every message is a POST to the endpoint with `Content-Type: application/json` and
//! `Accept: application/json, text/event-stream`. A request's answer is one JSON object or an SSE
//! stream; on a stream the message whose `id` is the request's is the answer, and the messages
//! before it (progress, logging, server requests) are kept as `events`. A server `ping` on the
//! stream is answered. A non-2xx status is an answer, not a failure: the caller classifies it.

mod client;
mod jsonrpc;
mod sse;
#[cfg(test)]
mod tests;

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::HeaderMap;
use serde_json::{Map, Value};

use crate::duration_text::format_duration;
use crate::proto::http::Unsent;

pub use client::McpClient;

/// Where and how to talk to one MCP endpoint.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The MCP endpoint, e.g. `http://127.0.0.1:8080/mcp`.
    pub url: String,
    /// Extra headers on every request, in order. A name given here replaces the client's own header
    /// of that name (`Accept`, `Content-Type`, `Mcp-Session-Id`, `MCP-Protocol-Version`).
    pub headers: Vec<(String, String)>,
    /// Bounds making a connection (and its TLS handshake).
    pub connect_timeout: Duration,
    /// Bounds a whole exchange: connect, response headers and the answer.
    pub timeout: Duration,
    /// Bounds the silence between two reads of an SSE stream (comments count as reads).
    pub idle_timeout: Duration,
    /// Bounds the bytes read for one answer: its body, or its SSE stream up to the answer (the
    /// events before it, and a line that never ends, count).
    pub max_answer: u64,
}

/// One answer to one message, as the result document needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// Response headers, names in lower case.
    pub headers: Map<String, Value>,
    /// The JSON-RPC message that answers the request; the raw body as a string for a non-JSON
    /// answer; null for an empty one (202).
    pub body: Value,
    /// `body.result`.
    pub result: Option<Value>,
    /// `body.error`.
    pub error: Option<Value>,
    /// Other JSON-RPC messages received on the SSE stream before the answer (progress, logging,
    /// server requests), in order.
    pub events: Vec<Value>,
    /// Time to the whole answer.
    pub elapsed_ms: f64,
    /// Time to the response headers.
    pub ttfb_ms: f64,
    /// The `Mcp-Session-Id` this request carried, if any.
    pub sent_session: Option<String>,
    /// Its request's place in the list [`McpClient::take_sent`] returns next.
    pub sent: usize,
}

impl Answer {
    /// The answer as it came, for the transcript: without the parts the client made of it
    /// (`result`, `error`), which would only be copies.
    fn content(&self) -> Content {
        Content {
            headers: self.headers.clone(),
            body: self.body.clone(),
            events: self.events.clone(),
        }
    }
}

/// An answer as the transcript shows it.
#[derive(Debug, Clone)]
pub struct Heard {
    pub status: u16,
    pub elapsed_ms: f64,
    pub ttfb_ms: f64,
    /// The headers, body and events as they came. `None` for an answer the client handed to
    /// its caller: the caller's result document holds the same parts, and copying them for a
    /// transcript line that is seldom written was a tenth of a call's cost. An answer the
    /// caller lets go instead is given back with [`McpClient::dismiss`].
    pub content: Option<Content>,
}

/// What an answer carried.
#[derive(Debug, Clone)]
pub struct Content {
    pub headers: Map<String, Value>,
    pub body: Value,
    pub events: Vec<Value>,
}

/// One HTTP request the client sent and what came of it, kept for the transcript, which shows
/// every request, answered or not: the automatic `notifications/initialized` of `initialize`
/// and the DELETE of `close` are requests of their own. (The client's answers to a server's
/// `ping` are not: the ping itself is in the answer's `events`.)
#[derive(Debug, Clone)]
pub struct Sent {
    /// When it went out.
    pub at: DateTime<Utc>,
    /// `POST` or `DELETE`.
    pub method: String,
    pub url: String,
    pub headers: Headers,
    /// The JSON-RPC message (null for a DELETE).
    pub body: Value,
    /// `None` when the exchange was dropped before it ended (the step's own `timeout`, a stopped
    /// run).
    pub outcome: Option<Result<Heard, Failure>>,
}

/// A request's headers: as sent, or as `Settings::headers` gave them when they could not be
/// built. Kept as they are and shown only when the transcript needs them.
#[derive(Debug, Clone)]
pub enum Headers {
    Built(HeaderMap),
    Given(Vec<(String, String)>),
}

impl Headers {
    /// Names in lower case, `Settings::headers` among them.
    pub fn to_map(&self) -> Map<String, Value> {
        match self {
            Headers::Built(map) => crate::proto::http::headers(map),
            Headers::Given(given) => given
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), Value::String(v.clone())))
                .collect(),
        }
    }
}

/// Why a message got no answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Failure {
    /// The message never went out, for the reasons any HTTP request may not.
    #[error(transparent)]
    Unsent(#[from] Unsent),
    /// No complete answer within the deadline.
    #[error("no complete answer within {}", format_duration(*.after))]
    Timeout {
        /// The deadline (`Settings::timeout`).
        after: Duration,
    },
    /// The SSE stream was silent for too long.
    #[error("the SSE stream was silent for {}", format_duration(*.after))]
    Idle {
        /// The allowed silence (`Settings::idle_timeout`).
        after: Duration,
    },
    /// The answer is larger than `Settings::max_answer`.
    #[error("answer larger than {} (`max_answer`)", bytesize::ByteSize(*.limit))]
    TooLarge {
        /// `Settings::max_answer`.
        limit: u64,
    },
    /// The SSE stream ended before the answer.
    #[error("stream closed before response")]
    StreamClosed,
    /// The answer carried another id than the request. (Boxed: a `Value` is large, and every
    /// exchange returns this type.)
    #[error("the answer's id {got} is not the request's id {expected}")]
    WrongId {
        /// The request's id.
        expected: Box<Value>,
        /// The answer's id (null when it had none).
        got: Box<Value>,
    },
    /// The answer is not a JSON-RPC response.
    #[error("not a JSON-RPC answer: {0}")]
    NotJsonRpc(String),
    /// The connection broke, or the handshake did not complete.
    #[error("{0}")]
    Broken(String),
}

impl Failure {
    /// What kind of failure this is, as the metrics count it.
    pub fn class(&self) -> &'static str {
        match self {
            Failure::Unsent(unsent) => unsent.class(),
            Failure::Timeout { .. } | Failure::Idle { .. } => "timeout",
            Failure::TooLarge { .. } => "too_large",
            Failure::StreamClosed | Failure::Broken(_) => "broken",
            Failure::WrongId { .. } | Failure::NotJsonRpc(_) => "protocol",
        }
    }
}
