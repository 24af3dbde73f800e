//! What running a scenario produced: the results that reports and result files are made of.
//!
//! Everything here is plain data (serde), built by the executor and only read by `report`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::metrics::MetricsReport;
use super::shard::Shard;
use super::thresholds::ThresholdResult;
use super::timeline::TimelineReport;
use crate::assert::AssertionResult;
use crate::kind::Kind;
use crate::source::Pos;

/// How a scenario, client or step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Everything held.
    Passed,
    /// A step failed, or no assertion ran.
    Failed,
    /// Stopped by Ctrl-C before it could finish.
    Interrupted,
}

impl Status {
    pub fn passed(self) -> bool {
        self == Status::Passed
    }

    pub fn failed(self) -> bool {
        self == Status::Failed
    }
}

/// One scenario's run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScenarioResult {
    /// The scenario's name.
    pub name: String,
    /// Its file.
    pub path: PathBuf,
    /// How it ended.
    pub status: Status,
    /// Why it failed as a whole, when that is not a step's fault (e.g. "no assertion ran").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// When it started (UTC).
    pub started_at: DateTime<Utc>,
    /// How long it took, in milliseconds.
    pub elapsed_ms: f64,
    /// How many assertions ran, passed or not (`expect`, `check`).
    pub assertions_run: u64,
    /// The `before:` steps.
    pub before: Vec<StepResult>,
    /// Every client instance of the groups with a `count`, in group order then by id.
    pub clients: Vec<ClientResult>,
    /// Every arrival group, in group order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub arrivals: Vec<ArrivalsResult>,
    /// The `after:` steps.
    pub after: Vec<StepResult>,
    /// Per step name: latency percentiles of the steps that sent something.
    pub latency: BTreeMap<String, Latency>,
    /// Per step name and in total: requests, outcomes, answers and a per-second series.
    pub metrics: MetricsReport,
    /// Each threshold, judged on the final metrics (an aborting one that breached: as it was
    /// then).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub thresholds: Vec<ThresholdResult>,
    /// The clients' MCP sessions, one lane each (a sample of them past
    /// [`MAX_LANES`](super::MAX_LANES)), for `report.html`.
    #[serde(default, skip_serializing_if = "TimelineReport::is_empty")]
    pub timeline: TimelineReport,
    /// The part of the run this was (`--shard`); absent for a whole run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<Shard>,
}

impl ScenarioResult {
    /// Client instances that passed, and all of them: the groups' with a `count`, and the
    /// arrivals that started.
    pub fn client_counts(&self) -> (u64, u64) {
        let passed = self.clients.iter().filter(|c| c.status.passed()).count() as u64;
        let arrived = self.arrivals.iter().map(|a| (a.passed, a.started));
        let (arrivals_passed, started) = arrived.fold((0, 0), |(p, t), (ap, at)| (p + ap, t + at));
        (passed + arrivals_passed, self.clients.len() as u64 + started)
    }
}

/// An arrival group's run: what its result file `arrivals_<group>.json` holds. Its instances
/// are counted and measured here, and kept in full as a loop's passes are (`--record`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ArrivalsResult {
    pub group: String,
    /// Failed when an instance failed; a dropped arrival fails nothing by itself (a threshold
    /// on `dropped` can).
    pub status: Status,
    /// Arrivals the schedule holds.
    pub scheduled: u64,
    /// Arrivals that started an instance.
    pub started: u64,
    /// Arrivals that came while `max_active` instances ran, and started none.
    pub dropped: u64,
    /// Arrivals the run's stop came before.
    pub unreached: u64,
    pub passed: u64,
    pub failed: u64,
    pub interrupted: u64,
    pub max_active: u64,
    /// The most instances that ran at once.
    pub peak_active: u64,
    /// How late the instances started against the schedule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lateness_ms: Option<Spread>,
    /// How long the instances took.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elapsed_ms: Option<Spread>,
    /// The first failure kept, naming the instance and the step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Instances in `instances`, and those counted here only.
    pub kept: u64,
    pub omitted: u64,
    /// Per second of the scenario in which an arrival came: how many started and how many were
    /// dropped, which is the achieved rate.
    pub series: Vec<ArrivalPoint>,
    /// The instances kept in full, by arrival number (`client_id`).
    pub instances: Vec<ClientResult>,
}

/// One second of an arrival group's series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArrivalPoint {
    /// Seconds from the scenario's start.
    pub second: u64,
    pub started: u64,
    pub dropped: u64,
}

/// Latency of one step name across every client, in milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    /// How many samples.
    pub count: u64,
    /// Fastest.
    pub min_ms: f64,
    /// Median.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Slowest.
    pub max_ms: f64,
    /// The samples themselves, in microseconds: HdrHistogram's compressed V2 format in base64,
    /// in the report written at the end only (for `report.html` and `runner merge`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub histogram: Option<String>,
}

