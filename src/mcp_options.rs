//! The two choices of an `mcp` connection that the executor acts on: which protocol revision
//! it speaks and what a lost session does. The scenario language parses them, the plan carries
//! them and the executor reads them; they live below all three (like [`crate::source::Pos`]),
//! so that plan and exec need no copy of spec's.
//!
//! The doc comments of the variants are the schema's descriptions (`runner schema`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// An MCP protocol revision with sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, JsonSchema, Serialize)]
pub enum ProtocolVersion {
    /// The first Streamable HTTP revision.
    #[serde(rename = "2025-03-26")]
    V2025_03_26,
    /// Adds the `MCP-Protocol-Version` header.
    #[serde(rename = "2025-06-18")]
    V2025_06_18,
    /// The last revision with sessions; the default.
    #[default]
    #[serde(rename = "2025-11-25")]
    V2025_11_25,
}

impl ProtocolVersion {
    /// The version as it goes on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ProtocolVersion::V2025_03_26 => "2025-03-26",
            ProtocolVersion::V2025_06_18 => "2025-06-18",
            ProtocolVersion::V2025_11_25 => "2025-11-25",
        }
    }
}

/// What a client does when the server says its session is gone (404).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, JsonSchema, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OnExpired {
    /// Fail the step (the default).
    #[default]
    Fail,
    /// Start a new session, count it, and send the request once more.
    Reinitialize,
}
