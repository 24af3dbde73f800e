//! Why a step's attempt did not hold: one typed value per way a step can fail, whose text is
//! what the step's result gives as its `error` (after its name and place).

use std::time::Duration;

use serde_json::Value;

use crate::assert::template_error;
use crate::count::TooMany;
use crate::duration_text::format_duration;
use crate::proto::{http, mcp};

#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// The run was stopped (Ctrl-C, SIGTERM).
    #[error("interrupted")]
    Interrupted,
    /// The step's `timeout` (or its `retry` window) ran out.
    #[error("timed out after {}", format_duration(*.0))]
    TimedOut(Duration),
    #[error(transparent)]
    Render(#[from] RenderError),
    /// A `set` value did not render.
    #[error("`{name}`: {source}")]
    Set { name: String, source: RenderError },
    /// A `sql` parameter did not render.
    #[error("`params[{index}]`: {source}")]
    Param { index: usize, source: RenderError },
    /// The barrier can no longer open: a party failed or ended first, or the wait timed out.
    #[error("{0}")]
    Barrier(String),
    /// A `check` rendered false.
    #[error("`{0}` is false")]
    CheckFalse(String),
    /// A `check` could not be rendered.
    #[error("{0}")]
    Check(String),
    /// An assertion of `expect` did not hold; `place` is the assertion's `file:line:col`.
    #[error("{text} (assertion at {place})")]
    Assertion { text: String, place: String },
    #[error("save `{name}`: {reason}")]
    Save { name: String, reason: String },
    /// A client's connection pool could not be made (TLS setup).
    #[error(transparent)]
    Unsent(#[from] http::Unsent),
    #[error(transparent)]
    Http(#[from] http::Failure),
    #[error(transparent)]
    Mcp(#[from] mcp::Failure),
    /// The server dropped the session the request named (a 404 on a known session).
    #[error("session_expired: the server answered 404 for session {id}")]
    SessionExpired { id: String },
    /// A non-2xx answer to an MCP step without `expect`.
    #[error("the server answered {status}: {body}")]
    Status { status: u16, body: String },
    /// A JSON-RPC error answer to an MCP step without `expect`.
    #[error("JSON-RPC error {code}: {message}")]
    JsonRpc { code: Value, message: String },
    /// `on_expired: reinitialize` found no handshake to repeat.
    #[error("the session expired and there is no `initialize` to repeat")]
    NoHandshake,
    /// `on_expired: reinitialize` repeated the handshake and the server refused it.
    #[error("the session expired, and `initialize` again got {0}")]
    Reinitialize(u16),
    /// A query failed; `lasting` when waiting cannot change that (a syntax error, a missing
    /// table), so a `retry` stops at once rather than poll out its window.
    #[error("{reason}")]
    Sql { reason: String, lasting: bool },
}

impl StepError {
    /// False when another attempt cannot change the outcome.
    pub fn heals_by_waiting(&self) -> bool {
        !matches!(self, StepError::Sql { lasting: true, .. })
    }

    /// What kind of failure this is, as the metrics count it.
    pub fn class(&self) -> &'static str {
        match self {
            StepError::Interrupted => "interrupted",
            StepError::TimedOut(_) => "timeout",
            StepError::Render(_) | StepError::Set { .. } | StepError::Param { .. } | StepError::Check(_) => "template",
            StepError::Barrier(_) => "barrier",
            StepError::CheckFalse(_) | StepError::Assertion { .. } => "assertion",
            StepError::Save { .. } => "save",
            StepError::Unsent(unsent) => unsent.class(),
            StepError::Http(failure) => failure.class(),
            StepError::Mcp(failure) => failure.class(),
            StepError::SessionExpired { .. } => "session_expired",
            StepError::Status { .. } => "status",
            StepError::JsonRpc { .. } => "jsonrpc",
            StepError::NoHandshake | StepError::Reinitialize(_) => "reinitialize",
            StepError::Sql { .. } => "sql",
        }
    }
}

/// Why a template, or what it rendered to, could not be used.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("{}", template_error(.0))]
    Template(#[from] minijinja::Error),
    #[error("`{template}` renders to {message}")]
    Duration { template: String, message: String },
    #[error("`times: {template}` renders to {value}, not a whole number")]
    NotACount { template: String, value: Value },
    #[error("`times: {template}`: {source}")]
    Count { template: String, source: TooMany },
    #[error("`every` renders to zero")]
    ZeroEvery,
}