/// One client instance's run: what its result file `client_<id>_<group>.json` holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClientResult {
    /// 1-based id within the group.
    pub client_id: u64,
    pub group: String,
    /// 0-based position among every instance of the scenario.
    pub index: u64,
    /// How it ended.
    pub status: Status,
    /// True when it passed (kept beside `status` for scripts that read the files).
    pub success: bool,
    /// The current MCP session id, if any.
    pub session_id: Option<String>,
    /// Every MCP session id it held, in order.
    pub session_ids: Vec<String>,
    /// How many times it opened a session again after the server dropped one
    /// (`on_expired: reinitialize`).
    pub reinitialized: u64,
    /// When it started (UTC).
    pub started_at: DateTime<Utc>,
    /// Milliseconds from the scenario's start to this client's first step.
    pub start_ms: f64,
    /// How long it ran, in milliseconds.
    pub elapsed_ms: f64,
    /// The first failure's reason, naming the step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The values it saved and set.
    pub vars: Map<String, Value>,
    /// Per step name: how many times the step succeeded.
    pub counts: BTreeMap<String, u64>,
    /// The group's `record:` fields, rendered at the end.
    #[serde(flatten)]
    pub record: Map<String, Value>,
    /// Its steps, in order.
    pub steps: Vec<StepResult>,
}

/// One step's run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StepResult {
    /// The step's name.
    pub name: String,
    /// The kind key (`http`, `wait`, …).
    pub kind: Kind,
    /// Where the step stands in the file.
    pub at: Pos,
    /// How it ended.
    pub status: Status,
    /// Milliseconds from the client's start to the step's start.
    pub started_ms: f64,
    /// How long it took, every attempt included.
    pub elapsed_ms: f64,
    /// How many times it ran (more than 1 under `retry`).
    pub attempts: u32,
    /// Under `retry`: milliseconds from the first attempt to the one that held.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_to_success_ms: Option<f64>,
    /// Why it failed, naming what went wrong.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// When the step failed: the result document `expect` and `save` looked at (the last
    /// attempt's). Every answer, passed or not, is in `transcript.jsonl`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    /// Each assertion of the last attempt.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assertions: Vec<AssertionResult>,
    /// Nested steps of a `group`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<StepResult>,
    /// Iterations of a `repeat` kept in full, with their own numbers: under `--record bounded`
    /// the first 10, the first 100 failed or interrupted ones after those, and the last.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub iterations: Vec<Iteration>,
    /// A `repeat`'s every pass, counted and measured, kept in full or not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passes: Option<Passes>,
}

impl StepResult {
    /// A step's result before it has run: passed, until it fails.
    pub fn new(name: &str, kind: Kind, at: Pos, started_ms: f64) -> Self {
        Self {
            name: name.to_string(),
            kind,
            at,
            status: Status::Passed,
            started_ms,
            elapsed_ms: 0.0,
            attempts: 0,
            time_to_success_ms: None,
            error: None,
            result: None,
            assertions: Vec::new(),
            steps: Vec::new(),
            iterations: Vec::new(),
            passes: None,
        }
    }

    /// Marks it failed with a reason that names the step and its place in the file.
    pub fn fail(&mut self, place: &str, reason: impl std::fmt::Display) {
        self.status = Status::Failed;
        self.error = Some(format!("step `{}` ({place}): {reason}", self.name));
    }

    /// The first failure among nested steps.
    pub fn first_error(steps: &[StepResult]) -> Option<String> {
        steps.iter().find_map(|s| s.error.clone())
    }
}

/// One pass of a `repeat` loop.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Iteration {
    /// 1-based.
    pub iteration: u64,
    /// For a fixed-rate loop: how late the iteration started against its schedule, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lateness_ms: Option<f64>,
    /// How long the pass took.
    pub elapsed_ms: f64,
    /// How it ended.
    pub status: Status,
    pub steps: Vec<StepResult>,
}

/// Every pass of one `repeat` loop, in fixed memory however many ran.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Passes {
    /// Passes run (`passed + failed + interrupted`).
    pub total: u64,
    pub passed: u64,
    pub failed: u64,
    /// At most one: the pass a stop cut short.
    pub interrupted: u64,
    /// Passes in `iterations`.
    pub kept: u64,
    /// Passes counted here only (`total - kept`).
    pub omitted: u64,
    /// For a fixed-rate loop: how late the passes started against their schedule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lateness_ms: Option<Spread>,
    /// How long the passes took (absent when none ran: a stop came first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elapsed_ms: Option<Spread>,
}

/// Percentiles of a loop's passes or an arrival group's instances, in milliseconds (1%
/// resolution).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
}
