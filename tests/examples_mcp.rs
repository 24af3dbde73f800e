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
