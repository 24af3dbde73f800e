//! What the executor tells reporters while it runs: progress and the transcript.

use std::sync::Arc;
use std::time::Duration;

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
    /// A step begins, at `at` in its client's steps.
    StepStarted { actor: Actor, step: Arc<str>, at: Position },
    /// A request went out and its answer (or failure) came back.
    Exchange(Box<Exchange>),
    /// A client instance ended.
    ClientFinished { actor: Actor, passed: bool },
    /// An arrival came while its group's `max_active` instances ran, and started none.
    Dropped { scenario: Arc<str>, group: Arc<str> },
    /// A scenario ended.
    ScenarioFinished { scenario: Arc<str>, passed: bool },
    /// A running scenario's figures, sampled every second while its clients run.
    Live { scenario: Arc<str>, figures: Live },
}

impl Event {
    /// True for events that only feed the progress display, which may be dropped when the
    /// reporter is behind; the others carry results and transcript lines, and must arrive.
    pub fn progress_only(&self) -> bool {
        matches!(
            self,
            Event::StepStarted { .. } | Event::Dropped { .. } | Event::Live { .. }
        )
    }
}

/// Where a client is in its steps: the step of its own list that runs (the one started, or the
/// `group` or `repeat` it is nested in), and the innermost loop's pass.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Position {
    /// 1-based.
    pub step: usize,
    /// Steps in the client's list.
    pub of: usize,
    pub pass: Option<Pass>,
}

/// A loop's pass and how far the loop goes, as far as it is known when the pass starts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pass {
    /// 1-based.
    pub n: u64,
    /// The passes the loop makes, when its bounds say.
    pub of: Option<u64>,
    /// What was left of a `for:` loop's time when the step started.
    pub left: Option<Duration>,
}

/// A scenario's figures over the last [`WINDOW`] (complete seconds; fewer at its start).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Live {
    /// Requests answered per second.
    pub rate: f64,
    /// Steps that failed.
    pub errors: u64,
    /// Of every request answered; none without one.
    pub p99_ms: Option<f64>,
    /// Client instances started and not ended.
    pub active: u64,
    /// MCP sessions the clients hold now; none in a scenario that never opened one.
    pub sessions: Option<u64>,
    pub arrivals: Vec<ArrivalsLive>,
}

/// An arrival group's rates: what its schedule asks now, and the starts per second it achieved
/// over the window; and its arrivals dropped so far.
#[derive(Debug, Clone, PartialEq)]
pub struct ArrivalsLive {
    pub group: Arc<str>,
    pub target: f64,
    pub achieved: f64,
    pub dropped: u64,
}

/// The span of the live figures.
pub const WINDOW: Duration = Duration::from_secs(5);

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
