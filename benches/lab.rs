//! Benchmark: the lab (`runner lab`, in-process) under load from the runner's own MCP client, on
//! its SQLite store (a temp file) and on PostgreSQL (`DATABASE_URL`, else
//! `postgres://postgres@127.0.0.1:5432/test`, in a schema of its own, dropped at the end).
//!
//! `cargo bench --bench lab` (1,000 sessions), `cargo bench --bench lab -- 2000`, or one store
//! only: `cargo bench --bench lab -- 2000 postgres`. Each store runs in a process of its own.
//!
//! Per store it measures:
//!
//! 1. **Concurrent sessions**: N sessions opened (initialize, then one `echo`) by 50 client tasks
//!    at a time and all kept open; the time to open them, then whether all are live at once
//!    (`GET /health`'s `live_sessions`, `GET /api/mcp/sessions/health`'s `active`, and a `ping`
//!    on every one). The lab shares this process, so its memory is not separable: the figure is
//!    this process's RSS growth (lab and client; the client's part is a few hundred bytes per
//!    session) and peak-RSS growth, per session. On SQLite it also holds the store's page cache
//!    (little: the two stores' figures are within a few KiB per session). The sessions are then
//!    closed with DELETE.
//! 2. **Tool calls per second**: C sessions (C = 1, 10, 50), each calling `echo` in a closed loop
//!    for 3 s; total calls, calls/s, and the client-side p50/p99 latency of a call.
//!
//! The lab writes every handshake and request to its store before it answers, so these figures
//! include the store's cost; the SQLite and PostgreSQL lines differ by it. Client and lab share
//! the machine's cores. All load is on 127.0.0.1; every loop is bounded in count and time.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use runner::count::thousands;
use runner::lab::{Lab, Settings};
use runner::proto::mcp::{Answer, Failure, McpClient, Settings as McpSettings};
use serde_json::{Value, json};

/// The stores, each benchmarked in a process of its own.
const STORES: [&str; 2] = ["sqlite", "postgres"];
/// Client tasks opening (and closing) the sessions of the first figure.
const OPENERS: usize = 50;
/// How long the opening of the first figure may take in all.
const OPEN_DEADLINE: Duration = Duration::from_secs(300);
/// Concurrent sessions of the second figure.
const CALLERS: [usize; 3] = [1, 10, 50];
/// How long each session of the second figure calls `echo`.
const CALL_TIME: Duration = Duration::from_secs(3);
/// A bound on one session's calls in that time, far above what it can make.
const MAX_CALLS: u64 = 10_000_000;
/// Bounds one exchange.
const EXCHANGE: Duration = Duration::from_secs(30);

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let sessions: u64 = args.iter().find_map(|a| a.parse().ok()).unwrap_or(1_000);
    let Some(store) = args.iter().find(|a| STORES.contains(&a.as_str())) else {
        // Each store in a process of its own, so that neither inherits the other's memory.
        for store in STORES {
            let status = std::process::Command::new(std::env::current_exe().expect("this benchmark's path"))
                .arg(sessions.to_string())
                .arg(store)
                .status()
                .expect("the benchmark runs");
            assert!(status.success(), "{store}: {status}");
        }
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        if store == "sqlite" {
            let dir = tempfile::tempdir().expect("a temp dir");
            let url = format!("sqlite://{}", dir.path().join("lab.db").display());
            backend("sqlite", &url, sessions).await;
        } else {
            let schema = Schema::create().await;
            backend("postgres", &schema.url, sessions).await;
        }
    });
}

