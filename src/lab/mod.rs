//! The lab: a reference MCP server, built on the official Rust SDK (rmcp), that records every
//! session's life in a database — so that a scenario can run on a fresh machine with no other
//! system, and check what a real server's store says about its sessions.
//!
//! - MCP (Streamable HTTP, stateful sessions) at `/mcp`, with the tools in [`tools`].
//! - rmcp's session manager wrapped ([`sessions`]) so each handshake, request and end is written
//!   to the store before rmcp answers; rmcp's idle timeout off in favour of the [`reaper`], and a
//!   [`gate`] that notes DELETEs and enforces `--max-sessions`; so every end has its reason.
//! - The HTTP API in [`api`]; the store (PostgreSQL or SQLite) in [`store`].
//! - In front of every route the [`host`] check; under it all, [`serve`]'s connections, closed
//!   when silent.

mod api;
mod body;
mod gate;
mod host;
mod reaper;
mod serve;
mod sessions;
pub mod store;
mod tools;
mod tracker;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use sessions::RecordingSessions;
use store::{EndReason, Store, StoreError};
use tracker::Tracker;

/// How long shutdown waits for open connections (SSE streams) to end.
const DRAIN: Duration = Duration::from_secs(5);

/// How long a connection may take to send a request head (on a new connection, or between
/// requests on a kept-alive one) before it is closed: long for any real client, short enough
/// that silent connections cannot pile up.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How the lab runs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where to listen.
    pub listen: SocketAddr,
    /// Idle time after which the reaper ends a session.
    pub session_timeout: Duration,
    /// How often the reaper looks.
    pub cleanup_interval: Duration,
    /// The store: `postgres://…` or `sqlite://PATH`.
    pub database: String,
    /// Beyond this many live sessions, `initialize` gets 503.
    pub max_sessions: Option<usize>,
    /// A connection that sends no whole request head for this long is closed
    /// ([`HEADER_READ_TIMEOUT`] unless a test wants it short).
    pub header_read_timeout: Duration,
}

