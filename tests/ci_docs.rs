//! The CI files docs/ci.md gives users: the GitHub Actions workflow is read as YAML and its
//! trigger, service and steps checked; the plain script is run for real, with the lab as the
//! server under test, on a scenario that passes and one that fails. And docs/scale-out.md's
//! Kubernetes manifest: its documents, their kinds and the shard count they agree on, and its
//! scenario validated by the real binary.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn workflow() -> Value {
    let text = std::fs::read_to_string(root().join("docs/ci/github-actions.yml")).unwrap();
    serde_saphyr::from_str(&text).unwrap()
}

#[test]
fn the_workflow_runs_the_scenarios_on_every_push_and_keeps_the_results() {
    let workflow = workflow();
    assert!(workflow["on"].get("push").is_some() && workflow["on"].get("pull_request").is_some());
    assert_eq!(
        workflow["permissions"]["checks"], "write",
        "the test report writes checks"
    );
    let jobs = workflow["jobs"].as_object().unwrap();
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    let job = &jobs["scenarios"];
    let postgres = &job["services"]["postgres"];
    assert!(postgres["image"].as_str().unwrap().starts_with("postgres:"));
    assert!(
        postgres["options"]
            .as_str()
            .unwrap()
            .contains("--health-cmd pg_isready")
    );
    assert!(job["env"]["DATABASE_URL"].as_str().unwrap().starts_with("postgres://"));

    let steps = job["steps"].as_array().unwrap();
    let what = |step: &Value| {
        let name = step["name"].as_str().or(step["uses"].as_str()).unwrap_or_default();
        let does = step["uses"].as_str().or(step["run"].as_str()).unwrap_or_default();
        (name.to_string(), does.to_string())
    };
    let read: Vec<(String, String)> = steps.iter().map(what).collect();
    let at = |prefix: &str| {
        (read.iter())
            .position(|(name, _)| name.starts_with(prefix))
            .unwrap_or_else(|| panic!("no step {prefix}: {read:?}"))
    };
    let order = [
        at("actions/checkout"),
        at("Install runner"),
        at("Start the server"),
        at("Wait for the server"),
        at("Run the scenarios"),
        at("Keep the results"),
        at("Show the test results"),
    ];
    assert!(order.is_sorted(), "{read:?}");
    let run = &read[at("Run the scenarios")].1;
    for part in [
        "runner run scenarios/",
        "--set mcp_url=",
        "--set database_url=",
        "--out results",
    ] {
        assert!(run.contains(part), "{run}");
    }
    assert!(read[at("Install runner")].1.starts_with("cargo install --locked --git"));
    assert!(read[at("Wait for the server")].1.contains("timeout 60"));
    for keep in [at("Keep the results"), at("Show the test results")] {
        assert_eq!(steps[keep]["if"], "always()", "{:?}", read[keep]);
    }
    assert!(read[at("Keep the results")].1.starts_with("actions/upload-artifact@"));
    assert_eq!(
        steps[at("Show the test results")]["with"]["report_paths"],
        "results/**/junit.xml"
    );
}

const PASSES: &str = "name: echoes\nvars:\n  mcp_url: http://127.0.0.1:1/mcp\n  database_url: none\nconnections:\n  server: { mcp: { url: \"{{ vars.mcp_url }}\" } }\nclients:\n  main:\n    steps:\n      - initialize: {}\n      - call: echo\n        arguments: { text: hi }\n        expect:\n          - $.result.content[0].text: hi\n";

/// Runs docs/ci/run-scenarios.sh on `scenario` with the lab as the server; its exit code and the
/// results folder.
async fn run_script(scenario: &str) -> (Option<i32>, String, PathBuf, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("scenarios")).unwrap();
    std::fs::write(dir.path().join("scenarios/echoes.yaml"), scenario).unwrap();
    let runner = Path::new(env!("CARGO_BIN_EXE_runner"));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let lab = format!(
        "{} lab --listen 127.0.0.1:{port} --database sqlite://{}/lab.db",
        runner.display(),
        dir.path().display()
    );
    let path = format!(
        "{}:{}",
        runner.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut script = tokio::process::Command::new("bash");
    script
        .arg(root().join("docs/ci/run-scenarios.sh"))
        .args(["scenarios", "results"])
        .current_dir(dir.path())
        .env("PATH", path)
        .env("SERVER_CMD", lab)
        .env("MCP_URL", format!("http://127.0.0.1:{port}/mcp"))
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
        .kill_on_drop(true);
    let output = tokio::time::timeout(Duration::from_secs(60), script.output())
        .await
        .expect("the script ends within a minute")
        .unwrap();
    let printed = String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    let results = dir.path().join("results");
    (output.status.code(), printed, results, dir)
}