/// Both figures on one store, from a fresh lab to its shutdown.
async fn backend(name: &str, database: &str, sessions: u64) {
    let lab = Lab::start(Settings {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        // Long enough that no session of the run expires.
        session_timeout: Duration::from_secs(3600),
        cleanup_interval: Duration::from_secs(60),
        database: database.to_string(),
        max_sessions: None,
        header_read_timeout: runner::lab::HEADER_READ_TIMEOUT,
    })
    .await
    .unwrap_or_else(|e| panic!("{name}: the lab does not start: {e}"));
    let failures = Failures::default();
    let mut opened_total = 0;

    // 1. Concurrent sessions.
    reset_peak();
    let (rss_before, peak_before) = memory();
    let started = Instant::now();
    let held = open_all(&lab, sessions, &failures).await;
    let open_time = started.elapsed();
    let (rss_after, peak_after) = memory();
    let opened: usize = held.iter().map(Vec::len).sum();
    opened_total += opened;
    let rss = rss_after.saturating_sub(rss_before);
    println!(
        "{name}: {} sessions open at once (opened in {:.2} s, {}/s), RSS +{} MiB ({} KiB per session), peak RSS +{} MiB",
        thousands(opened as u64),
        open_time.as_secs_f64(),
        thousands((opened as f64 / open_time.as_secs_f64()) as u64),
        rss / 1024,
        rss / (opened.max(1) as u64),
        peak_after.saturating_sub(peak_before) / 1024,
    );
    let live = lab_live(&lab).await;
    let active = store_active(&lab).await;
    let (held, pinged) = ping_all(held, &failures).await;
    println!(
        "{name}: all live at once: live_sessions {live}, store active {active}, {}/{} answered a ping after all were open",
        thousands(pinged),
        thousands(opened as u64),
    );
    let started = Instant::now();
    let closed = close_all(held, &failures).await;
    let close_time = started.elapsed();
    println!(
        "{name}: closed {}/{} with DELETE in {:.2} s ({}/s), live_sessions then {}",
        thousands(closed),
        thousands(opened as u64),
        close_time.as_secs_f64(),
        thousands((closed as f64 / close_time.as_secs_f64()) as u64),
        lab_live(&lab).await,
    );

    // 2. Tool calls per second.
    for callers in CALLERS {
        let run = calls(&lab, callers, &failures).await;
        opened_total += run.sessions;
        println!(
            "{name}: echo, {callers} session{}: {} calls in {:.1} s = {} calls/s, p50 {:.2} ms, p99 {:.2} ms",
            if callers == 1 { "" } else { "s" },
            thousands(run.calls),
            run.elapsed.as_secs_f64(),
            thousands((run.calls as f64 / run.elapsed.as_secs_f64()) as u64),
            run.latency.value_at_quantile(0.50) as f64 / 1000.0,
            run.latency.value_at_quantile(0.99) as f64 / 1000.0,
        );
    }

    let breakdown = sessions_health(&lab).await["status_breakdown"].clone();
    let ended = lab
        .shutdown()
        .await
        .unwrap_or_else(|e| panic!("{name}: the lab's shutdown: {e}"));
    println!(
        "{name}: shut down ({ended} sessions still active ended as server_shutdown); store: {} sessions, {} disconnected, {} active (client opened {}); failures: {}",
        breakdown["total"],
        breakdown["disconnected"],
        breakdown["active"],
        opened_total,
        failures.summary(),
    );
}

/// Opens up to `sessions` sessions from `OPENERS` tasks, each owning a connection and the
/// clients of its sessions; returns every task's open sessions.
async fn open_all(lab: &Lab, sessions: u64, failures: &Failures) -> Vec<Vec<McpClient>> {
    let next = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + OPEN_DEADLINE;
    let mut tasks = Vec::new();
    for _ in 0..OPENERS {
        let (next, failures, url) = (next.clone(), failures.clone(), lab.mcp_url());
        tasks.push(tokio::spawn(async move {
            let mut held = Vec::new();
            while Instant::now() < deadline {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= sessions {
                    break;
                }
                let mut mcp = client(&url);
                if !initialize(&mut mcp, &failures).await {
                    continue;
                }
                if echo(&mut mcp, &format!("session {i}"), &failures).await {
                    held.push(mcp);
                }
            }
            held
        }));
    }
    let mut held = Vec::new();
    for task in tasks {
        held.push(task.await.expect("an opener"));
    }
    held
}

/// A `ping` on every held session, a task per group; how many answered.
async fn ping_all(held: Vec<Vec<McpClient>>, failures: &Failures) -> (Vec<Vec<McpClient>>, u64) {
    let mut tasks = Vec::new();
    for mut group in held {
        let failures = failures.clone();
        tasks.push(tokio::spawn(async move {
            let mut answered = 0;
            for mcp in &mut group {
                match mcp.request("ping", None).await {
                    Ok(answer) if answer.status == 200 && answer.result.is_some() => answered += 1,
                    other => failures.note("ping", &other),
                }
            }
            (group, answered)
        }));
    }
    let mut groups = Vec::new();
    let mut answered = 0;
    for task in tasks {
        let (group, n) = task.await.expect("a pinger");
        groups.push(group);
        answered += n;
    }
    (groups, answered)
}