/// Why the lab could not start.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    /// The store could not be opened.
    #[error("the lab's store: {0}")]
    Store(#[from] StoreError),
    /// The folder of an SQLite store could not be made.
    #[error("cannot make the folder {path} for the lab's store: {source}")]
    StoreFolder {
        /// The folder.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// What the lab's parts share.
pub struct LabState {
    store: Store,
    tracker: Tracker,
    settings: Settings,
}

impl LabState {
    /// Ends a session's row with `reason`.
    async fn end(&self, id: &str, reason: EndReason) {
        if let Err(e) = self.store.session_ended(id, reason, chrono::Utc::now()).await {
            self.warn(format_args!("cannot record the end of session {id}: {e}"));
        }
    }

    /// A problem the lab survives, on stderr.
    fn warn(&self, message: std::fmt::Arguments<'_>) {
        eprintln!("lab: {message}");
    }
}

/// A running lab.
pub struct Lab {
    addr: SocketAddr,
    state: Arc<LabState>,
    recovered: u64,
    stop: CancellationToken,
    server: JoinHandle<()>,
    reaper: JoinHandle<()>,
}

impl Lab {
    /// Opens the store (marking sessions a crashed run left `active` as ended by
    /// `server_shutdown`), binds, and serves in the background.
    pub async fn start(settings: Settings) -> Result<Self, LabError> {
        if let Some(folder) = sqlite_folder(&settings.database) {
            std::fs::create_dir_all(folder).map_err(|source| LabError::StoreFolder {
                path: folder.to_path_buf(),
                source,
            })?;
        }
        let (store, recovered) = Store::open(&settings.database).await?;
        let listener = tokio::net::TcpListener::bind(settings.listen)
            .await
            .map_err(|source| LabError::Listen {
                addr: settings.listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| LabError::Listen {
            addr: settings.listen,
            source,
        })?;
        let state = Arc::new(LabState {
            store,
            tracker: Tracker::default(),
            settings,
        });
        let stop = CancellationToken::new();
        let mut manager = LocalSessionManager::default();
        // The reaper ends idle sessions, so that each end has its reason.
        manager.session_config.keep_alive = None;
        let manager = Arc::new(manager);
        let reaper = tokio::spawn(reaper::run(state.clone(), manager.clone(), stop.clone()));
        let app = router(state.clone(), manager, addr, &stop);
        // rmcp writes each answer as two SSE events; without TCP_NODELAY the second waits for
        // the client's delayed ACK, ~40 ms per call (docs/decisions.md).
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let header_read_timeout = state.settings.header_read_timeout;
        let server = tokio::spawn(serve::serve(listener, app, header_read_timeout, stop.clone()));
        Ok(Self {
            addr,
            state,
            recovered,
            stop,
            server,
            reaper,
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The MCP endpoint.
    pub fn mcp_url(&self) -> String {
        format!("http://{}/mcp", self.addr)
    }

    /// The HTTP API's base (`{api_url}/sessions/health`, …).
    pub fn api_url(&self) -> String {
        format!("http://{}/api/mcp", self.addr)
    }

    /// The store's URL.
    pub fn database_url(&self) -> &str {
        &self.state.settings.database
    }

    /// The store's kind, for the start-up line.
    pub fn store_kind(&self) -> store::Backend {
        self.state.store.backend()
    }

    /// Sessions live now: initialized, and not yet deleted, expired or stopped.
    pub fn live_sessions(&self) -> usize {
        self.state.tracker.live()
    }

    /// Sessions an earlier run left `active`, ended as `server_shutdown` on start.
    pub fn recovered(&self) -> u64 {
        self.recovered
    }

    /// Ends every active session as `server_shutdown` and stops serving; returns how many.
    pub async fn shutdown(self) -> Result<u64, StoreError> {
        // The rows first, then the tracker emptied: stopping makes rmcp close each session,
        // which would otherwise record them again one by one, racing this count and the end of
        // the runtime.
        let ended = self
            .state
            .store
            .end_all_active(EndReason::ServerShutdown, chrono::Utc::now())
            .await;
        self.state.tracker.end_all();
        self.stop.cancel();
        let _ = self.reaper.await;
        if tokio::time::timeout(DRAIN, self.server).await.is_err() {
            eprintln!("lab: connections still open after {}s; closing", DRAIN.as_secs());
        }
        ended
    }
}

/// The folder an `sqlite://PATH` store lives in, when it has one.
fn sqlite_folder(url: &str) -> Option<&std::path::Path> {
    let path = std::path::Path::new(url.strip_prefix("sqlite://")?);
    path.parent().filter(|p| !p.as_os_str().is_empty())
}

/// `/mcp` behind the gate, and the API; all of it behind the Host check.
fn router(
    state: Arc<LabState>,
    manager: Arc<LocalSessionManager>,
    addr: SocketAddr,
    stop: &CancellationToken,
) -> axum::Router {
    let timeout = state.settings.session_timeout;
    let sessions = Arc::new(RecordingSessions::new(manager, state.clone()));
    // rmcp's own Host check guards `/mcp` alone; the lab's guards every route.
    let config = StreamableHttpServerConfig::default()
        .with_cancellation_token(stop.child_token())
        .disable_allowed_hosts()
        .with_max_request_body_bytes(body::MAX_BODY);
    let mcp = StreamableHttpService::new(move || Ok(tools::Tools::new(timeout)), sessions, config);
    let mcp = axum::Router::new()
        .nest_service("/mcp", mcp)
        .layer(axum::middleware::from_fn_with_state(state.clone(), gate::gate));
    let hosts = host::Hosts::for_listen(addr.ip());
    axum::Router::new()
        .merge(mcp)
        .merge(api::routes().with_state(state))
        .layer(axum::middleware::from_fn_with_state(hosts, host::guard))
}
