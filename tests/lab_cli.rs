//! `runner run --lab` and `runner lab` through the real binary.

mod support;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use support::binary::console;
use support::pg::Schema;

fn example(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples").join(name)
}

async fn runner(args: &[&str], cwd: &Path) -> Output {
    support::binary::runner(args, cwd, Duration::from_secs(60)).await
}

/// `runner run ARGS… --progress never`.
async fn run(args: &[&str], cwd: &Path) -> Output {
    let mut all = vec!["run"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--progress", "never"]);
    runner(&all, cwd).await
}

#[tokio::test]
async fn a_scenario_runs_against_the_lab_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let file = example("lab-session.yaml");
    let output = runner(
        &[
            "run",
            file.to_str().unwrap(),
            "--lab",
            "--out",
            "out",
            "--progress",
            "never",
        ],
        dir.path(),
    )
    .await;
    assert_eq!(output.status.code(), Some(0), "{}", console(&output));
    assert!(
        dir.path().join("out/lab.db").exists(),
        "the lab's store is in the results folder"
    );
    assert!(
        console(&output).contains("lab: http://127.0.0.1:"),
        "{}",
        console(&output)
    );
}

#[tokio::test]
async fn a_scenario_runs_against_the_lab_on_postgres() {
    let schema = Schema::create().await;
    let dir = tempfile::tempdir().unwrap();
    let file = example("lab-session.yaml");
    let args = [
        file.to_str().unwrap(),
        "--lab",
        "--lab-database",
        schema.url(),
        "--out",
        "out",
    ];
    let output = run(&args, dir.path()).await;
    assert_eq!(output.status.code(), Some(0), "{}", console(&output));
    let rows = schema.query("SELECT status, disconnect_reason FROM mcp_sessions").await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].get::<_, String>(1), "client_delete");
}

#[tokio::test]
async fn the_lab_block_sets_the_idle_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let file = example("lab-block.yaml");
    let args = [
        file.to_str().unwrap(),
        "--lab",
        "--set",
        "session_timeout=1s",
        "--set",
        "cleanup_interval=200ms",
    ];
    let output = run(&args, dir.path()).await;
    assert_eq!(output.status.code(), Some(0), "{}", console(&output));
}

#[tokio::test]
async fn scenarios_that_want_different_labs_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    for (name, timeout) in [("a", "1m"), ("b", "2m")] {
        std::fs::write(
            dir.path().join(format!("{name}.yaml")),
            format!("name: {name}\nlab: {{ session_timeout: {timeout} }}\nclients:\n  c:\n    steps:\n      - check: \"{{{{ true }}}}\"\n"),
        )
        .unwrap();
    }
    let output = run(&[".", "--lab"], dir.path()).await;
    assert_eq!(output.status.code(), Some(2), "{}", console(&output));
    assert!(
        console(&output).contains("one lab serves the whole run"),
        "{}",
        console(&output)
    );
}

#[cfg(unix)]
#[tokio::test]
async fn the_lab_command_serves_until_sigterm_and_ends_its_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let support::lab_process::LabProcess {
        child: mut lab,
        mut lines,
        listen,
    } = support::lab_process::LabProcess::start(dir.path(), &[]).await;
    let file = example("step-call.yaml");
    let mcp_url = format!("mcp_url=http://{listen}/mcp");
    let run = runner(
        &["run", file.to_str().unwrap(), "--set", &mcp_url, "--progress", "never"],
        dir.path(),
    )
    .await;
    assert_eq!(run.status.code(), Some(0), "{}", console(&run));
    let pid = lab.id().unwrap().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    let status = tokio::time::timeout(Duration::from_secs(30), lab.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success());
    let mut rest = Vec::new();
    while let Some(line) = lines.next_line().await.unwrap() {
        rest.push(line);
    }
    assert!(
        rest.iter()
            .any(|l| l == "lab: stopped; 1 active session(s) ended as server_shutdown"),
        "{rest:?}"
    );
    let db = rusqlite::Connection::open(dir.path().join("runner-lab.db")).unwrap();
    let reason: String = db
        .query_row("SELECT disconnect_reason FROM mcp_sessions", [], |r| r.get(0))
        .unwrap();
    assert_eq!(reason, "server_shutdown");
}

