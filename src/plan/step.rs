//! Compiled steps: the step graph.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{
    AssertionPlan, ClientInfoPlan, DurationPlan, HttpConn, McpConn, Resolved, Save, SqlConn, Template, ValuePlan,
};
use crate::kind::Kind;
use crate::source::Pos;

/// One step, ready to run.
#[derive(Debug, Clone, Serialize)]
pub struct StepPlan {
    /// The name in reports and the key in `counts`.
    pub name: String,
    /// Where the step stands in the file.
    pub at: Pos,
    /// What it does.
    pub action: Action,
    /// Assertions on its result.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub expect: Vec<AssertionPlan>,
    /// Captures into variables.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub save: Vec<Save>,
    /// Deadline for the whole step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<DurationPlan>,
    /// Polling until `expect` holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry: Option<RetryPlan>,
    /// A failure does not stop the client.
    pub continue_on_failure: bool,
}

/// What a step does: one variant per [`Kind`], each with its own settings. Network steps hold
/// their connection, resolved by the compiler.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Action {
    Initialize(Initialize),
    Call(Call),
    Request(Request),
    Notify(Notify),
    Close(Close),
    Forget(Forget),
    Http(Http),
    Sql(Sql),
    Wait(Wait),
    Repeat(Repeat),
    Barrier(Barrier),
    Set(Set),
    Check(Check),
    Group(Group),
}

/// MCP handshake.
#[derive(Debug, Clone, Serialize)]
pub struct Initialize {
    pub connection: McpConn,
    /// Overrides the connection's `client_info`.
    pub client_info: Option<ClientInfoPlan>,
    /// Overrides the connection's capabilities.
    pub capabilities: Option<ValuePlan>,
}

/// `tools/call`.
#[derive(Debug, Clone, Serialize)]
pub struct Call {
    pub connection: McpConn,
    pub tool: ValuePlan,
    /// `{}` when the step gives none.
    pub arguments: ValuePlan,
    /// The `Mcp-Session-Id` sent instead of the connection's session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<ValuePlan>,
}

/// Any JSON-RPC request.
#[derive(Debug, Clone, Serialize)]
pub struct Request {
    #[serde(flatten)]
    pub message: Message,
}

/// A JSON-RPC notification.
#[derive(Debug, Clone, Serialize)]
pub struct Notify {
    #[serde(flatten)]
    pub message: Message,
}

/// What `request` and `notify` send.
#[derive(Debug, Clone, Serialize)]
pub struct Message {
    pub connection: McpConn,
    pub method: ValuePlan,
    pub params: Option<ValuePlan>,
    /// The `Mcp-Session-Id` sent instead of the connection's session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<ValuePlan>,
}

/// DELETE the session.
#[derive(Debug, Clone, Serialize)]
pub struct Close {
    pub connection: McpConn,
    /// The `Mcp-Session-Id` sent instead of the connection's session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<ValuePlan>,
}

/// Drop the session silently.
#[derive(Debug, Clone, Serialize)]
pub struct Forget {
    pub connection: McpConn,
}

/// A plain HTTP request.
#[derive(Debug, Clone, Serialize)]
pub struct Http {
    /// The connection, when the step uses a `path` (or names one beside a full `url`).
    pub connection: Option<HttpConn>,
    /// Upper case.
    pub method: String,
    /// A full URL, or a path on the connection's base URL.
    pub target: ValuePlan,
    /// True when `target` is a path.
    pub is_path: bool,
    pub headers: Vec<(String, ValuePlan)>,
    pub query: Vec<(String, ValuePlan)>,
    pub body: Body,
}

/// A SQL query.
#[derive(Debug, Clone, Serialize)]
pub struct Sql {
    pub connection: SqlConn,
    /// Sent as written.
    pub query: super::SqlQuery,
    /// Bound to `$1`, `$2`, …
    pub params: Vec<ValuePlan>,
}

/// Sleep.
#[derive(Debug, Clone, Serialize)]
pub struct Wait {
    pub duration: DurationPlan,
}

