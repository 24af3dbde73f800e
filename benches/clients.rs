//! Benchmark: many client instances, each a `wait` and 10 `http` GETs against a local axum
//! server. Reports the total time and the runner's peak memory (from `/usr/bin/time -v`).
//!
//! `cargo bench --bench clients` (10,000 clients × 10 GETs), or
//! `cargo bench --bench clients -- CLIENTS GETS`.

use std::io::Write;
use std::process::Command;
use std::time::Instant;

use axum::Router;
use axum::routing::get;

fn main() {
    let numbers: Vec<u64> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let clients = numbers.first().copied().unwrap_or(10_000);
    let gets = numbers.get(1).copied().unwrap_or(10);
    let addr = start_server();
    let dir = tempfile::tempdir().expect("a temp dir");
    let scenario = dir.path().join("load.yaml");
    let mut file = std::fs::File::create(&scenario).expect("the scenario file");
    write!(
        file,
        "name: load\nvars:\n  base: http://{addr}\nconnections:\n  api: {{ http: {{ base_url: \"{{{{ vars.base }}}}\" }} }}\nclients:\n  load:\n    count: {clients}\n    steps:\n      - wait: 100ms\n      - repeat: {{ times: {gets} }}\n        steps:\n          - http: {{ path: /ok }}\n            expect:\n              - $.status: 200\n"
    )
    .expect("written");
    let out = dir.path().join("out");
    let started = Instant::now();
    let output = Command::new("/usr/bin/time")
        .arg("-v")
        .arg(env!("CARGO_BIN_EXE_runner"))
        .arg("run")
        .arg(&scenario)
        .arg("--out")
        .arg(&out)
        .arg("--progress")
        .arg("never")
        .output()
        .expect("/usr/bin/time runs the runner");
    let elapsed = started.elapsed();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let peak_kb: u64 = stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("Maximum resident set size (kbytes): "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    print!("{stdout}");
    println!(
        "clients: {clients}, requests: {}, exit: {:?}, total: {:.2}s, peak RSS: {:.1} MiB ({:.1} KiB per client)",
        clients * gets,
        output.status.code(),
        elapsed.as_secs_f64(),
        peak_kb as f64 / 1024.0,
        peak_kb as f64 / clients as f64
    );
    assert_eq!(output.status.code(), Some(0), "{stderr}");
}

/// An axum server on one worker thread of its own, answering `GET /ok` with a small JSON.
fn start_server() -> std::net::SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async move {
            let app = Router::new().route("/ok", get(|| async { axum::Json(serde_json::json!({ "ok": true })) }));
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
            tx.send(listener.local_addr().expect("an address")).expect("sent");
            axum::serve(listener, app).await.expect("serving");
        });
    });
    rx.recv().expect("the server's address")
}