#[tokio::test]
async fn the_quick_lifecycle_suite_passes_in_parallel_against_the_lab() {
    let dir = tempfile::tempdir().unwrap();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let (scenarios, vars) = (root.join("scenarios"), root.join("scenarios/quick.vars.yaml"));
    let args = [
        scenarios.to_str().unwrap(),
        "--lab",
        "--vars",
        vars.to_str().unwrap(),
        "--parallel",
        // The conformance pack under `scenarios/mcp/` has a test of its own.
        "--skip-tag",
        "conformance",
        "--out",
        "out",
    ];
    let output = run(&args, dir.path()).await;
    assert_eq!(output.status.code(), Some(0), "{}", console(&output));
    let console = console(&output);
    for line in [
        "Normal Lifecycle: 5/5 passed",
        "Stale Cleanup: 2/2 passed",
        "Concurrent Clients: 5/5 passed",
        "Reconnection: 3/3 passed",
        "Heartbeat: 1/1 passed",
        "run: 5/5 scenarios passed, 16/16 client runs passed",
    ] {
        assert!(console.contains(line), "{line}: {console}");
    }
    // Each result file carries who it was, its session(s), whether it passed, and what its
    // scenario records.
    for (file, fields) in [
        ("normal-lifecycle/client_5_normal.json", &["session_id"][..]),
        (
            "stale-cleanup/client_2_stale.json",
            &["session_id", "detected_after_ms", "disconnected_at"],
        ),
        ("concurrent-clients/client_5_concurrent.json", &["session_id", "calls"]),
        (
            "reconnection/client_3_reconnection.json",
            &["session1_id", "session2_id"],
        ),
        ("heartbeat/client_1_heartbeat.json", &["session_id", "heartbeats_sent"]),
    ] {
        let path = dir.path().join("out").join(file);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
        let result: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(result["success"], true, "{file}");
        assert!(result["client_id"].is_u64(), "{file}");
        for field in fields {
            assert!(!result[field].is_null(), "{file}: {field} in {result}");
        }
    }
    let stale = std::fs::read_to_string(dir.path().join("out/stale-cleanup/client_1_stale.json")).unwrap();
    let detected: f64 = serde_json::from_str::<serde_json::Value>(&stale).unwrap()["detected_after_ms"]
        .as_f64()
        .unwrap();
    // quick.vars.yaml: a 3s timeout, then a 1s cleanup interval and slack up to 5s.
    assert!((2_000.0..8_000.0).contains(&detected), "detected after {detected} ms");
}

#[tokio::test]
async fn parallel_and_fail_fast_do_not_mix() {
    let dir = tempfile::tempdir().unwrap();
    let output = runner(&["run", ".", "--parallel", "--fail-fast"], dir.path()).await;
    assert_eq!(output.status.code(), Some(2), "{}", console(&output));
    assert!(console(&output).contains("cannot be used with"), "{}", console(&output));
}

#[tokio::test]
async fn the_lab_command_closes_silent_connections_after_its_header_read_timeout() {
    use tokio::io::AsyncReadExt;
    let dir = tempfile::tempdir().unwrap();
    let lab = support::lab_process::LabProcess::start(dir.path(), &["--header-read-timeout", "300ms"]).await;
    let mut silent = tokio::net::TcpStream::connect(&lab.listen).await.unwrap();
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(10), silent.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "a silent connection still open after 10 s");
    let refused = runner(&["lab", "--header-read-timeout", "0s"], dir.path()).await;
    assert_eq!(refused.status.code(), Some(2), "{}", console(&refused));
}

fn report(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("out/report.json")).unwrap()).unwrap()
}