/// A loop.
#[derive(Debug, Clone, Serialize)]
pub struct Repeat {
    #[serde(flatten)]
    pub repeat: RepeatPlan,
    pub steps: Vec<StepPlan>,
}

/// Wait for the other parties.
#[derive(Debug, Clone, Serialize)]
pub struct Barrier {
    /// See [`super::Plan::barriers`].
    pub barrier: String,
}

/// Assign variables.
#[derive(Debug, Clone, Serialize)]
pub struct Set {
    /// In order: a value may read the ones before it.
    pub vars: Vec<(String, ValuePlan)>,
}

/// An assertion on variables.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub that: Template,
}

/// A named block.
#[derive(Debug, Clone, Serialize)]
pub struct Group {
    pub steps: Vec<StepPlan>,
}

impl StepPlan {
    /// The steps inside a `group` or `repeat`.
    pub fn nested(&self) -> &[StepPlan] {
        match &self.action {
            Action::Group(Group { steps }) | Action::Repeat(Repeat { steps, .. }) => steps,
            _ => &[],
        }
    }
}

/// Every step name in `steps` and in the steps nested in them, each with a count of 0: what
/// `counts` holds before any of them has succeeded.
pub fn zero_counts<'a>(steps: impl IntoIterator<Item = &'a StepPlan>) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    let mut pending: Vec<&StepPlan> = steps.into_iter().collect();
    while let Some(step) = pending.pop() {
        counts.entry(step.name.clone()).or_insert(0);
        pending.extend(step.nested());
    }
    counts
}

impl Action {
    pub fn kind(&self) -> Kind {
        match self {
            Action::Initialize(_) => Kind::Initialize,
            Action::Call(_) => Kind::Call,
            Action::Request(_) => Kind::Request,
            Action::Notify(_) => Kind::Notify,
            Action::Close(_) => Kind::Close,
            Action::Forget(_) => Kind::Forget,
            Action::Http(_) => Kind::Http,
            Action::Sql(_) => Kind::Sql,
            Action::Wait(_) => Kind::Wait,
            Action::Repeat(_) => Kind::Repeat,
            Action::Barrier(_) => Kind::Barrier,
            Action::Set(_) => Kind::Set,
            Action::Check(_) => Kind::Check,
            Action::Group(_) => Kind::Group,
        }
    }

    /// The session id an MCP step sends instead of its connection's (`session_id:`).
    pub fn chosen_session(&self) -> Option<&ValuePlan> {
        match self {
            Action::Call(Call { session_id, .. })
            | Action::Request(Request {
                message: Message { session_id, .. },
            })
            | Action::Notify(Notify {
                message: Message { session_id, .. },
            })
            | Action::Close(Close { session_id, .. }) => session_id.as_ref(),
            _ => None,
        }
    }

    /// The connection of an MCP step.
    pub fn mcp_connection(&self) -> Option<&McpConn> {
        match self {
            Action::Initialize(Initialize { connection, .. })
            | Action::Call(Call { connection, .. })
            | Action::Request(Request {
                message: Message { connection, .. },
            })
            | Action::Notify(Notify {
                message: Message { connection, .. },
            })
            | Action::Close(Close { connection, .. })
            | Action::Forget(Forget { connection }) => Some(connection),
            _ => None,
        }
    }
}

/// A request body.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Body {
    /// No body.
    None,
    /// A JSON body.
    Json(ValuePlan),
    /// Raw text.
    Text(ValuePlan),
}

/// How a loop runs: it ends after `times` iterations or `for` elapsed, whichever comes first.
#[derive(Debug, Clone, Serialize)]
pub struct RepeatPlan {
    /// Iterations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub times: Option<Resolved<u64>>,
    /// Total time.
    #[serde(rename = "for", skip_serializing_if = "Option::is_none")]
    pub for_: Option<DurationPlan>,
    /// Fixed rate of iteration starts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub every: Option<DurationPlan>,
}

/// Polling a step until its assertions hold.
#[derive(Debug, Clone, Serialize)]
pub struct RetryPlan {
    /// Give up after this long.
    pub within: DurationPlan,
    /// Pause between attempts.
    pub every: DurationPlan,
}
