//! The compiled, immutable program: what the executor runs and `runner plan` prints.
//!
//! A [`Plan`] holds no runtime state; client tasks share it behind an `Arc`. Templates are
//! compiled into the plan's [`TemplateEngine`], JSONPaths are parsed and each step's connection
//! is resolved to a typed handle, so running a step parses no template and looks nothing up. A
//! duration or count that a template yields from run-time values (a saved value) is the one
//! thing checked when it renders.

mod arrivals;
mod assertion;
mod connection;
mod duration;
pub mod metric;
mod rate;
mod sql;
pub mod step;
mod template;
mod threshold;
mod value;

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

pub use arrivals::{ArrivalsPlan, Stage};
pub use assertion::{AssertionPlan, Check, JsonPath, Member, Save, SaveFrom};
pub use connection::{
    ClientInfoPlan, Conn, ConnectionKind, ConnectionPlan, HttpConn, HttpConnectionPlan, MAX_ANSWER, McpConn,
    McpConnectionPlan, SqlConn, SqlConnectionPlan,
};
pub use duration::{DurationError, parse_duration};
pub use rate::{MAX_RATE, RateError, parse_rate};
pub use sql::SqlQuery;
pub use step::{Action, Body, RepeatPlan, RetryPlan, StepPlan, zero_counts};
pub use template::{Template, TemplateEngine};
pub use threshold::{Comparator, Limit, LimitError, ThresholdPlan};
pub use value::{DurationPlan, Resolved, ValuePlan};

// The word lists the plan shares with the language, so that its readers need not import `spec`.
pub use crate::mcp_options::{OnExpired, ProtocolVersion};
pub use crate::operator::Operator;

/// One compiled scenario.
#[derive(Debug, Serialize)]
pub struct Plan {
    pub name: String,
    /// What it proves.
    pub description: Option<String>,
    pub tags: Vec<String>,
    /// The file it came from.
    pub path: PathBuf,
    /// The variables, every override applied and every template rendered.
    pub vars: serde_json::Map<String, serde_json::Value>,
    /// Settings for the built-in lab, when the scenario has a `lab:` block.
    pub lab: Option<LabPlan>,
    /// The named endpoints.
    pub connections: Vec<ConnectionPlan>,
    /// Steps run once before the clients.
    pub before: Vec<StepPlan>,
    /// The client groups, run concurrently.
    pub groups: Vec<GroupPlan>,
    /// Steps run once after every client has ended.
    pub after: Vec<StepPlan>,
    /// Every barrier and who meets there.
    pub barriers: Vec<BarrierPlan>,
    /// Limits on the scenario's metrics, judged when it ends (and, where they abort, while it
    /// runs).
    pub thresholds: Vec<ThresholdPlan>,
    /// Every template of the plan, compiled.
    #[serde(skip)]
    pub templates: TemplateEngine,
}

impl Plan {
    /// Every step of the plan: `before:`, each client group's, `after:`.
    pub fn steps(&self) -> impl Iterator<Item = &StepPlan> {
        let groups = self.groups.iter().flat_map(|g| &g.steps);
        self.before.iter().chain(groups).chain(&self.after)
    }
}

/// The lab server a scenario asks for.
#[derive(Debug, Clone, Serialize)]
pub struct LabPlan {
    /// Idle time after which a session ends.
    #[serde(with = "humantime_serde_compat")]
    pub session_timeout: Duration,
    /// How often the reaper looks.
    #[serde(with = "humantime_serde_compat")]
    pub cleanup_interval: Duration,
    /// The most sessions the lab accepts at once.
    pub max_sessions: Option<u64>,
}

/// A group of identical clients.
#[derive(Debug, Serialize)]
pub struct GroupPlan {
    /// The group's key under `clients:`.
    pub name: String,
    /// What the group does.
    pub description: Option<String>,
    /// How its instances start.
    #[serde(flatten)]
    pub instances: Instances,
    /// Delay before the first instance starts.
    #[serde(with = "humantime_serde_compat")]
    pub start_after: Duration,
    /// Instance starts are spread evenly over this long.
    #[serde(with = "humantime_serde_compat")]
    pub ramp_up: Duration,
    /// The steps of every instance.
    pub steps: Vec<StepPlan>,
    /// Extra fields of each instance's result file.
    pub record: Vec<(String, ValuePlan)>,
}

/// How a group's instances start: a fixed number of them, or on a schedule of arrivals.
#[derive(Debug, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Instances {
    Count(u64),
    Arrivals(ArrivalsPlan),
}

/// A barrier and the groups that meet at it.
#[derive(Debug, Clone, Serialize)]
pub struct BarrierPlan {
    pub name: String,
    /// Each group that names it, with its instance count.
    pub groups: Vec<(String, u64)>,
}

impl BarrierPlan {
    /// How many instances must arrive before the barrier opens.
    pub fn parties(&self) -> u64 {
        self.groups.iter().map(|(_, n)| n).sum()
    }
}

/// Durations serialize as humantime text (`2m 30s`), the way scenarios write them.
pub(crate) mod humantime_serde_compat {
    use std::time::Duration;

    /// Writes a duration as `1m 30s`.
    pub fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&crate::duration_text::format_duration(*d))
    }
}

#[cfg(test)]
mod tests {
    use super::Plan;

    #[test]
    fn a_plan_can_be_shared_by_client_tasks() {
        fn shared<T: Send + Sync + 'static>() {}
        shared::<Plan>();
    }
}