#[tokio::test]
async fn the_plain_script_runs_the_scenarios_against_the_server_and_gives_their_exit_code() {
    let (code, printed, results, _dir) = run_script(PASSES).await;
    assert_eq!(code, Some(0), "{printed}");
    assert!(printed.contains("echoes: 1/1 passed"), "{printed}");
    let junit = std::fs::read_to_string(results.join("junit.xml")).unwrap();
    assert!(junit.contains("<testcase name=\"main #1\""), "{junit}");

    let (code, printed, _, _dir) = run_script(&PASSES.replace("text: hi\n", "text: bye\n")).await;
    assert_eq!(code, Some(1), "{printed}");
    assert!(printed.contains("expected \"bye\", found \"hi\""), "{printed}");
}

/// The documents of docs/scale-out/indexed-job.yaml.
fn manifest() -> Vec<Value> {
    let text = std::fs::read_to_string(root().join("docs/scale-out/indexed-job.yaml")).unwrap();
    serde_saphyr::from_multiple(&text).unwrap()
}

#[test]
fn the_indexed_job_runs_n_shards_into_one_volume_and_merges_them() {
    let documents = manifest();
    let kinds: Vec<&str> = documents.iter().map(|d| d["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["PersistentVolumeClaim", "ConfigMap", "Job", "Job"]);
    let (claim, scenarios, shards, merge) = (&documents[0], &documents[1], &documents[2], &documents[3]);
    assert_eq!(shards["apiVersion"], "batch/v1");
    let spec = &shards["spec"];
    assert_eq!(spec["completionMode"], "Indexed");
    let n = spec["completions"].as_u64().unwrap();
    assert_eq!(spec["parallelism"].as_u64(), Some(n));
    assert!(claim["spec"]["accessModes"][0] == "ReadWriteMany");

    let pod = |job: &Value| job["spec"]["template"]["spec"].clone();
    let script = |job: &Value| pod(job)["containers"][0]["command"][2].as_str().unwrap().to_string();
    let run = script(shards);
    assert!(run.contains(&format!("--shard \"$JOB_COMPLETION_INDEX/{n}\"")), "{run}");
    assert!(run.contains("--out \"/results/shard-$JOB_COMPLETION_INDEX\""), "{run}");
    let merging = script(merge);
    let folders: Vec<String> = (0..n).map(|i| format!("/results/shard-{i}")).collect();
    assert!(
        merging.contains(&format!("runner merge {} --out", folders.join(" "))),
        "{merging}"
    );
    assert!(merging.contains(&format!("-ge {n} ]")), "{merging}");

    // Each pod mounts the volumes it names, and they are the claim and the config map above.
    for job in [shards, merge] {
        let pod = pod(job);
        let mounts = pod["containers"][0]["volumeMounts"].as_array().unwrap();
        for mount in mounts {
            let name = &mount["name"];
            let volume = pod["volumes"].as_array().unwrap().iter().find(|v| &v["name"] == name);
            let volume = volume.unwrap_or_else(|| panic!("no volume {name}"));
            let source = volume["persistentVolumeClaim"]["claimName"].as_str();
            let source = source.or(volume["configMap"]["name"].as_str()).unwrap();
            assert!([&claim["metadata"]["name"], &scenarios["metadata"]["name"]].contains(&&Value::from(source)));
        }
    }

    let dir = tempfile::tempdir().unwrap();
    for (file, text) in scenarios["data"].as_object().unwrap() {
        std::fs::write(dir.path().join(file), text.as_str().unwrap()).unwrap();
    }
    let validated = std::process::Command::new(env!("CARGO_BIN_EXE_runner"))
        .arg("validate")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        validated.status.success(),
        "{}",
        String::from_utf8_lossy(&validated.stderr)
    );
}
