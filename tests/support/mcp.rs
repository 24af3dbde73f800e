//! A real MCP server for the runner's end-to-end tests: the lab (`runner::lab`, docs/lab.md),
//! started in-process on a free loopback port with an in-memory SQLite store. Streamable HTTP at
//! `/mcp`, stateful sessions (`Mcp-Session-Id`), protocol versions up to 2025-11-25 (the last
//! revision with an `initialize` handshake and sessions), and the tools `health_check`,
//! `heartbeat`, `echo`, `sleep` and `fail`.
//!
//! What the lab (rmcp 3.11 underneath) does on the wire, as used by these tests:
//! - Every answer to a request is SSE: first a priming event (`retry: 3000`, empty `data:`; its
//!   `id:` is `0` on `initialize`'s answer, and `0/N` on the session's request stream N, whose
//!   answer is then `1/N`), then the JSON-RPC response. rmcp's `json_response` applies only to
//!   its stateless mode; the lab's sessions are stateful, so there is no JSON answer to ask for.
//! - A notification gets `202 Accepted` with no body.
//! - `DELETE` of a live session gets `200 OK`, as the Python and TypeScript SDKs answer; the
//!   session is gone (and no longer counted live) before the answer. A DELETE of an unknown or
//!   ended id gets `404`.
//! - An unknown, deleted or expired session ID gets `404` with the plain-text body
//!   `Not Found: Session not found`.
//! - Idle expiry is the lab's reaper, not rmcp's idle timer (which the lab turns off): every
//!   `cleanup_interval` it ends the sessions idle for longer than `session_timeout`. An idle
//!   session is therefore found expired between `session_timeout` and
//!   `session_timeout + cleanup_interval` after its last activity (a request, its answer, a
//!   notification); a test waits for it by polling with a bound, not by sleeping a guessed time.
//! - An unknown tool is the JSON-RPC error `-32602` "tool not found" (inside a 200 SSE answer).

use std::net::SocketAddr;
use std::time::Duration;

use runner::lab::{Lab, Settings};

/// The idle timeout when a test asks for none: longer than any test.
const NO_IDLE: Duration = Duration::from_secs(3600);

/// How the test MCP server behaves.
#[derive(Debug, Clone, Copy, Default)]
pub struct McpOptions {
    /// The lab's `session_timeout`; `None` means an hour, so sessions never expire in a test.
    /// The reaper then sweeps every tenth of it (but not more often than every 20 ms), so an
    /// idle session ends between `session_idle` and `session_idle` plus one sweep after its last
    /// activity.
    pub session_idle: Option<Duration>,
}

impl McpOptions {
    /// The lab's settings: loopback on a free port, an in-memory store.
    fn settings(self) -> Settings {
        let (session_timeout, cleanup_interval) = match self.session_idle {
            Some(idle) => (idle, (idle / 10).max(Duration::from_millis(20))),
            None => (NO_IDLE, Duration::from_secs(1)),
        };
        Settings {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            session_timeout,
            cleanup_interval,
            database: "sqlite://:memory:".into(),
            max_sessions: None,
            header_read_timeout: runner::lab::HEADER_READ_TIMEOUT,
        }
    }
}

/// A running lab; keep it for as long as the test talks to it.
pub struct McpServer {
    lab: Lab,
}

impl McpServer {
    /// The server's address.
    pub fn addr(&self) -> SocketAddr {
        self.lab.addr()
    }

    /// The endpoint URL, `http://{addr}/mcp`.
    pub fn url(&self) -> String {
        self.lab.mcp_url()
    }

    /// The lab's HTTP API, `http://{addr}/api/mcp` (`/sessions/{id}` is a session's row).
    pub fn api_url(&self) -> String {
        self.lab.api_url()
    }

    /// Sessions live now: initialized, and not yet deleted or expired.
    pub fn live_sessions(&self) -> usize {
        self.lab.live_sessions()
    }
}

/// Starts the lab in the background on `127.0.0.1:0`.
pub async fn start_mcp(options: McpOptions) -> McpServer {
    let lab = Lab::start(options.settings()).await.expect("the lab starts");
    McpServer { lab }
}
