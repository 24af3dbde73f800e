//! Every MCP example (one per step kind, and the assertion examples) runs green against a real
//! MCP server: the lab, built on `rmcp`.

mod support;

use std::path::PathBuf;
use std::time::Duration;

use support::mcp::{McpOptions, start_mcp};

/// The examples that talk to an MCP server only (no `http` or `sql` steps, and no `lab:` block:
/// those need the built-in lab's own timing).
fn mcp_examples() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let text = std::fs::read_to_string(p).unwrap_or_default();
            text.contains("mcp_url")
                && !text.lines().any(|l| {
                    let trimmed = l.trim_start();
                    trimmed.starts_with("- sql:") || trimmed.starts_with("- http:") || l.starts_with("lab:")
                })
        })
        .collect();
    files.sort();
    files
}

#[tokio::test]
async fn every_mcp_example_passes_against_a_real_server() {
    let files = mcp_examples();
    assert!(files.len() >= 15, "{files:?}");
    // Sessions that expire after five minutes, the lab's default (the heartbeat tool reports
    // the timeout).
    let options = McpOptions {
        session_idle: Some(Duration::from_secs(300)),
    };
    let server = start_mcp(options).await;
    // All at once: each example is its own process with its own sessions.
    let runs = files.iter().map(|file| {
        let out = tempfile::tempdir().unwrap();
        let run = tokio::process::Command::new(env!("CARGO_BIN_EXE_runner"))
            .arg("run")
            .arg(file)
            .arg("--set")
            .arg(format!("mcp_url={}", server.url()))
            .arg("--out")
            .arg(out.path())
            .arg("--progress")
            .arg("never")
            .output();
        async move {
            let output = tokio::time::timeout(Duration::from_secs(60), run)
                .await
                .expect("the example ends")
                .unwrap();
            drop(out);
            (file, output)
        }
    });
    let mut failures = Vec::new();
    for (file, output) in futures_util::future::join_all(runs).await {
        if output.status.code() != Some(0) {
            failures.push(format!(
                "{}: exit {:?}\n{}{}",
                file.display(),
                output.status.code(),
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Runs `examples/load-thresholds.yaml` against the built-in lab with `--set` values; the exit
/// code, what it printed, and its `report.json`.
async fn load_thresholds(sets: &[String]) -> (Option<i32>, String, serde_json::Value) {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/load-thresholds.yaml");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let output = support::binary::run_file_with(&file, sets, &out, dir.path(), &["--lab"]).await;
    let report = std::fs::read_to_string(out.join("report.json")).unwrap();
    let report = serde_json::from_str(&report).unwrap();
    (output.status.code(), support::binary::console(&output), report)
}

#[tokio::test]
async fn load_thresholds_passes_within_its_limits() {
    let (code, text, report) = load_thresholds(&[]).await;
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("  thresholds:\n"), "{text}");
    let thresholds = report["thresholds"].as_array().unwrap();
    let metrics: Vec<_> = thresholds.iter().map(|t| t["metric"].as_str().unwrap()).collect();
    assert_eq!(metrics, ["echo.latency.p99", "echo.errors.rate", "load.failed"]);
    assert!(thresholds.iter().all(|t| t["passed"] == true), "{report:#}");
    assert_eq!(thresholds[0]["limit"], "< 2s");
    assert_eq!(thresholds[0]["unit"], "ms");
    assert_eq!(thresholds[1]["value"], 0.0);
    assert_eq!(report["metrics"]["groups"]["load"]["passed"], 10);
}

#[tokio::test]
async fn load_thresholds_breached_exits_1_with_the_table() {
    let (code, text, report) = load_thresholds(&["p99_limit=1us".into(), "clients=2".into()]).await;
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("load-thresholds: 2/2 passed, FAILED\n  error: threshold `echo.latency.p99` breached: value "),
        "{text}"
    );
    let row = text
        .lines()
        .find(|l| l.trim_start().starts_with("echo.latency.p99"))
        .unwrap();
    assert!(row.contains("< 1us") && row.ends_with("FAILED"), "{text}");
    let rate = text
        .lines()
        .find(|l| l.trim_start().starts_with("echo.errors.rate"))
        .unwrap();
    assert!(rate.ends_with("passed"), "{text}");
    assert_eq!(report["status"], "failed");
    let p99 = &report["thresholds"][0];
    assert_eq!(
        (p99["limit"].as_str(), p99["passed"].as_bool()),
        (Some("< 1us"), Some(false))
    );
    assert!(p99["value"].as_f64().unwrap() > 0.001, "{p99}");
}
