//! `runner run` end to end: the real binary against a local HTTP server that behaves well,
//! fails, stalls and breaks on purpose.

mod support;

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

/// Writes a scenario whose connection `api` points at the server.
fn scenario(dir: &Path, name: &str, body: &str) -> PathBuf {
    let text = format!(
        "name: {name}\nvars:\n  base: http://127.0.0.1:1\nconnections:\n  api: {{ http: {{ base_url: \"{{{{ vars.base }}}}\" }} }}\n{body}"
    );
    let path = dir.join(format!("{name}.yaml"));
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs the binary on a scenario with `base` pointing at the server; the results go to `out`.
async fn run(file: &Path, base: &str, out: &Path) -> Output {
    support::binary::run_file(file, &[format!("base={base}")], out, Path::new(".")).await
}

fn json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs one client step list and returns (exit code, the client's result file, stdout).
async fn one_client(name: &str, steps: &str) -> (i32, Value, String) {
    let addr = support::start().await;
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(dir.path(), name, &format!("clients:\n  main:\n    steps:\n{steps}"));
    let out = dir.path().join("out");
    let output = run(&file, &format!("http://{addr}"), &out).await;
    let client = json(&out.join("client_1_main.json"));
    (
        output.status.code().unwrap(),
        client,
        text(&output.stdout) + &text(&output.stderr),
    )
}

#[tokio::test]
async fn a_passing_scenario_writes_results_and_exits_0() {
    let (code, client, console) = one_client(
        "good",
        "      - http: { path: /ok }\n        expect:\n          - $.status: 200\n          - { path: $.body.items, length: 3 }\n        save: { name: $.body.name }\n      - http: { method: POST, path: /echo, json: { who: \"{{ name }}\", n: \"{{ 1 + 1 }}\" } }\n        expect:\n          - $.body.echo: { who: lab, n: 2 }\n",
    )
    .await;
    assert_eq!(code, 0, "{console}");
    assert_eq!(client["success"], true);
    assert_eq!(client["vars"]["name"], "lab");
    assert_eq!(client["counts"]["POST /echo"], 1);
    assert!(console.contains("good: 1/1 passed"), "{console}");
}

#[tokio::test]
async fn a_refused_connection_fails_the_step_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(
        dir.path(),
        "refused",
        "clients:\n  main:\n    steps:\n      - http: { path: /ok }\n        expect: [ { $.status: 200 } ]\n",
    );
    let out = dir.path().join("out");
    // Port 1 on loopback: nobody listens.
    let output = run(&file, "http://127.0.0.1:1", &out).await;
    assert_eq!(output.status.code(), Some(1));
    let client = json(&out.join("client_1_main.json"));
    let error = client["error"].as_str().unwrap();
    let expected = format!(
        "step `GET /ok` ({}:9:9): cannot connect to http://127.0.0.1:1/ok",
        file.display()
    );
    assert!(error.starts_with(&expected), "{error}");
}

#[tokio::test]
async fn a_500_fails_the_assertion_with_expected_and_found() {
    let (code, client, _) = one_client(
        "five-hundred",
        "      - http: { path: /status/500 }\n        expect:\n          - $.status: 200\n",
    )
    .await;
    assert_eq!(code, 1);
    let error = client["error"].as_str().unwrap();
    assert!(
        error.contains("`$.status`") && error.contains("200") && error.contains("500"),
        "{error}"
    );
    assert!(error.contains("five-hundred.yaml:11:13)"), "{error}");
}

#[tokio::test]
async fn a_stalled_server_times_out_at_the_step_deadline() {
    let started = std::time::Instant::now();
    let (code, client, _) = one_client(
        "stall",
        "      - http: { path: /stall }\n        timeout: 300ms\n        expect: [ { $.status: 200 } ]\n",
    )
    .await;
    assert_eq!(code, 1);
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    let error = client["error"].as_str().unwrap();
    assert!(
        error.contains("within 300ms") || error.contains("timed out after 300ms"),
        "{error}"
    );
}

#[tokio::test]
async fn a_body_cut_short_fails_the_step() {
    let (code, client, _) = one_client(
        "cut",
        "      - http: { path: /cut }\n        expect: [ { $.status: 200 } ]\n",
    )
    .await;
    assert_eq!(code, 1);
    let error = client["error"].as_str().unwrap();
    assert!(error.contains("broke off"), "{error}");
}

#[tokio::test]
async fn json_path_on_a_text_body_fails_clearly() {
    let (code, client, _) = one_client(
        "text",
        "      - http: { path: /text }\n        expect:\n          - $.body.ok: true\n",
    )
    .await;
    assert_eq!(code, 1);
    let error = client["error"].as_str().unwrap();
    assert!(
        error.contains("`$.body.ok`") && error.contains("selects nothing"),
        "{error}"
    );
    assert_eq!(client["steps"][0]["result"]["body"], "plain text, not JSON");
}

#[tokio::test]
async fn a_template_failing_at_run_time_fails_its_step() {
    let (code, client, _) = one_client(
        "template",
        "      - http: { path: \"/{{ 1 / 0 }}\" }\n        expect: [ { $.status: 200 } ]\n",
    )
    .await;
    assert_eq!(code, 1);
    let error = client["error"].as_str().unwrap();
    assert!(error.starts_with("step `GET /{{ 1 / 0 }}`"), "{error}");
}

#[tokio::test]
async fn retry_polls_until_the_expectation_holds() {
    let (code, client, console) = one_client(
        "retry",
        "      - http: { path: /count }\n        retry: { within: 5s, every: 50ms }\n        expect:\n          - $.status: 200\n",
    )
    .await;
    assert_eq!(code, 0, "{console}");
    let step = &client["steps"][0];
    assert_eq!(step["attempts"], 3);
    assert!(step["time_to_success_ms"].as_f64().unwrap() >= 100.0);
}

#[tokio::test]
async fn a_retry_that_never_succeeds_fails_after_its_window() {
    let (code, client, _) = one_client(
        "never",
        "      - http: { path: /status/503 }\n        retry: { within: 300ms, every: 100ms }\n        expect:\n          - $.status: 200\n",
    )
    .await;
    assert_eq!(code, 1);
    let error = client["error"].as_str().unwrap();
    assert!(error.contains("attempts within 300ms"), "{error}");
}

#[tokio::test]
async fn ctrl_c_during_a_long_wait_keeps_the_finished_results() {
    let addr = support::start().await;
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(
        dir.path(),
        "interrupted",
        "clients:\n  fast:\n    steps:\n      - http: { path: /ok }\n        expect: [ { $.status: 200 } ]\n  slow:\n    steps:\n      - wait: 1h\n      - http: { path: /ok }\n        expect: [ { $.status: 200 } ]\n",
    );
    let out = dir.path().join("out");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_runner"))
        .arg("run")
        .arg(&file)
        .arg("--set")
        .arg(format!("base=http://{addr}"))
        .arg("--out")
        .arg(&out)
        .arg("--progress")
        .arg("never")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let pid = child.id().unwrap().to_string();
    std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    let sent = std::time::Instant::now();
    let status = tokio::time::timeout(std::time::Duration::from_secs(5), child.wait())
        .await
        .expect("exits")
        .unwrap();
    assert!(
        sent.elapsed() < std::time::Duration::from_secs(2),
        "took {:?}",
        sent.elapsed()
    );
    assert_eq!(status.code(), Some(130));
    let fast = json(&out.join("client_1_fast.json"));
    assert_eq!(fast["success"], true);
    assert_eq!(fast["steps"][0]["status"], "passed");
    let slow = json(&out.join("client_1_slow.json"));
    assert_eq!(slow["status"], "interrupted");
    let report = json(&out.join("report.json"));
    assert_eq!(report["status"], "interrupted");
}

#[tokio::test]
async fn the_retry_window_cuts_an_attempt_that_hangs() {
    let started = std::time::Instant::now();
    let (code, client, _) = one_client(
        "hang",
        "      - http: { path: /stall }\n        retry: { within: 500ms, every: 100ms }\n        expect: [ { $.status: 200 } ]\n",
    )
    .await;
    assert_eq!(code, 1);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    let error = client["error"].as_str().unwrap();
    assert!(error.contains("(still after 1 attempt within 500ms)"), "{error}");
}

#[tokio::test]
async fn tags_choose_scenarios_and_fail_fast_stops_after_a_failure() {
    let addr = support::start().await;
    let dir = tempfile::tempdir().unwrap();
    let passing = "clients:\n  main:\n    steps:\n      - http: { path: /ok }\n        expect: [ { $.status: 200 } ]\n";
    let failing =
        "clients:\n  main:\n    steps:\n      - http: { path: /status/500 }\n        expect: [ { $.status: 200 } ]\n";
    scenario(dir.path(), "a-fails", &format!("tags: [smoke]\n{failing}"));
    scenario(dir.path(), "b-passes", &format!("tags: [smoke, slow]\n{passing}"));
    scenario(dir.path(), "c-passes", passing);
    let runner = |args: &[&str]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_runner"));
        cmd.arg("run")
            .arg(dir.path())
            .args(["--set", &format!("base=http://{addr}"), "--progress", "never", "--out"])
            .arg(dir.path().join("out"))
            .args(args);
        cmd
    };
    let ran = |output: &std::process::Output| -> Vec<String> {
        text(&output.stdout)
            .lines()
            .filter(|l| l.contains(" passed") && !l.starts_with("run:"))
            .map(|l| l.split(':').next().unwrap().to_string())
            .collect()
    };
    let tagged = tokio::task::spawn_blocking({
        let mut cmd = runner(&["--tag", "smoke", "--skip-tag", "slow"]);
        move || cmd.output().unwrap()
    })
    .await
    .unwrap();
    assert_eq!(ran(&tagged), ["a-fails"]);
    assert_eq!(tagged.status.code(), Some(1));
    let fast = tokio::task::spawn_blocking({
        let mut cmd = runner(&["--fail-fast"]);
        move || cmd.output().unwrap()
    })
    .await
    .unwrap();
    assert_eq!(ran(&fast), ["a-fails"], "{}", text(&fast.stdout));
    let all = tokio::task::spawn_blocking({
        let mut cmd = runner(&[]);
        move || cmd.output().unwrap()
    })
    .await
    .unwrap();
    assert_eq!(ran(&all), ["a-fails", "b-passes", "c-passes"]);
    assert!(
        text(&all.stdout).contains("run: 2/3 scenarios passed"),
        "{}",
        text(&all.stdout)
    );
}