/// DELETEs every held session, a task per group; how many got a 2xx.
async fn close_all(held: Vec<Vec<McpClient>>, failures: &Failures) -> u64 {
    let mut tasks = Vec::new();
    for mut group in held {
        let failures = failures.clone();
        tasks.push(tokio::spawn(async move {
            let mut closed = 0;
            for mcp in &mut group {
                closed += u64::from(close(mcp, &failures).await);
            }
            closed
        }));
    }
    let mut closed = 0;
    for task in tasks {
        closed += task.await.expect("a closer");
    }
    closed
}

/// One run of the second figure.
struct Calls {
    sessions: usize,
    calls: u64,
    elapsed: Duration,
    /// Microseconds.
    latency: Histogram<u64>,
}

/// `callers` sessions, each with its own connection, calling `echo` in a closed loop for
/// `CALL_TIME`; the sessions are opened before and closed after the timed part.
async fn calls(lab: &Lab, callers: usize, failures: &Failures) -> Calls {
    let mut sessions = Vec::new();
    for _ in 0..callers {
        let mut mcp = client(&lab.mcp_url());
        if initialize(&mut mcp, failures).await {
            sessions.push(mcp);
        }
    }
    let opened = sessions.len();
    let go = Arc::new(tokio::sync::Barrier::new(opened + 1));
    let mut tasks = Vec::new();
    for (n, mut mcp) in sessions.into_iter().enumerate() {
        let (go, failures) = (go.clone(), failures.clone());
        tasks.push(tokio::spawn(async move {
            let mut latency = histogram();
            let mut calls = 0;
            go.wait().await;
            let deadline = Instant::now() + CALL_TIME;
            for attempt in 0..MAX_CALLS {
                if Instant::now() >= deadline {
                    break;
                }
                let text = format!("{n}:{attempt}");
                let started = Instant::now();
                let ok = echo(&mut mcp, &text, &failures).await;
                let micros = started.elapsed().as_micros() as u64;
                if !ok {
                    continue;
                }
                latency.saturating_record(micros);
                calls += 1;
            }
            (mcp, calls, latency)
        }));
    }
    go.wait().await;
    let started = Instant::now();
    let mut done = Vec::new();
    for task in tasks {
        done.push(task.await.expect("a caller"));
    }
    let elapsed = started.elapsed();
    let mut latency = histogram();
    let mut total = 0;
    for (mut mcp, calls, own) in done {
        latency.add(own).expect("same bounds");
        total += calls;
        close(&mut mcp, failures).await;
    }
    Calls {
        sessions: opened,
        calls: total,
        elapsed,
        latency,
    }
}

/// 1 µs to 60 s, three significant digits.
fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid bounds")
}

fn http() -> reqwest::Client {
    runner::proto::http::client(Duration::from_secs(5)).expect("an HTTP client")
}

/// A client with a connection of its own, as the runner's clients have.
fn client(url: &str) -> McpClient {
    McpClient::new(McpSettings {
        url: url.to_string(),
        headers: Vec::new(),
        connect_timeout: Duration::from_secs(5),
        timeout: EXCHANGE,
        idle_timeout: EXCHANGE,
        max_answer: runner::plan::MAX_ANSWER,
    })
}

/// The handshake; true when a session was opened.
async fn initialize(mcp: &mut McpClient, failures: &Failures) -> bool {
    let answer = mcp
        .initialize("2025-11-25", json!({}), json!({"name": "bench-lab", "version": "1"}))
        .await;
    match answer {
        Ok(answer) if answer.status == 200 && answer.result.is_some() && mcp.session_id().is_some() => true,
        other => {
            failures.note("initialize", &other);
            false
        }
    }
}

/// One `echo`; true when it answered with the text.
async fn echo(mcp: &mut McpClient, text: &str, failures: &Failures) -> bool {
    let answer = mcp
        .request("tools/call", Some(json!({"name": "echo", "arguments": {"text": text}})))
        .await;
    match answer {
        Ok(answer)
            if answer.status == 200
                && answer.result.as_ref().is_some_and(|r| {
                    r["content"][0]["text"] == text && r.get("isError") != Some(&Value::Bool(true))
                }) =>
        {
            true
        }
        other => {
            failures.note("echo", &other);
            false
        }
    }
}

