//! Thresholds through the real binary against the lab: they count as checks, a metric with
//! nothing measured fails with no value, and an aborting threshold stops a long run early with
//! the scenario failed, not interrupted, and every result written.

mod support;

use std::path::Path;

use serde_json::Value;
use support::binary::{console, run_file_with};

/// Runs `scenario` with `--lab`; the exit code, the console and `report.json`.
async fn run(scenario: &str) -> (Option<i32>, String, Value, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("scenario.yaml");
    std::fs::write(&file, scenario).unwrap();
    let output = run_file_with(&file, &[], Path::new("out"), dir.path(), &["--lab"]).await;
    let report = json(&dir.path().join("out/report.json"));
    (output.status.code(), console(&output), report, dir)
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

const HEAD: &str = r#"
vars:
  mcp_url: http://127.0.0.1:1/mcp
connections:
  server: { mcp: { url: "{{ vars.mcp_url }}" } }
"#;

#[tokio::test]
async fn thresholds_alone_are_checks_and_a_metric_never_measured_fails() {
    let scenario = format!(
        "name: unchecked calls\n{HEAD}clients:\n  main:\n    steps:\n      - initialize: {{}}\n      - repeat: {{ times: 2 }}\n        steps:\n          - call: echo\n            arguments: {{ text: hi }}\nthresholds:\n  echo.requests: \"== 2\"\n  echo.errors.rate: \"== 0%\"\n"
    );
    let (code, text, report, _dir) = run(&scenario).await;
    assert_eq!(code, Some(0), "no `expect`, but the thresholds checked the run: {text}");
    assert_eq!(report["status"], "passed", "{report:#}");
    assert!(report.get("error").is_none(), "{report:#}");

    let scenario = format!(
        "name: never measured\n{HEAD}clients:\n  main:\n    steps:\n      - initialize: {{}}\n      - call: echo\n        arguments: {{ text: hi }}\n        expect:\n          - $.status: 500\n      - call: health_check\nthresholds:\n  health_check.latency.p99: \"< 1s\"\n"
    );
    let (code, text, report, _dir) = run(&scenario).await;
    assert_eq!(code, Some(1), "{text}");
    let threshold = &report["thresholds"][0];
    assert_eq!(threshold["value"], Value::Null, "{report:#}");
    assert_eq!(threshold["passed"], false);
    assert!(text.contains("no data"), "{text}");
}

#[tokio::test]
async fn an_aborting_threshold_stops_a_long_run_as_a_failure() {
    let scenario = format!(
        "name: aborted\n{HEAD}clients:\n  main:\n    count: 2\n    steps:\n      - initialize: {{}}\n      - repeat: {{ every: 50ms, for: 10m }}\n        steps:\n          - call: echo\n            arguments: {{ text: hi }}\n            expect:\n              - $.result.content[0].text: hi\nthresholds:\n  echo.latency.p99: {{ limit: \"< 1us\", abort: true, after: 1s }}\n  echo.errors.rate: \"< 1%\"\n"
    );
    // The 10 minute loop is stopped: `run` gives the runner a minute.
    let (code, text, report, dir) = run(&scenario).await;
    assert_eq!(code, Some(1), "a breach is a failure, not an interruption: {text}");
    assert_eq!(report["status"], "failed", "{report:#}");
    let error = report["error"].as_str().unwrap();
    assert!(
        error.starts_with("threshold `echo.latency.p99` breached at ") && error.ends_with("(limit < 1us)"),
        "{error}"
    );
    assert!(text.contains(error), "{text}");
    assert_eq!(report["thresholds"][0]["passed"], false);
    assert_eq!(report["thresholds"][1]["passed"], true, "{report:#}");
    for id in [1, 2] {
        let client = json(&dir.path().join(format!("out/client_{id}_main.json")));
        assert_eq!(client["status"], "interrupted", "{client:#}");
    }
}
