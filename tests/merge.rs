//! Scale-out end to end: one scenario run whole and as 3 shards (3 processes at once) against
//! one lab, the shards merged with `runner merge`, and the merged result compared with the
//! whole run's: the same totals, percentiles as exact as the histograms (the merged one is the
//! shards' added), one timeline, and a threshold on the whole run's count that every shard
//! fails alone and the merge passes.

mod support;

use std::path::Path;
use std::time::Duration;

use hdrhistogram::Histogram;
use hdrhistogram::serialization::Deserializer;
use serde_json::Value;
use support::binary::{console, runner};
use support::lab_process::LabProcess;

const SCENARIO: &str = r#"name: sharded
vars:
  mcp_url: http://127.0.0.1:1/mcp
connections:
  server: { mcp: { url: "{{ vars.mcp_url }}" } }
clients:
  callers:
    count: 6
    steps:
      - initialize: {}
      - barrier: ready
      - name: nap
        repeat: { times: 5 }
        steps:
          - call: sleep
            arguments: { ms: 20 }
      - close: {}
  visitors:
    arrivals: { rate: 30/s, for: 1s }
    steps:
      - initialize: {}
      - call: echo
        arguments: { text: hi }
thresholds:
  sleep.requests: "== 30"
  echo.requests: "== 30"
  sleep.latency.p50: "< 2s"
"#;

fn json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// The histogram a `latency` of `report.json` keeps.
fn histogram(latency: &Value) -> Histogram<u64> {
    use base64::Engine;
    let text = latency["histogram"].as_str().unwrap();
    let bytes = base64::engine::general_purpose::STANDARD.decode(text).unwrap();
    let mut histogram: Histogram<u64> = Deserializer::new().deserialize(&mut bytes.as_slice()).unwrap();
    histogram.auto(true);
    histogram
}

/// The shards' histograms of one figure, added.
fn added(parts: &[Value], figure: fn(&Value) -> &Value) -> Histogram<u64> {
    let mut sum = histogram(figure(&parts[0]));
    for part in &parts[1..] {
        sum.add(histogram(figure(part))).unwrap();
    }
    sum
}

fn ms(report: &Value, step: &str, stat: &str) -> f64 {
    report["metrics"]["steps"][step]["latency"][stat].as_f64().unwrap()
}

