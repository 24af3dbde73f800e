//! Benchmark: the cost of one MCP `call` through the runner, against the lab (the project's
//! reference MCP server, built on `rmcp`, recording each request in an in-memory SQLite store).
//! One client makes N sequential `echo` calls; the figure is wall time per call and the runner's
//! own latency percentiles for the step.
//!
//! `cargo bench --bench mcp_calls` (2,000 calls), or `cargo bench --bench mcp_calls -- 5000`.

mod support;

use std::time::Duration;

use runner::lab::{Lab, Settings};

fn main() {
    let calls: u64 = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(2_000);
    let addr = start_server();
    let dir = tempfile::tempdir().expect("a temp dir");
    let scenario = dir.path().join("calls.yaml");
    std::fs::write(
        &scenario,
        format!(
            "name: calls\nconnections:\n  server: {{ mcp: {{ url: \"http://{addr}/mcp\" }} }}\nclients:\n  one:\n    steps:\n      - initialize: {{}}\n      - repeat: {{ times: {calls} }}\n        steps:\n          - call: echo\n            arguments: {{ text: \"call {{{{ iteration }}}}\" }}\n            expect:\n              - $.result.content[0].text: \"call {{{{ iteration }}}}\"\n"
        ),
    )
    .expect("the scenario file");
    let (elapsed, report) = support::run(&scenario, &dir.path().join("out"));
    let echo = &report["latency"]["echo"];
    println!(
        "calls: {calls}, wall: {:.2}s ({:.0} µs per call, process start and handshake included), step latency p50 {:.0} µs, p99 {:.0} µs",
        elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1e6 / calls as f64,
        support::micros(echo, "p50_ms"),
        support::micros(echo, "p99_ms"),
    );
}

/// The lab on a runtime of its own, so it does not share the runner's cores' scheduler; it
/// serves until the benchmark exits.
fn start_server() -> std::net::SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async move {
            let lab = Lab::start(Settings {
                listen: ([127, 0, 0, 1], 0).into(),
                // No session expires during the run.
                session_timeout: Duration::from_secs(3600),
                cleanup_interval: Duration::from_secs(60),
                database: "sqlite://:memory:".into(),
                max_sessions: None,
                header_read_timeout: runner::lab::HEADER_READ_TIMEOUT,
            })
            .await
            .expect("the lab starts");
            tx.send(lab.addr()).expect("sent");
            std::future::pending::<()>().await;
        });
    });
    rx.recv().expect("the server's address")
}
