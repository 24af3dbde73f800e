//! Compiled steps: the step graph.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{AssertionPlan, ClientInfoPlan, DurationPlan, Resolved, Save, Template, ValuePlan};
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

/// What a step does. Network steps name their connection.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Action {
    /// MCP handshake.
    Initialize {
        /// The MCP connection.
        connection: String,
        /// Overrides the connection's `client_info`.
        client_info: Option<ClientInfoPlan>,
        /// Overrides the connection's capabilities.
        capabilities: Option<ValuePlan>,
    },
    /// `tools/call`.
    Call {
        /// The MCP connection.
        connection: String,
        /// The tool name.
        tool: ValuePlan,
        /// Its arguments (`{}` when none).
        arguments: ValuePlan,
        /// The `Mcp-Session-Id` sent instead of the connection's session.
        #[serde(skip_serializing_if = "Option::is_none")]
        session_id: Option<ValuePlan>,
    },
    /// Any JSON-RPC request.
    Request {
        /// The MCP connection.
        connection: String,
        /// The method.
        method: ValuePlan,
        /// The params, when any.
        params: Option<ValuePlan>,
        /// The `Mcp-Session-Id` sent instead of the connection's session.
        #[serde(skip_serializing_if = "Option::is_none")]
        session_id: Option<ValuePlan>,
    },
    /// A JSON-RPC notification.
    Notify {
        /// The MCP connection.
        connection: String,
        /// The method.
        method: ValuePlan,
        /// The params, when any.
        params: Option<ValuePlan>,
        /// The `Mcp-Session-Id` sent instead of the connection's session.
        #[serde(skip_serializing_if = "Option::is_none")]
        session_id: Option<ValuePlan>,
    },
    /// DELETE the session.
    Close {
        /// The MCP connection.
        connection: String,
        /// The `Mcp-Session-Id` sent instead of the connection's session.
        #[serde(skip_serializing_if = "Option::is_none")]
        session_id: Option<ValuePlan>,
    },
    /// Drop the session silently.
    Forget {
        /// The MCP connection.
        connection: String,
    },
    /// A plain HTTP request.
    Http {
        /// The HTTP connection, when the step uses a `path`.
        connection: Option<String>,
        /// The method, upper case.
        method: String,
        /// A full URL, or a path on the connection's base URL.
        target: ValuePlan,
        /// True when `target` is a path.
        is_path: bool,
        /// Extra headers.
        headers: Vec<(String, ValuePlan)>,
        /// Query parameters.
        query: Vec<(String, ValuePlan)>,
        /// The body.
        body: Body,
    },
    /// A SQL query.
    Sql {
        /// The SQL connection.
        connection: String,
        /// The query text, sent as written.
        query: super::SqlQuery,
        /// Bound parameters.
        params: Vec<ValuePlan>,
    },
    /// Sleep.
    Wait {
        /// How long.
        duration: DurationPlan,
    },
    /// A loop.
    Repeat {
        /// How long and how often.
        #[serde(flatten)]
        repeat: RepeatPlan,
        /// The body.
        steps: Vec<StepPlan>,
    },
    /// Wait for the other parties.
    Barrier {
        /// The barrier's name (see [`super::Plan::barriers`]).
        barrier: String,
    },
    /// Assign variables.
    Set {
        /// Names and values, in order.
        vars: Vec<(String, ValuePlan)>,
    },
    /// An assertion on variables.
    Check {
        /// The predicate.
        that: Template,
    },
    /// A named block.
    Group {
        /// The block.
        steps: Vec<StepPlan>,
    },
}

impl StepPlan {
    /// The steps inside a `group` or `repeat`.
    pub fn nested(&self) -> &[StepPlan] {
        match &self.action {
            Action::Group { steps } | Action::Repeat { steps, .. } => steps,
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
    /// The session id an MCP step sends instead of its connection's (`session_id:`).
    pub fn chosen_session(&self) -> Option<&ValuePlan> {
        match self {
            Action::Call { session_id, .. }
            | Action::Request { session_id, .. }
            | Action::Notify { session_id, .. }
            | Action::Close { session_id, .. } => session_id.as_ref(),
            _ => None,
        }
    }

    /// The kind key, as written in the file.
    pub fn key(&self) -> &'static str {
        match self {
            Action::Initialize { .. } => "initialize",
            Action::Call { .. } => "call",
            Action::Request { .. } => "request",
            Action::Notify { .. } => "notify",
            Action::Close { .. } => "close",
            Action::Forget { .. } => "forget",
            Action::Http { .. } => "http",
            Action::Sql { .. } => "sql",
            Action::Wait { .. } => "wait",
            Action::Repeat { .. } => "repeat",
            Action::Barrier { .. } => "barrier",
            Action::Set { .. } => "set",
            Action::Check { .. } => "check",
            Action::Group { .. } => "group",
        }
    }

    /// True for the steps that speak MCP.
    pub fn is_mcp(&self) -> bool {
        matches!(
            self,
            Action::Initialize { .. }
                | Action::Call { .. }
                | Action::Request { .. }
                | Action::Notify { .. }
                | Action::Close { .. }
                | Action::Forget { .. }
        )
    }

    /// True for the steps that enforce their deadline themselves: a barrier releases its
    /// waiters with a reason, and a query past its deadline is cancelled on the server.
    pub fn keeps_own_deadline(&self) -> bool {
        matches!(self, Action::Barrier { .. } | Action::Sql { .. })
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