#[tokio::test]
async fn arrivals_start_at_their_rate_against_the_lab() {
    let dir = tempfile::tempdir().unwrap();
    let file = example("load-arrivals.yaml");
    let args = [file.to_str().unwrap(), "--lab", "--out", "out"];
    let sets = ["--set", "rate=200", "--set", "duration=2s"];
    let output = run(&[&args[..], &sets[..]].concat(), dir.path()).await;
    assert_eq!(output.status.code(), Some(0), "{}", console(&output));
    let report = report(dir.path());
    let group = &report["arrivals"][0];
    assert_eq!(group["scheduled"], 400, "{group}");
    assert_eq!(group["started"], 400, "{group}");
    assert_eq!(group["dropped"], 0, "{group}");
    assert_eq!(group["passed"], 400, "{group}");
    assert_eq!(report["summary"]["total"], 400);
    // Every arrival opened its session and closed it; none was left behind.
    let sessions = &report["metrics"]["sessions"];
    assert_eq!(sessions["opened"], 400, "{sessions}");
    assert_eq!(sessions["closed"], 400, "{sessions}");
    assert_eq!(
        (sessions["expired"].as_u64(), sessions["left_open"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(sessions["active"], 0, "{sessions}");
    let arrivals = &report["metrics"]["groups"]["visitors"];
    assert_eq!(
        (arrivals["started"].as_u64(), arrivals["dropped"].as_u64()),
        (Some(400), Some(0))
    );
    let verdicts: Vec<_> = report["thresholds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| &t["passed"])
        .collect();
    assert_eq!(verdicts, [true, true, true], "{}", report["thresholds"]);
    // One file for the group, none per arrival.
    let written: Vec<String> = std::fs::read_dir(dir.path().join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json"))
        .collect();
    assert_eq!(written.len(), 2, "{written:?}");
    assert!(written.contains(&"arrivals_visitors.json".to_string()), "{written:?}");
    // The transcript shows the first arrivals' traffic, not every arrival's.
    let transcript = std::fs::read_to_string(dir.path().join("out/transcript.jsonl")).unwrap();
    let mut shown: Vec<u64> = (transcript.lines())
        .map(|line| {
            serde_json::from_str::<serde_json::Value>(line).unwrap()["client_id"]
                .as_u64()
                .unwrap()
        })
        .collect();
    shown.dedup();
    assert_eq!(shown.iter().max(), Some(&10), "{shown:?}");
    assert!(
        console(&output).contains("visitors: 400 arrivals, 400 started, 0 dropped; 400 passed, 0 failed"),
        "{}",
        console(&output)
    );
}

#[tokio::test]
async fn arrivals_past_max_active_are_dropped_and_said_to_be() {
    let dir = tempfile::tempdir().unwrap();
    let file = example("load-arrivals.yaml");
    let args = [file.to_str().unwrap(), "--lab", "--out", "out"];
    let sets = [
        "--set",
        "tool_ms=500",
        "--set",
        "max_active=20",
        "--set",
        "rate=100",
        "--set",
        "duration=2s",
    ];
    let output = run(&[&args[..], &sets[..]].concat(), dir.path()).await;
    // The drops breach `visitors.dropped: "== 0"`; the slow call stays under its p99 limit.
    assert_eq!(output.status.code(), Some(1), "{}", console(&output));
    let table = console(&output);
    let row = |metric: &str| {
        let found = table.lines().find(|l| l.trim_start().starts_with(metric));
        found.map(|l| l.split_whitespace().last().unwrap_or_default().to_string())
    };
    assert_eq!(row("visitors.dropped").as_deref(), Some("FAILED"), "{table}");
    assert_eq!(row("work.latency.p99").as_deref(), Some("passed"), "{table}");
    let report = report(dir.path());
    let group = &report["arrivals"][0];
    let breached: Vec<_> = (report["thresholds"].as_array().unwrap().iter())
        .filter(|t| t["passed"] == false)
        .map(|t| t["metric"].as_str().unwrap())
        .collect();
    assert_eq!(breached, ["visitors.dropped"], "{}", report["thresholds"]);
    let (started, dropped) = (group["started"].as_u64().unwrap(), group["dropped"].as_u64().unwrap());
    assert_eq!(started + dropped, 200, "{group}");
    // 20 sessions of ~500 ms at a time over 2 s: about 80 start, and never more than 20 at once.
    assert!((60..=100).contains(&started), "{group}");
    assert_eq!(group["peak_active"], 20, "{group}");
    let p50 = report["latency"]["work"]["p50_ms"].as_f64().unwrap();
    assert!((500.0..600.0).contains(&p50), "the slow call's p50 is {p50} ms");
    assert!(
        console(&output).contains(&format!("{dropped} dropped")),
        "{}",
        console(&output)
    );
}

#[tokio::test]
async fn a_plain_progress_shows_the_live_figures_of_a_load() {
    let dir = tempfile::tempdir().unwrap();
    let file = example("load-arrivals.yaml");
    // Stderr is a pipe: plain status lines, the first 5 s after the start line.
    let sets = ["--set", "rate=50", "--set", "duration=6s"];
    let args = [&["run", file.to_str().unwrap(), "--lab", "--out", "out"][..], &sets[..]].concat();
    let output = runner(&args, dir.path()).await;
    assert_eq!(output.status.code(), Some(0), "{}", console(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let status = (stderr.lines())
        .find(|line| line.starts_with("load-arrivals: ") && line.contains(" req/s · "))
        .unwrap_or_else(|| panic!("no status line with live figures:\n{stderr}"));
    assert!(status.contains(" active · "), "{status}");
    // `1 session` or `2 sessions`, as many as are open at that second.
    let sessions = status
        .split(" · ")
        .any(|part| part.ends_with(" session") || part.ends_with(" sessions"));
    assert!(sessions, "{status}");
    assert!(status.contains(" · visitors: target 50/s, achieved "), "{status}");
    assert!(status.contains(" · p99 "), "{status}");
}
