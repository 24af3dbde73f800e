//! A real MCP server, built on `rmcp`, for the runner's end-to-end tests: Streamable HTTP at `/mcp`
//! on a free loopback port, with stateful sessions (`Mcp-Session-Id`) and protocol versions up to
//! 2025-11-25 (the last revision with an `initialize` handshake and sessions).
//!
//! What rmcp 3.11 does on the wire, as used by these tests:
//! - Every answer to a request is SSE: first a priming event (`id: 0`, `retry: 3000`, empty
//!   `data:`), then the JSON-RPC response. `json_response` only applies to rmcp's stateless mode,
//!   so [`McpOptions::json_response`] is accepted and ignored.
//! - A notification gets `202 Accepted` with no body.
//! - `DELETE` with a session ID gets `202 Accepted`, even for an unknown ID; the session is gone at once.
//! - An unknown, deleted or expired session ID gets `404` with the plain-text body
//!   `Not Found: Session not found`.
//! - [`McpOptions::session_idle`] is the session worker's idle timer, re-armed by every session event
//!   (client messages, handler output, streams opening and closing). When it fires the worker
//!   quits and the session is removed, so the next request with that ID gets 404.
//! - An unknown tool is the JSON-RPC error `-32602` "tool not found" (inside a 200 SSE answer).

use std::borrow::Cow;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, ContentBlock, Implementation, ProtocolVersion, ServerCapabilities, ServerConfig};
use rmcp::schemars;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ServerHandler, tool, tool_handler, tool_router};
use serde::Deserialize;
use serde_json::json;

/// How the test MCP server behaves.
#[derive(Debug, Clone, Default)]
pub struct McpOptions {
    /// rmcp's session idle timeout (`SessionConfig::keep_alive`); `None` means sessions never expire.
    pub session_idle: Option<Duration>,
    /// Answer with `application/json` instead of SSE. rmcp 3.11 honours this only in its stateless
    /// mode; with sessions it always answers with SSE, so this flag currently has no effect.
    pub json_response: bool,
}

/// A running test MCP server.
#[derive(Clone)]
pub struct McpServer {
    /// The server's address; the endpoint is `http://{addr}/mcp`.
    pub addr: SocketAddr,
    sessions: Arc<LocalSessionManager>,
}

impl McpServer {
    /// The endpoint URL, `http://{addr}/mcp`.
    pub fn url(&self) -> String {
        format!("http://{}/mcp", self.addr)
    }

    /// How many sessions rmcp holds right now (created and not yet deleted or expired).
    pub async fn live_sessions(&self) -> usize {
        self.sessions.sessions.read().await.len()
    }
}

/// Starts the MCP server on `127.0.0.1:0` in the background and returns its address; the MCP
/// endpoint is `/mcp`.
pub async fn start_mcp(options: McpOptions) -> SocketAddr {
    start_mcp_server(options).await.addr
}

/// Like [`start_mcp`], but also gives access to the live session count.
pub async fn start_mcp_server(options: McpOptions) -> McpServer {
    let mut manager = LocalSessionManager::default();
    manager.session_config.keep_alive = options.session_idle;
    let sessions = Arc::new(manager);

    let config = StreamableHttpServerConfig::default()
        .with_allowed_hosts(["localhost", "127.0.0.1", "::1"])
        .with_json_response(options.json_response);
    let idle = options.session_idle;
    let service = StreamableHttpService::new(move || Ok(Lab::new(idle)), sessions.clone(), config);

    let app = axum::Router::new().nest_service("/mcp", service);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // Without TCP_NODELAY, rmcp's two SSE writes per answer (a priming event, then the answer)
    // meet the client's delayed ACK: every call would take ~40 ms.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        let _ = tcp.set_nodelay(true);
    });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    McpServer { addr, sessions }
}

/// The tool handler; rmcp builds one per session.
#[derive(Clone)]
struct Lab {
    idle: Option<Duration>,
    tool_router: ToolRouter<Lab>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct EchoArgs {
    /// The text to send back.
    text: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct SleepArgs {
    /// How long to sleep, in milliseconds.
    ms: u64,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct FailArgs {
    /// The error message of the failed result.
    message: String,
}

#[tool_router]
impl Lab {
    fn new(idle: Option<Duration>) -> Self {
        Self {
            idle,
            tool_router: Self::tool_router(),
        }
    }

    #[tool(description = "Reports that the server is up")]
    async fn health_check(&self) -> CallToolResult {
        CallToolResult::success(vec![ContentBlock::text(json!({ "status": "ok" }).to_string())])
    }

    #[tool(description = "Keeps the session alive and reports the idle timeout")]
    async fn heartbeat(&self) -> CallToolResult {
        let timeout_seconds = match self.idle {
            None => json!(0),
            Some(idle) if idle.subsec_nanos() == 0 => json!(idle.as_secs()),
            Some(idle) => json!(idle.as_secs_f64()),
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

    #[tool(description = "Sleeps for `ms` milliseconds, then answers")]
    async fn sleep(&self, Parameters(SleepArgs { ms }): Parameters<SleepArgs>) -> CallToolResult {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        CallToolResult::success(vec![ContentBlock::text(format!("slept {ms}ms"))])
    }

    #[tool(description = "Fails with the given message (a tool result with isError: true)")]
    async fn fail(&self, Parameters(FailArgs { message }): Parameters<FailArgs>) -> CallToolResult {
        CallToolResult::error(vec![ContentBlock::text(message)])
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Lab {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("runner-test-mcp", "0.1.0"))
            .with_instructions("Test MCP server of the runner's end-to-end tests.")
    }

    /// Only the revisions with an `initialize` handshake and sessions.
    fn supported_protocol_versions(&self) -> Cow<'static, [ProtocolVersion]> {
        Cow::Borrowed(ProtocolVersion::known_up_to(&ProtocolVersion::V_2025_11_25))
    }
}