#[tokio::test]
async fn three_shards_merged_are_the_whole_run() {
    let dir = tempfile::tempdir().unwrap();
    let lab = LabProcess::start(dir.path(), &[]).await;
    std::fs::write(dir.path().join("sharded.yaml"), SCENARIO).unwrap();
    let set = format!("mcp_url={}", lab.mcp_url());
    let limit = Duration::from_secs(60);
    let args = |out: &str, shard: Option<String>| {
        let mut args: Vec<String> = [
            "run",
            "sharded.yaml",
            "--progress",
            "never",
            "--set",
            &set,
            "--out",
            out,
        ]
        .map(String::from)
        .into();
        args.extend(shard.into_iter().flat_map(|s| ["--shard".to_string(), s]));
        args
    };
    let whole = runner(&args("whole", None), dir.path(), limit).await;
    assert_eq!(whole.status.code(), Some(0), "{}", console(&whole));
    let cwd = dir.path();
    let shards = (0..3).map(|i| {
        let args = args(&format!("shard-{i}"), Some(format!("{i}/3")));
        async move { runner(&args, cwd, limit).await }
    });
    for (i, output) in futures_util::future::join_all(shards).await.into_iter().enumerate() {
        // Each shard makes a third of the calls: the whole run's counts do not hold on it alone.
        assert_eq!(output.status.code(), Some(1), "shard {i}: {}", console(&output));
        assert!(
            console(&output).contains("2 thresholds breached"),
            "{}",
            console(&output)
        );
    }
    let merged = runner(
        &["merge", "shard-0", "shard-1", "shard-2", "--out", "merged"],
        dir.path(),
        limit,
    )
    .await;
    assert_eq!(merged.status.code(), Some(0), "{}", console(&merged));
    assert!(
        console(&merged).contains("merged from 3 shards"),
        "{}",
        console(&merged)
    );

    let whole = json(&dir.path().join("whole/report.json"));
    let parts: Vec<Value> = (0..3)
        .map(|i| json(&dir.path().join(format!("shard-{i}/report.json"))))
        .collect();
    let merged = json(&dir.path().join("merged/report.json"));
    for (i, part) in parts.iter().enumerate() {
        assert_eq!(part["shard"], serde_json::json!({ "index": i, "count": 3 }));
    }
    assert!(merged.get("shard").is_none());
    assert_eq!(merged["status"], "passed", "{}", merged["error"]);

    // The same totals as the whole run.
    for figure in ["requests", "passed", "failed"] {
        assert_eq!(
            merged["metrics"]["total"][figure], whole["metrics"]["total"][figure],
            "{figure}"
        );
    }
    assert_eq!(merged["summary"], whole["summary"]);
    let ids = |report: &Value| -> Vec<u64> {
        let clients = report["clients"].as_array().unwrap().iter();
        clients.map(|c| c["client_id"].as_u64().unwrap()).collect()
    };
    assert_eq!(ids(&merged), [1, 2, 3, 4, 5, 6]);
    assert_eq!(ids(&merged), ids(&whole));
    let visitors = &merged["arrivals"][0];
    assert_eq!(
        (visitors["scheduled"].as_u64(), visitors["started"].as_u64()),
        (Some(30), Some(30))
    );
    assert_eq!(visitors["started"], whole["arrivals"][0]["started"]);
    for count in ["opened", "closed", "left_open"] {
        let sessions = |r: &Value| r["metrics"]["sessions"][count].clone();
        assert_eq!(sessions(&merged), sessions(&whole), "sessions {count}");
    }
    let thresholds: Vec<bool> = (merged["thresholds"].as_array().unwrap().iter())
        .map(|t| t["passed"].as_bool().unwrap())
        .collect();
    assert_eq!(thresholds, [true, true, true]);

    // The merged histograms are the shards' added: their percentiles are theirs together, exactly.
    fn sleep(r: &Value) -> &Value {
        &r["metrics"]["steps"]["sleep"]["latency"]
    }
    let together = added(&parts, sleep);
    assert_eq!(histogram(sleep(&merged)), together);
    assert_eq!(together.len(), 30);
    let p99 = together.value_at_quantile(0.99) as f64 / 1000.0;
    assert_eq!(ms(&merged, "sleep", "p99_ms"), p99);
    fn lateness(r: &Value) -> &Value {
        &r["metrics"]["groups"]["visitors"]["lateness"]
    }
    let late = added(&parts, lateness);
    assert_eq!(histogram(lateness(&merged)), late);
    let p99 = late.value_at_quantile(0.99) as f64 / 1000.0;
    assert_eq!(merged["arrivals"][0]["lateness_ms"]["p99"].as_f64(), Some(p99));
    // And close to the whole run's, whose calls sleep as long.
    let (one, all) = (ms(&merged, "sleep", "p50_ms"), ms(&whole, "sleep", "p50_ms"));
    assert!(
        one >= 20.0 && all >= 20.0 && (one - all).abs() < 0.25 * all,
        "p50 merged {one} ms, whole {all} ms"
    );

    // One timeline: every shard's sessions, in the order they opened.
    let lanes = merged["timeline"]["lanes"].as_array().unwrap();
    assert_eq!(
        lanes.len() as u64,
        whole["metrics"]["sessions"]["opened"].as_u64().unwrap()
    );
    let opened: Vec<f64> = lanes.iter().map(|l| l["opened_ms"].as_f64().unwrap()).collect();
    assert!(opened.windows(2).all(|w| w[0] <= w[1]), "{opened:?}");
    let page = std::fs::read_to_string(dir.path().join("merged/report.html")).unwrap();
    assert_eq!(page.matches(" data-session-id=\"").count(), lanes.len());
    let junit = std::fs::read_to_string(dir.path().join("merged/junit.xml")).unwrap();
    assert!(
        junit.contains(r#"<testsuite name="sharded" tests="10" skipped="0" errors="0" failures="0""#),
        "{junit}"
    );
}

#[tokio::test]
async fn merge_refuses_parts_that_do_not_make_a_whole() {
    let dir = tempfile::tempdir().unwrap();
    let lab = LabProcess::start(dir.path(), &[]).await;
    let scenario = "name: tiny\nvars:\n  mcp_url: http://127.0.0.1:1/mcp\nconnections:\n  server: { mcp: { url: \"{{ vars.mcp_url }}\" } }\nclients:\n  c:\n    count: 2\n    steps:\n      - initialize: {}\n";
    std::fs::write(dir.path().join("tiny.yaml"), scenario).unwrap();
    let set = format!("mcp_url={}", lab.mcp_url());
    let limit = Duration::from_secs(60);
    for (out, shard) in [("a", Some("0/2")), ("b", Some("0/2")), ("whole", None)] {
        let mut args = vec!["run", "tiny.yaml", "--progress", "never", "--set", &set, "--out", out];
        args.extend(shard.map(|s| ["--shard", s]).into_iter().flatten());
        let output = runner(&args, dir.path(), limit).await;
        assert_eq!(output.status.code(), Some(0), "{}", console(&output));
    }
    let cwd = dir.path();
    let refused = |args: &'static [&'static str]| async move {
        let output = runner(args, cwd, limit).await;
        assert_eq!(output.status.code(), Some(2), "{}", console(&output));
        console(&output)
    };
    let missing = refused(&["merge", "a", "--out", "m"]).await;
    assert_eq!(
        missing,
        "error: scenario `tiny`: shard 1/2 is missing: merge every part of the run\n"
    );
    let twice = refused(&["merge", "a", "b", "--out", "m"]).await;
    assert_eq!(twice, "error: scenario `tiny`: a and b are both shard 0/2\n");
    let whole = refused(&["merge", "a", "whole", "--out", "m"]).await;
    assert!(whole.starts_with("error: whole is not a shard's result"), "{whole}");
    let bad = runner(
        &["run", "tiny.yaml", "--shard", "2/2", "--set", &set],
        dir.path(),
        limit,
    )
    .await;
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        console(&bad).contains("shard 2 of 2 does not exist"),
        "{}",
        console(&bad)
    );
}
