//! What the executor tells reporters while it runs: progress and the transcript.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

/// Who did something: a scenario, a client group (`before`/`after` for the phases) and an instance.
#[derive(Debug, Clone, Serialize)]
pub struct Actor {
    pub scenario: Arc<str>,
    /// The client group, or `before` / `after`.
    pub group: Arc<str>,
    /// 1-based id in the group (1 in the phases).
    pub client_id: u64,
}

/// Something that happened during a run.
#[derive(Debug, Clone)]
pub enum Event {
    /// A scenario begins; its groups with their instance counts.
    ScenarioStarted {
        scenario: Arc<str>,
        /// Each group and its count.
        groups: Vec<(Arc<str>, u64)>,
    },
    /// A step begins.
    StepStarted { actor: Actor, step: Arc<str> },
    /// A request went out and its answer (or failure) came back.
    Exchange(Box<Exchange>),
    /// A client instance ended.
    ClientFinished { actor: Actor, passed: bool },
    /// An arrival came while its group's `max_active` instances ran, and started none.
    Dropped { scenario: Arc<str>, group: Arc<str> },
    /// A scenario ended.
    ScenarioFinished { scenario: Arc<str>, passed: bool },
}

impl Event {
    /// True for events that only feed the progress display, which may be dropped when the
    /// reporter is behind; the others carry results and transcript lines, and must arrive.
    pub fn progress_only(&self) -> bool {
        matches!(self, Event::StepStarted { .. } | Event::Dropped { .. })
    }
}

/// One request and its answer, for `transcript.jsonl`. Header values named in `masked` and any
/// `Authorization` header are already masked.
#[derive(Debug, Clone, Serialize)]
pub struct Exchange {
    /// Who sent it.
    #[serde(flatten)]
    pub actor: Actor,
    pub step: Arc<str>,
    /// When it was sent.
    pub sent_at: DateTime<Utc>,
    /// The request: `{method, url, headers, body}`.
    pub request: Value,
    /// The answer: `{status, headers, body, elapsed_ms}`, or `{error}`.
    pub response: Value,
}
