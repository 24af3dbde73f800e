//! What the benchmarks share: running the real binary on a scenario and reading its report.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Runs `runner run SCENARIO --out OUT` to its end, which must pass; the wall time (process
/// start included) and `report.json`.
pub fn run(scenario: &Path, out: &Path) -> (Duration, serde_json::Value) {
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_runner"))
        .args(["run", "--progress", "never", "--out"])
        .arg(out)
        .arg(scenario)
        .output()
        .expect("the runner runs");
    let elapsed = started.elapsed();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stdout));
    let report = std::fs::read_to_string(out.join("report.json")).expect("report.json");
    (elapsed, serde_json::from_str(&report).expect("JSON"))
}

/// A step's latency percentile from the report, in microseconds.
pub fn micros(latency: &serde_json::Value, percentile: &str) -> f64 {
    latency[percentile].as_f64().unwrap_or(0.0) * 1000.0
}
