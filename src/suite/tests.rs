//! The suite driven from the library, without the binary: results on disk, the outcome, what
//! stops a run.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::*;
use crate::compile::tests::compile_text;
use crate::exec::TranscriptMode;
use crate::report::ProgressMode;

/// A scenario of `clients` instances that wait, then check `holds`: no server needed.
fn scenario(name: &str, clients: u32, wait: &str, holds: bool) -> Plan {
    let text = format!(
        "name: {name}\nclients:\n  main:\n    count: {clients}\n    steps:\n      - wait: {wait}\n      - check: \"{{{{ {holds} }}}}\"\n"
    );
    compile_text(&text).unwrap()
}

/// Runs `plans` into `out` with a token nobody cancels.
async fn run(plans: Vec<Plan>, out: &Path, schedule: Schedule) -> Outcome {
    let suite = Suite::new(plans).unwrap();
    suite.run(&options(out, schedule), CancellationToken::new()).await
}

fn options(out: &Path, schedule: Schedule) -> Options {
    Options {
        out: Some(out.to_path_buf()),
        junit: None,
        schedule,
        progress: ProgressMode::Never,
        quiet: true,
        transcript: TranscriptMode::Failures,
        transcript_body_limit: 64 * 1024,
        record: crate::exec::Record::Bounded,
        shard: Default::default(),
    }
}

fn json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

const ONE_AFTER_ANOTHER: Schedule = Schedule::OneAfterAnother { fail_fast: false };

#[tokio::test]
async fn one_scenario_writes_its_report_client_files_and_transcript_into_out() {
    let out = tempfile::tempdir().unwrap();
    let outcome = run(vec![scenario("calm", 2, "10ms", true)], out.path(), ONE_AFTER_ANOTHER).await;

    assert!(outcome.passed(), "{outcome:?}");
    assert_eq!(outcome.results.len(), 1);
    let report = json(&out.path().join("report.json"));
    assert_eq!(report["name"], "calm");
    assert_eq!(report["status"], "passed");
    assert_eq!(report["summary"]["total"], 2);
    for id in [1, 2] {
        let client = json(&out.path().join(format!("client_{id}_main.json")));
        assert_eq!(client["success"], true, "{client}");
    }
    assert!(out.path().join("transcript.jsonl").is_file());
}

#[tokio::test]
async fn a_failing_check_fails_the_outcome_and_is_still_written() {
    let out = tempfile::tempdir().unwrap();
    let outcome = run(
        vec![scenario("doubtful", 1, "1ms", false)],
        out.path(),
        ONE_AFTER_ANOTHER,
    )
    .await;

    assert!(!outcome.passed());
    assert_eq!(json(&out.path().join("report.json"))["status"], "failed");
    assert_eq!(json(&out.path().join("client_1_main.json"))["success"], false);
}

#[tokio::test]
async fn fail_fast_runs_nothing_after_the_first_failure() {
    let plans = || vec![scenario("first", 1, "1ms", false), scenario("second", 1, "1ms", true)];
    for (fail_fast, ran) in [(true, 1), (false, 2)] {
        let out = tempfile::tempdir().unwrap();
        let outcome = run(plans(), out.path(), Schedule::OneAfterAnother { fail_fast }).await;

        assert_eq!(outcome.results.len(), ran, "fail_fast: {fail_fast}");
        assert!(out.path().join("first/report.json").is_file());
        assert_eq!(out.path().join("second").exists(), !fail_fast);
    }
}

#[tokio::test]
async fn all_at_once_the_second_starts_before_the_first_ends() {
    let out = tempfile::tempdir().unwrap();
    let plans = vec![scenario("left", 1, "300ms", true), scenario("right", 1, "300ms", true)];
    let outcome = run(plans, out.path(), Schedule::AllAtOnce).await;

    assert!(outcome.passed(), "{outcome:?}");
    let [left, right] = &outcome.results[..] else {
        panic!("{outcome:?}")
    };
    let left_ended = left.started_at + chrono::Duration::milliseconds(left.elapsed_ms as i64);
    assert!(right.started_at < left_ended, "{outcome:?}");
    for name in ["left", "right"] {
        assert_eq!(json(&out.path().join(name).join("report.json"))["status"], "passed");
    }
}

#[tokio::test]
async fn a_cancelled_token_stops_the_run_and_its_results_are_written() {
    let out = tempfile::tempdir().unwrap();
    let plans = vec![scenario("long", 1, "10m", true), scenario("never", 1, "1ms", true)];
    let cancel = CancellationToken::new();
    let stopper = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        stopper.cancel();
    });
    let options = options(out.path(), ONE_AFTER_ANOTHER);
    let running = Suite::new(plans).unwrap().run(&options, cancel);
    let outcome = tokio::time::timeout(Duration::from_secs(30), running)
        .await
        .expect("the run stops");

    assert_eq!(outcome.results.len(), 1);
    assert!(!outcome.passed());
    assert_ne!(json(&out.path().join("long/report.json"))["status"], "passed");
    assert!(!out.path().join("never").exists());
}

#[test]
fn scenarios_whose_results_would_share_a_folder_are_refused() {
    let plans = vec![
        scenario("Normal Lifecycle", 1, "1ms", true),
        scenario("normal-lifecycle", 1, "1ms", true),
    ];
    let problems = Suite::new(plans).unwrap_err();

    assert_eq!(problems.len(), 1);
    assert_eq!(
        problems[0].message,
        "the scenarios `Normal Lifecycle` and `normal-lifecycle` would share the results folder `normal-lifecycle`"
    );
    let twins = vec![scenario("twin", 1, "1ms", true), scenario("twin", 1, "1ms", true)];
    assert_eq!(
        Suite::new(twins).unwrap_err()[0].message,
        "two scenarios of this run are named `twin`"
    );
}
