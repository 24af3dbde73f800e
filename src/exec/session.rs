//! A client's MCP sessions: one wire client per connection, and what templates see of them
//! (`session_id`, `session_ids`, `protocol_version`, `server_info`).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;
use tokio::time::Instant;

use crate::proto::mcp::McpClient;

/// What a handshake agreed on.
#[derive(Debug, Clone)]
pub struct Opened {
    /// The session id, if the server gave one.
    pub id: Option<String>,
    /// The negotiated version.
    pub protocol_version: Option<String>,
    /// `serverInfo`.
    pub server_info: Option<Value>,
}

impl Opened {
    /// What a wire client holds after its handshake.
    pub fn of(client: &McpClient) -> Self {
        Self {
            id: client.session_id().map(str::to_string),
            protocol_version: client.protocol_version().map(str::to_string),
            server_info: client.server_info().cloned(),
        }
    }
}

/// How one connection's session was last opened, to open it again after it expired.
#[derive(Debug, Clone)]
pub struct Handshake {
    /// `protocolVersion` sent.
    pub protocol_version: String,
    /// `capabilities` sent.
    pub capabilities: Value,
    /// `clientInfo` sent.
    pub client_info: Value,
}

/// One MCP connection of a client.
pub struct Connection {
    /// The wire client (its own connection pool).
    pub client: McpClient,
    /// The last handshake, if any.
    pub handshake: Option<Handshake>,
    /// While its session counts as active in the scenario's metrics: when it was last answered.
    pub active: Option<Instant>,
    /// Its last session's number in the scenario's timeline, kept after the session ended: the
    /// client still sends its id until it opens another.
    pub lane: Option<u64>,
}

/// Every MCP connection of a client, and the session history.
#[derive(Default)]
pub struct Sessions {
    /// Boxed: a map node holds room for eleven entries, and a connection is a few hundred bytes,
    /// which 10,000 idle clients would each pay for (4 KB apiece) with one connection in use.
    pub by_connection: BTreeMap<Arc<str>, Box<Connection>>,
    /// The session of the most recent `initialize`, on any connection. It keeps naming that
    /// session after `close` or `forget`, so later steps can look up what became of it.
    pub current: Option<String>,
    /// Every session id this client held, in order.
    pub ids: Vec<String>,
    /// The version the server agreed to in the most recent `initialize`.
    pub protocol_version: Option<String>,
    /// `serverInfo` of the most recent `initialize`.
    pub server_info: Option<Value>,
    /// How many times a session was opened again after it expired (`on_expired: reinitialize`).
    pub reinitialized: u64,
}

impl Sessions {
    /// Records a successful handshake.
    pub fn opened(&mut self, session: Opened) {
        if let Some(id) = &session.id {
            self.ids.push(id.clone());
        }
        self.current = session.id;
        self.protocol_version = session.protocol_version;
        self.server_info = session.server_info;
    }

    /// The names templates see, once an `initialize` has run.
    pub fn scope(&self) -> Vec<(&'static str, Value)> {
        if self.ids.is_empty() && self.protocol_version.is_none() {
            return Vec::new();
        }
        vec![
            ("session_id", self.current.clone().map_or(Value::Null, Value::String)),
            ("session_ids", Value::from(self.ids.clone())),
            (
                "protocol_version",
                self.protocol_version.clone().map_or(Value::Null, Value::String),
            ),
            ("server_info", self.server_info.clone().unwrap_or(Value::Null)),
        ]
    }
}
