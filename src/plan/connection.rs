//! Compiled connections.

use std::sync::Arc;
use std::time::Duration;

use serde::{Serialize, Serializer};

use super::ValuePlan;
use super::humantime_serde_compat;
use crate::mcp_options::{OnExpired, ProtocolVersion};

/// A named endpoint.
#[derive(Debug, Clone, Serialize)]
pub struct ConnectionPlan {
    /// The key under `connections:`.
    pub name: String,
    /// What it connects to.
    #[serde(flatten)]
    pub kind: ConnectionKind,
}

/// The kind of endpoint; the same settings its steps' handles point to.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionKind {
    Mcp(Arc<McpConnectionPlan>),
    Http(Arc<HttpConnectionPlan>),
    Sql(Arc<SqlConnectionPlan>),
}

/// A step's connection, resolved by the compiler to settings of the kind the step needs, so
/// that the executor neither looks it up nor checks its kind. It serializes as its name.
#[derive(Debug)]
pub struct Conn<P> {
    pub name: Arc<str>,
    pub plan: Arc<P>,
}

pub type McpConn = Conn<McpConnectionPlan>;
pub type HttpConn = Conn<HttpConnectionPlan>;
pub type SqlConn = Conn<SqlConnectionPlan>;

// Derived `Clone` would ask `P: Clone`; a handle clones its pointers only.
impl<P> Clone for Conn<P> {
    fn clone(&self) -> Self {
        Self {
            name: self.name.clone(),
            plan: self.plan.clone(),
        }
    }
}

impl<P> Serialize for Conn<P> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.name)
    }
}

impl<P> std::fmt::Display for Conn<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)
    }
}

impl ConnectionKind {
    /// The kind key, as written in the file.
    pub fn key(&self) -> &'static str {
        match self {
            ConnectionKind::Mcp(_) => "mcp",
            ConnectionKind::Http(_) => "http",
            ConnectionKind::Sql(_) => "sql",
        }
    }
}

/// `max_answer` when a connection sets none (and of an `http` step without one): far more than
/// any sane MCP or API answer, far less than what an endless stream takes before the machine
/// runs out of memory.
pub const MAX_ANSWER: u64 = 16 * 1024 * 1024;

/// An MCP server over Streamable HTTP.
#[derive(Debug, Clone, Serialize)]
pub struct McpConnectionPlan {
    pub url: ValuePlan,
    /// The version sent in `initialize`.
    pub protocol_version: ProtocolVersion,
    /// Headers on every request.
    pub headers: Vec<(String, ValuePlan)>,
    /// What a 404 on a known session does.
    pub on_expired: OnExpired,
    /// How the client names itself.
    pub client_info: ClientInfoPlan,
    /// The capabilities sent in `initialize`.
    pub capabilities: ValuePlan,
    /// Deadline for opening a connection.
    #[serde(with = "humantime_serde_compat")]
    pub connect_timeout: Duration,
    /// Deadline for a request.
    #[serde(with = "humantime_serde_compat")]
    pub timeout: Duration,
    /// Deadline between two reads of an SSE stream.
    #[serde(with = "humantime_serde_compat")]
    pub idle_timeout: Duration,
    /// Bytes: the largest answer read.
    pub max_answer: u64,
}

/// `clientInfo` of `initialize`; `None` fields take the defaults (`runner`, its version).
#[derive(Debug, Clone, Default, Serialize)]
pub struct ClientInfoPlan {
    /// `clientInfo.name`.
    pub name: Option<ValuePlan>,
    /// `clientInfo.version`.
    pub version: Option<ValuePlan>,
}

/// An HTTP API.
#[derive(Debug, Clone, Serialize)]
pub struct HttpConnectionPlan {
    /// Paths are appended to it.
    pub base_url: ValuePlan,
    /// Headers on every request.
    pub headers: Vec<(String, ValuePlan)>,
    /// Deadline for opening a connection.
    #[serde(with = "humantime_serde_compat")]
    pub connect_timeout: Duration,
    /// Deadline for a request.
    #[serde(with = "humantime_serde_compat")]
    pub timeout: Duration,
    /// Bytes: the largest answer body read.
    pub max_answer: u64,
}

/// A database.
#[derive(Debug, Clone, Serialize)]
pub struct SqlConnectionPlan {
    /// `postgres://…` or `sqlite://PATH`.
    pub url: ValuePlan,
    /// Connections shared by all clients.
    pub pool_size: u32,
    /// Deadline for opening a connection.
    #[serde(with = "humantime_serde_compat")]
    pub connect_timeout: Duration,
    /// Deadline for a query.
    #[serde(with = "humantime_serde_compat")]
    pub timeout: Duration,
}