/// DELETE; true on a 2xx.
async fn close(mcp: &mut McpClient, failures: &Failures) -> bool {
    match mcp.close().await {
        Ok(answer) if (200..300).contains(&answer.status) => true,
        other => {
            failures.note("DELETE", &other);
            false
        }
    }
}

/// What went wrong, by step and kind, across a store's run.
#[derive(Clone, Default)]
struct Failures(Arc<Mutex<BTreeMap<String, u64>>>);

impl Failures {
    fn note(&self, step: &str, outcome: &Result<Answer, Failure>) {
        let kind = match outcome {
            Ok(answer) if answer.error.is_some() => format!("{step}: status {} with a JSON-RPC error", answer.status),
            Ok(answer) if (200..300).contains(&answer.status) => format!("{step}: unexpected answer"),
            Ok(answer) => format!("{step}: status {}", answer.status),
            Err(failure) => format!("{step}: {failure}"),
        };
        let mut map = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // The first answer of a kind, on stderr, so it can be looked at.
        if !map.contains_key(&kind) {
            eprintln!("{kind}: {outcome:?}");
        }
        *map.entry(kind).or_default() += 1;
    }

    fn summary(&self) -> String {
        let map = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.is_empty() {
            return "none".into();
        }
        map.iter()
            .map(|(kind, n)| format!("{n} × {kind}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// `GET /health`'s `live_sessions`.
async fn lab_live(lab: &Lab) -> Value {
    get(&format!("http://{}/health", lab.addr())).await["live_sessions"].clone()
}

/// `GET /api/mcp/sessions/health`'s `status_breakdown.active`.
async fn store_active(lab: &Lab) -> Value {
    sessions_health(lab).await["status_breakdown"]["active"].clone()
}

async fn sessions_health(lab: &Lab) -> Value {
    get(&format!("{}/sessions/health", lab.api_url())).await
}

async fn get(url: &str) -> Value {
    let response = http()
        .get(url)
        .timeout(EXCHANGE)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    assert!(response.status().is_success(), "GET {url}: {}", response.status());
    response.json().await.unwrap_or_else(|e| panic!("GET {url}: {e}"))
}

/// This process's resident and peak resident memory, in KiB.
fn memory() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Resets the peak (VmHWM) to the current RSS (Linux ≥ 4.0); best effort.
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// A PostgreSQL schema of the benchmark's own, dropped (with its tables) when dropped.
struct Schema {
    name: String,
    base: String,
    url: String,
}

impl Schema {
    /// `runner_bench_<uuid>` in `DATABASE_URL`'s database, else the local test server's.
    async fn create() -> Self {
        let base = std::env::var("DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let name = format!("runner_bench_{}", uuid::Uuid::new_v4().simple());
        pg_execute(&base, &format!("CREATE SCHEMA {name}"))
            .await
            .unwrap_or_else(|e| panic!("this benchmark needs PostgreSQL (set DATABASE_URL): CREATE SCHEMA: {e}"));
        // `-c search_path=NAME`, URL-encoded: every connection the lab opens uses the schema.
        let separator = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{separator}options=-csearch_path%3D{name}");
        Self { name, base, url }
    }
}

impl Drop for Schema {
    /// On a thread with a runtime of its own: this may run inside the benchmark's runtime.
    fn drop(&mut self) {
        let (base, sql) = (
            self.base.clone(),
            format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name),
        );
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(pg_execute(&base, &sql))
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop schema {}: {dropped:?}", self.name);
        }
    }
}

/// Runs `sql` on a connection of its own, within 30 s.
async fn pg_execute(url: &str, sql: &str) -> Result<(), String> {
    let work = async {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .map_err(|e| e.to_string())?;
        let connection = tokio::spawn(connection);
        let done = client.batch_execute(sql).await.map_err(|e| e.to_string());
        drop(client);
        let _ = connection.await;
        done
    };
    tokio::time::timeout(Duration::from_secs(30), work)
        .await
        .map_err(|_| "timed out after 30 s".to_string())?
}
