//! Every `examples/http-*.yaml` runs green, end to end: the real binary against the test server's
//! copy of the lab's HTTP side (`GET /health`, `GET /api/mcp/sessions/health`,
//! `GET /api/mcp/sessions`).

mod support;

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;
use support::binary::console;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The `examples/http-*.yaml` files, sorted.
fn http_examples() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("examples"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            let name = path.file_name().unwrap().to_string_lossy();
            name.starts_with("http-") && name.ends_with(".yaml")
        })
        .collect();
    files.sort();
    files
}

fn json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every client instance the example declares: (group, count), from `runner plan --format json`.
fn groups(file: &Path) -> Vec<(String, u64)> {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_runner"))
        .args(["plan", "--format", "json"])
        .arg(file)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}: {}", file.display(), console(&output));
    let plan: Value = serde_json::from_slice(&output.stdout).unwrap();
    plan["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["name"].as_str().unwrap().to_string(), g["count"].as_u64().unwrap()))
        .collect()
}

/// Runs one example against the server; the results go to `out`.
async fn run(file: &Path, addr: std::net::SocketAddr, out: &Path) -> Output {
    support::binary::run_file(file, &[format!("api_url=http://{addr}")], out, Path::new(".")).await
}

#[tokio::test]
async fn every_http_example_runs_green() {
    let examples = http_examples();
    assert!(examples.len() >= 3, "{examples:?}");
    for file in examples {
        let addr = support::start().await;
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let output = run(&file, addr, &out).await;
        let shown = file.display();
        let text = console(&output);
        assert_eq!(output.status.code(), Some(0), "{shown}:\n{text}");
        assert!(text.contains("passed"), "{shown}:\n{text}");

        let groups = groups(&file);
        assert!(!groups.is_empty(), "{shown}: no client groups");
        for (group, count) in groups {
            for id in 1..=count {
                let path = out.join(format!("client_{id}_{group}.json"));
                let client = json(&path);
                assert_eq!(client["success"], true, "{}: {client:#}", path.display());
            }
        }
        let report = json(&out.join("report.json"));
        assert_eq!(report["status"], "passed", "{shown}: {report:#}");
        assert!(out.join("transcript.jsonl").is_file(), "{shown}: no transcript");
    }
}
