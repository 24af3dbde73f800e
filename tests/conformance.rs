//! The MCP conformance pack (`scenarios/mcp/`) through the real binary, against the lab.

mod support;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use serde_json::Value;
use support::binary::console;

/// The pack's scenarios, one file each, named as their files.
const PACK: [&str; 8] = [
    "delete-then-404",
    "expiry-race",
    "idle-expiry",
    "missing-session-400",
    "no-crossed-answers",
    "second-initialize",
    "unknown-session-404",
    "vanishing-clients",
];

fn pack() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/mcp")
}

async fn runner(args: &[&str], cwd: &Path) -> Output {
    support::binary::runner(args, cwd, Duration::from_secs(120)).await
}

fn report(out: &Path, scenario: &str) -> Value {
    let path = out.join(scenario).join("report.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

#[test]
fn the_pack_is_one_file_per_scenario() {
    let mut files: Vec<String> = std::fs::read_dir(pack())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".yaml") && !name.ends_with(".vars.yaml"))
        .collect();
    files.sort();
    let expected: Vec<String> = PACK.iter().map(|name| format!("{name}.yaml")).collect();
    assert_eq!(files, expected);
}

#[tokio::test]
async fn the_pack_passes_in_parallel_against_the_lab() {
    let dir = tempfile::tempdir().unwrap();
    let (scenarios, vars, out) = (pack(), pack().join("quick.vars.yaml"), dir.path().join("out"));
    let args = [
        "run",
        scenarios.to_str().unwrap(),
        "--lab",
        "--vars",
        vars.to_str().unwrap(),
        "--parallel",
        "--out",
        out.to_str().unwrap(),
        "--progress",
        "never",
    ];
    let output = runner(&args, dir.path()).await;
    assert_eq!(output.status.code(), Some(0), "{}", console(&output));
    for scenario in PACK {
        let report = report(&out, scenario);
        assert_eq!(report["status"], "passed", "{scenario}: {}", console(&output));
        assert!(
            report["assertions_run"].as_u64().unwrap() > 0,
            "{scenario} checked something"
        );
    }
}

/// `runner lab` on a free loopback port, until the returned child is dropped.
async fn lab(cwd: &Path, args: &[&str]) -> (tokio::process::Child, String) {
    let support::lab_process::LabProcess {
        child,
        mut lines,
        listen,
    } = support::lab_process::LabProcess::start(cwd, args).await;
    // Keep reading: the lab prints more, and a closed pipe would end it.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, format!("http://{listen}/mcp"))
}

#[tokio::test]
async fn the_expiry_scenarios_fail_against_a_server_that_keeps_idle_sessions() {
    // The pack believes the quick timeout (a couple of seconds); this server keeps idle
    // sessions for 30s, as one that ignores its timeout would within the test's time.
    let dir = tempfile::tempdir().unwrap();
    let (_lab, mcp_url) = lab(dir.path(), &["--session-timeout", "30s", "--cleanup-interval", "1s"]).await;
    let vars = pack().join("quick.vars.yaml");
    let (idle, vanishing) = (pack().join("idle-expiry.yaml"), pack().join("vanishing-clients.yaml"));
    let set_url = format!("mcp_url={mcp_url}");
    let args = [
        "run",
        idle.to_str().unwrap(),
        vanishing.to_str().unwrap(),
        "--vars",
        vars.to_str().unwrap(),
        "--set",
        &set_url,
        "--parallel",
        "--out",
        "out",
        "--progress",
        "never",
    ];
    let output = runner(&args, dir.path()).await;
    assert_eq!(output.status.code(), Some(1), "{}", console(&output));
    let out = dir.path().join("out");
    for (scenario, step) in [
        ("idle-expiry", "the expired session gets 404"),
        ("vanishing-clients", "the abandoned session gets 404"),
    ] {
        let report = report(&out, scenario);
        assert_eq!(report["status"], "failed", "{scenario}");
        let error = report["clients"][0]["error"].as_str().unwrap_or_default();
        assert!(
            error.contains(step) && error.contains("expected 404, found 200"),
            "{scenario}: {error}"
        );
    }
}
