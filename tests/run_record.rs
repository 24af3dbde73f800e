//! What a client file keeps of a long loop, through the real binary against the lab: by default
//! the first 10 passes, every failed one and the last, with every pass counted in `passes`;
//! `--record all` keeps every pass.

mod support;

use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use support::binary::{console, runner};

/// 200 echo calls on one session; the 150th sends the wrong text, and the loop goes on.
const SCENARIO: &str = r#"
name: long loop
vars:
  mcp_url: http://127.0.0.1:1/mcp
connections:
  server: { mcp: { url: "{{ vars.mcp_url }}" } }
clients:
  main:
    steps:
      - initialize: {}
      - repeat: { times: 200 }
        steps:
          - call: echo
            arguments: { text: "{{ 'wrong' if iteration == 150 else 'hello' }}" }
            expect:
              - $.result.content[0].text: hello
            continue_on_failure: true
"#;

/// Runs the loop with `ARGS…` and returns its `repeat` step from the client file.
async fn repeat_step(args: &[&str]) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("loop.yaml");
    std::fs::write(&file, SCENARIO).unwrap();
    let mut all = vec![
        "run",
        file.to_str().unwrap(),
        "--lab",
        "--out",
        "out",
        "--progress",
        "never",
    ];
    all.extend_from_slice(args);
    let output = runner(&all, dir.path(), Duration::from_secs(120)).await;
    assert_eq!(output.status.code(), Some(1), "pass 150 fails: {}", console(&output));
    let client = json(&dir.path().join("out/client_1_main.json"));
    client["steps"][1].clone()
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn kept(repeat: &Value) -> Vec<u64> {
    let iterations = repeat["iterations"].as_array().unwrap();
    iterations.iter().map(|i| i["iteration"].as_u64().unwrap()).collect()
}

#[tokio::test]
async fn a_long_loop_keeps_a_bounded_set_of_passes_and_counts_every_one() {
    let repeat = repeat_step(&[]).await;
    assert_eq!(repeat["kind"], "repeat");
    assert_eq!(kept(&repeat), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 150, 200]);
    let failed = &repeat["iterations"][10];
    assert_eq!(failed["status"], "failed");
    // The failure is as readable as with every pass kept: the assertion and the answer.
    let call = &failed["steps"][0];
    assert_eq!(call["assertions"][0]["actual"], "wrong", "{call}");
    assert!(call["result"].is_object(), "{call}");
    let error = repeat["error"].as_str().unwrap();
    assert!(error.starts_with("step `echo`"), "{error}");

    let passes = &repeat["passes"];
    assert_eq!(passes["total"], 200);
    assert_eq!(passes["passed"], 199);
    assert_eq!(passes["failed"], 1);
    assert_eq!(passes["interrupted"], 0);
    assert_eq!(passes["kept"], 12);
    assert_eq!(passes["omitted"], 188);
    assert!(
        passes.get("lateness_ms").is_none(),
        "a closed loop has no schedule: {passes}"
    );
    let elapsed = &passes["elapsed_ms"];
    let (p50, p99, max) = (
        elapsed["p50"].as_f64().unwrap(),
        elapsed["p99"].as_f64().unwrap(),
        elapsed["max"].as_f64().unwrap(),
    );
    assert!(0.0 < p50 && p50 <= p99 && p99 <= max, "{elapsed}");
}

#[tokio::test]
async fn record_all_keeps_every_pass() {
    let repeat = repeat_step(&["--record", "all"]).await;
    assert_eq!(kept(&repeat), (1..=200).collect::<Vec<_>>());
    assert_eq!(repeat["passes"]["kept"], 200);
    assert_eq!(repeat["passes"]["omitted"], 0);
}
