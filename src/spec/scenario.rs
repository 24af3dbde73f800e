//! The top of a scenario file: its variables, connections, phases and client groups.

use schemars::JsonSchema;
use serde::Deserialize;

use super::{Arrivals, Connection, Count, DurationText, Entries, Node, Spanned, Step, Text, Threshold};

/// One scenario file.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "runner scenario",
    description = "A declarative scenario: concurrent clients and the steps they take. See docs/scenario-language.md."
)]
pub struct Scenario {
    /// The name in reports; default the file name without its extension.
    pub name: Option<Text>,
    /// What the scenario proves, in a sentence or two.
    pub description: Option<String>,
    /// Labels for `--tag` / `--skip-tag`.
    #[serde(default)]
    pub tags: Vec<Spanned<String>>,
    /// Variables and their defaults; `--vars FILE` and `--set NAME=VALUE` override them.
    #[serde(default)]
    pub vars: Entries<Spanned<Node>>,
    /// Settings for the built-in lab server when the run uses `--lab`.
    pub lab: Option<Spanned<LabSettings>>,
    /// Named endpoints: MCP servers, HTTP APIs, databases.
    #[serde(default)]
    pub connections: Entries<Connection>,
    /// Steps run once before any client starts (e.g. seeding data).
    pub before: Option<Spanned<Vec<Step>>>,
    /// Client groups, all running concurrently.
    #[serde(default)]
    #[schemars(extend("propertyNames" = { "pattern": "^[A-Za-z0-9_-]+$" }))]
    pub clients: Entries<ClientGroup>,
    /// Steps run once after every client has ended, with all client results in scope.
    pub after: Option<Spanned<Vec<Step>>>,
    /// Limits on the scenario's metrics (`echo.latency.p99: "< 50ms"`): a breach fails it.
    #[serde(default)]
    pub thresholds: Entries<Threshold>,
}

/// What the lab server should look like for this scenario.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LabSettings {
    /// Idle time after which the lab ends a session; default `5m`.
    pub session_timeout: Option<DurationText>,
    /// How often the lab looks for idle sessions; default `1m`.
    pub cleanup_interval: Option<DurationText>,
    /// Sessions beyond this many get 503 on `initialize`; default no limit.
    pub max_sessions: Option<Count>,
}

/// A group of identical clients.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientGroup {
    /// What the group does.
    pub description: Option<String>,
    /// How many instances run; each gets `client.id` 1..count. Default 1.
    pub count: Option<Count>,
    /// Start instances on a schedule instead of a `count`: each arrival runs the steps once.
    pub arrivals: Option<Spanned<Arrivals>>,
    /// Delay before the first instance starts.
    pub start_after: Option<DurationText>,
    /// Spread the instance starts evenly over this long.
    pub ramp_up: Option<DurationText>,
    /// The steps every instance takes, in order.
    pub steps: Spanned<Vec<Step>>,
    /// Extra fields for each instance's result file, templated.
    #[serde(default)]
    pub record: Entries<Spanned<Node>>,
}
