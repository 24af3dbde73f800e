//! Named endpoints that steps talk to.

use schemars::JsonSchema;
use serde::Deserialize;

use super::{DurationText, Entries, Node, Spanned, Text};
use crate::mcp_options::{OnExpired, ProtocolVersion};

/// One named endpoint. Exactly one kind key: `mcp`, `http` or `sql`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Connection {
    /// An MCP server over Streamable HTTP.
    Mcp(McpConnection),
    /// A plain HTTP API.
    Http(HttpConnection),
    /// A database: `postgres://…` or `sqlite://PATH`.
    Sql(SqlConnection),
}

impl Connection {
    /// The kind key, as written in the file.
    pub fn kind(&self) -> &'static str {
        match self {
            Connection::Mcp(_) => "mcp",
            Connection::Http(_) => "http",
            Connection::Sql(_) => "sql",
        }
    }
}

/// How the client names itself in `initialize`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientInfo {
    /// `clientInfo.name`; default `runner`.
    pub name: Option<Text>,
    /// `clientInfo.version`; default the runner's version.
    pub version: Option<Text>,
}

/// An MCP server over Streamable HTTP.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct McpConnection {
    /// The MCP endpoint, e.g. `http://127.0.0.1:8051/mcp`.
    pub url: Text,
    /// The protocol version sent in `initialize`; default `2025-11-25`.
    pub protocol_version: Option<Spanned<ProtocolVersion>>,
    /// Headers sent on every request (e.g. `Authorization`); their values are masked in outputs.
    #[serde(default)]
    pub headers: Entries<Text>,
    /// What to do on a 404 for a known session: `fail` (default) or `reinitialize`.
    #[serde(default)]
    pub on_expired: OnExpired,
    /// How the client names itself; templated, so each client can name itself.
    pub client_info: Option<ClientInfo>,
    /// Capabilities sent in `initialize`; default `{}`.
    pub capabilities: Option<Spanned<Node>>,
    /// Deadline for opening a connection; default `5s`.
    pub connect_timeout: Option<DurationText>,
    /// Deadline for a whole request when the step sets none; default `30s`.
    pub timeout: Option<DurationText>,
    /// Deadline between two reads of an SSE stream; default `30s`.
    pub idle_timeout: Option<DurationText>,
    /// The largest answer read, SSE events before it included (`16MiB`, `64KiB`, `1GB`);
    /// default `16MiB`. A larger one fails the step.
    pub max_answer: Option<Spanned<String>>,
}

/// A plain HTTP API.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpConnection {
    /// The URL that a step's `path` is appended to.
    pub base_url: Text,
    /// Headers sent on every request; their values are masked in outputs.
    #[serde(default)]
    pub headers: Entries<Text>,
    /// Deadline for opening a connection; default `5s`.
    pub connect_timeout: Option<DurationText>,
    /// Deadline for a whole request when the step sets none; default `30s`.
    pub timeout: Option<DurationText>,
    /// The largest answer body read (`16MiB`, `64KiB`, `1GB`); default `16MiB`. A larger one
    /// fails the step.
    pub max_answer: Option<Spanned<String>>,
}

/// A database.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SqlConnection {
    /// `postgres://user:password@host:port/db` or `sqlite://PATH`; the password is masked.
    pub url: Text,
    /// How many connections all clients share; default 4.
    pub pool_size: Option<Spanned<u32>>,
    /// Deadline for opening a connection; default `5s`.
    pub connect_timeout: Option<DurationText>,
    /// Deadline for a query when the step sets none; default `30s`.
    pub timeout: Option<DurationText>,
}
