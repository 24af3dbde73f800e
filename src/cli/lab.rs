//! `runner lab`: the reference MCP server in the foreground until SIGINT or SIGTERM.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Args;

use super::{EXIT_FAILED, EXIT_INVALID, print};
use crate::duration_text::format_duration;
use crate::lab::{Lab, Settings};
use crate::mask::mask_url;

/// The lab's settings on the command line.
#[derive(Debug, Args)]
pub struct LabArgs {
    /// Address to listen on (loopback unless you say otherwise).
    #[arg(long, default_value = "127.0.0.1:8051")]
    listen: SocketAddr,
    /// Idle time after which a session is ended (`timeout_no_activity`).
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = duration)]
    session_timeout: Duration,
    /// How often idle sessions are looked for.
    #[arg(long, value_name = "DURATION", default_value = "1m", value_parser = duration)]
    cleanup_interval: Duration,
    /// The store: `postgres://…`, or `sqlite://PATH` (created if missing).
    #[arg(long, value_name = "URL", default_value = "sqlite://runner-lab.db")]
    database: String,
    /// Refuse `initialize` with 503 while this many sessions are live.
    #[arg(long, value_name = "N")]
    max_sessions: Option<usize>,
    /// Close a connection that sends no whole request head for this long.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = duration)]
    header_read_timeout: Duration,
}

/// A duration as scenarios write them (`5m`, `90s`, `1m30s`), more than zero.
fn duration(text: &str) -> Result<Duration, String> {
    match crate::plan::parse_duration(text) {
        Ok(d) if d.is_zero() => Err("must be more than 0".into()),
        Ok(d) => Ok(d),
        Err(e) => Err(e.message),
    }
}

/// Runs the lab until a signal; the exit code.
pub fn lab(args: LabArgs) -> u8 {
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return EXIT_FAILED;
        }
    };
    runtime.block_on(serve(args))
}

async fn serve(args: LabArgs) -> u8 {
    let settings = Settings {
        listen: args.listen,
        session_timeout: args.session_timeout,
        cleanup_interval: args.cleanup_interval,
        database: args.database,
        max_sessions: args.max_sessions,
        header_read_timeout: args.header_read_timeout,
    };
    let lab = match Lab::start(settings.clone()).await {
        Ok(lab) => lab,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_INVALID;
        }
    };
    // `print`, not `println!`: a reader that goes away (`runner lab | head -1`) must not kill
    // the lab.
    print(&format!("{}\n", banner(&lab, &settings)));
    if lab.recovered() > 0 {
        print(&format!(
            "lab: {} session(s) an earlier run left active were ended as server_shutdown\n",
            lab.recovered()
        ));
    }
    stopped().await;
    match lab.shutdown().await {
        Ok(ended) => print(&format!(
            "lab: stopped; {ended} active session(s) ended as server_shutdown\n"
        )),
        Err(e) => {
            eprintln!("error: the lab stopped, but its store could not record it: {e}");
            EXIT_FAILED
        }
    }
}

/// What the lab prints on start: where everything is.
fn banner(lab: &Lab, settings: &Settings) -> String {
    let limit = settings
        .max_sessions
        .map_or(String::new(), |n| format!(", at most {n} live sessions"));
    format!(
        "lab: MCP      {}\nlab: API      {}  (/sessions/health, /sessions, /sessions/{{id}}; /health)\nlab: store    {} {}\nlab: sessions end after {} idle, checked every {}{limit}\nlab: Ctrl-C to stop",
        lab.mcp_url(),
        lab.api_url(),
        lab.store_kind(),
        mask_url(lab.database_url()),
        format_duration(settings.session_timeout),
        format_duration(settings.cleanup_interval),
    )
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
async fn stopped() {
    #[cfg(unix)]
    {
        let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) else {
            let _ = tokio::signal::ctrl_c().await;
            return;
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}
