//! A step: one key naming its kind, beside the keys every step may have (read in
//! `step_read.rs`, described to editors in `step_schema.rs`).

use schemars::JsonSchema;
use serde::Deserialize;

use super::{Assertion, DurationText, Entries, Name, Node, Spanned, Text};
use crate::kind::Kind;
use crate::source::Pos;

/// One step of a client, a phase, a loop or a group.
#[derive(Debug, Clone)]
pub struct Step {
    /// Where the step's first key stands.
    pub at: Pos,
    /// The name in reports and in `counts`; defaults to the kind and its subject (`call heartbeat`).
    pub name: Option<Text>,
    /// Assertions on the step's result.
    pub expect: Option<Spanned<Vec<Assertion>>>,
    /// Values to capture into variables: a JSONPath into the result, or a template.
    pub save: Entries<Text>,
    /// Deadline for the whole step.
    pub timeout: Option<DurationText>,
    /// Poll the step until its `expect` holds.
    pub retry: Option<Spanned<Retry>>,
    /// Go on with the next step when this one fails (the run still fails).
    pub continue_on_failure: Option<Spanned<bool>>,
    /// The connection a network step uses, when there is more than one of its kind.
    pub connection: Option<Name>,
    /// The `Mcp-Session-Id` an MCP step sends instead of its connection's session (e.g. one
    /// the server never issued); the connection's own session is left as it is.
    pub session_id: Option<Text>,
    /// What the step does; `at` is the kind key's position.
    pub kind: Spanned<StepKind>,
}

/// What a step does.
#[derive(Debug, Clone)]
pub enum StepKind {
    /// MCP `initialize` + `notifications/initialized`.
    Initialize(InitializeStep),
    /// MCP `tools/call`.
    Call {
        tool: Text,
        arguments: Option<Spanned<Node>>,
    },
    /// Any MCP request.
    Request {
        method: Text,
        params: Option<Spanned<Node>>,
    },
    /// An MCP notification.
    Notify {
        method: Text,
        params: Option<Spanned<Node>>,
    },
    /// HTTP DELETE of the MCP session.
    Close,
    /// Drop the session without telling the server (a crash).
    Forget,
    /// A plain HTTP request.
    Http(HttpStep),
    /// A SQL query; values are bound as parameters, never spliced into the text.
    Sql {
        /// The query, as the database sees it (no templates).
        query: Spanned<String>,
        /// The values for `$1`, `$2`, … (or `?` in SQLite).
        params: Vec<Spanned<Node>>,
    },
    /// Sleep.
    Wait(DurationText),
    /// Run the nested steps in a loop.
    Repeat {
        /// How long and how often.
        repeat: Repeat,
        steps: Spanned<Vec<Step>>,
    },
    /// Wait until every client instance that names this barrier arrives.
    Barrier(Name),
    /// Assign variables.
    Set(Entries<Spanned<Node>>),
    /// A pure assertion on variables: `check: "{{ a == b }}"`.
    Check(Text),
    /// A named block of steps.
    Group { name: Name, steps: Spanned<Vec<Step>> },
}

impl StepKind {
    pub fn kind(&self) -> Kind {
        match self {
            StepKind::Initialize(_) => Kind::Initialize,
            StepKind::Call { .. } => Kind::Call,
            StepKind::Request { .. } => Kind::Request,
            StepKind::Notify { .. } => Kind::Notify,
            StepKind::Close => Kind::Close,
            StepKind::Forget => Kind::Forget,
            StepKind::Http(_) => Kind::Http,
            StepKind::Sql { .. } => Kind::Sql,
            StepKind::Wait(_) => Kind::Wait,
            StepKind::Repeat { .. } => Kind::Repeat,
            StepKind::Barrier(_) => Kind::Barrier,
            StepKind::Set(_) => Kind::Set,
            StepKind::Check(_) => Kind::Check,
            StepKind::Group { .. } => Kind::Group,
        }
    }
}

/// Settings of an `initialize` step; all optional (`initialize: {}`).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InitializeStep {
    /// Overrides the connection's `client_info` for this handshake.
    pub client_info: Option<super::ClientInfo>,
    /// Overrides the connection's `capabilities`.
    pub capabilities: Option<Spanned<Node>>,
}

/// A plain HTTP request.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpStep {
    /// `GET` (default), `POST`, `PUT`, `PATCH`, `DELETE`, `HEAD` or `OPTIONS`.
    pub method: Option<Spanned<String>>,
    /// A path appended to the connection's `base_url`.
    pub path: Option<Text>,
    /// A full URL (instead of `path`).
    pub url: Option<Text>,
    /// Extra headers.
    #[serde(default)]
    pub headers: Entries<Text>,
    /// Query parameters.
    #[serde(default)]
    pub query: Entries<Spanned<Node>>,
    /// A JSON body.
    pub json: Option<Spanned<Node>>,
    /// A raw body.
    pub body: Option<Text>,
}

/// How a `repeat` loop runs: at least one of `times` and `for`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Repeat {
    /// How many iterations.
    pub times: Option<super::Count>,
    /// For how long.
    #[serde(rename = "for")]
    pub for_: Option<DurationText>,
    /// Start an iteration at this fixed rate (open loop; lateness is recorded).
    pub every: Option<DurationText>,
}

/// Poll a step until its expectations hold.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Retry {
    /// Give up after this long.
    pub within: DurationText,
    /// Pause between attempts; default `1s`.
    pub every: Option<DurationText>,
}
