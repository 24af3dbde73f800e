//! The lab's MCP tools. rmcp builds one handler per session.

use std::borrow::Cow;
use std::time::Duration;

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, ContentBlock, Implementation, ProtocolVersion, ServerCapabilities, ServerConfig};
use rmcp::schemars;
use rmcp::{ServerHandler, tool, tool_handler, tool_router};
use serde::Deserialize;
use serde_json::json;

/// Longest `sleep` the lab grants, so a scenario cannot park a session worker for hours.
const MAX_SLEEP: Duration = Duration::from_secs(300);

/// The tool handler of one session.
#[derive(Clone)]
pub struct Tools {
    /// The lab's idle timeout, which `heartbeat` reports.
    session_timeout: Duration,
    tool_router: ToolRouter<Tools>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct EchoArgs {
    /// The text to send back.
    text: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct SleepArgs {
    /// How long to sleep, in milliseconds (at most 300000).
    ms: u64,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct FailArgs {
    /// The error message of the failed result.
    message: String,
}

#[tool_router]
impl Tools {
    /// A handler for a lab whose sessions expire after `session_timeout` of silence.
    pub fn new(session_timeout: Duration) -> Self {
        Self {
            session_timeout,
            tool_router: Self::tool_router(),
        }
    }

    #[tool(description = "Reports that the server is up")]
    async fn health_check(&self) -> CallToolResult {
        CallToolResult::success(vec![ContentBlock::text(json!({ "status": "ok" }).to_string())])
    }

    #[tool(description = "Keeps the session alive; reports the server time and the idle timeout")]
    async fn heartbeat(&self) -> CallToolResult {
        let timeout_seconds = match self.session_timeout.subsec_nanos() {
            0 => json!(self.session_timeout.as_secs()),
            _ => json!(self.session_timeout.as_secs_f64()),
        };
        CallToolResult::structured(json!({
            "success": true,
            "message": "alive",
            "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "timeout_seconds": timeout_seconds,
        }))
    }

    #[tool(description = "Sends the text back")]
    async fn echo(&self, Parameters(EchoArgs { text }): Parameters<EchoArgs>) -> CallToolResult {
        CallToolResult::success(vec![ContentBlock::text(text)])
    }

    #[tool(description = "Sleeps for `ms` milliseconds (at most 300000), then answers")]
    async fn sleep(&self, Parameters(SleepArgs { ms }): Parameters<SleepArgs>) -> CallToolResult {
        let slept = Duration::from_millis(ms).min(MAX_SLEEP);
        tokio::time::sleep(slept).await;
        CallToolResult::success(vec![ContentBlock::text(format!("slept {}ms", slept.as_millis()))])
    }

    #[tool(description = "Fails with the given message (a tool result with isError: true)")]
    async fn fail(&self, Parameters(FailArgs { message }): Parameters<FailArgs>) -> CallToolResult {
        CallToolResult::error(vec![ContentBlock::text(message)])
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Tools {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("runner-lab", env!("CARGO_PKG_VERSION")))
            .with_instructions("The runner's reference MCP server: session lifecycle recorded in its database.")
    }

    /// The revisions with an `initialize` handshake and sessions, which the lab exists to test.
    fn supported_protocol_versions(&self) -> Cow<'static, [ProtocolVersion]> {
        Cow::Borrowed(ProtocolVersion::known_up_to(&ProtocolVersion::V_2025_11_25))
    }
}
