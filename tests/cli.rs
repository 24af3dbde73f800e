//! The commands that need no network, driven through the real binary.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn runner() -> Command {
    Command::cargo_bin("runner").unwrap()
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    path
}

const HEARTBEAT: &str = r#"
name: heartbeat
vars:
  mcp_url: http://127.0.0.1:8051/mcp
  every: 2m
  clients: 2
connections:
  server: { mcp: { url: "{{ vars.mcp_url }}" } }
clients:
  keeper:
    count: "{{ vars.clients }}"
    steps:
      - initialize: {}
      - barrier: ready
      - repeat: { every: "{{ vars.every }}", for: 6m }
        steps:
          - call: heartbeat
            expect:
              - $.result.isError: false
    record:
      heartbeats_sent: "{{ counts.heartbeat }}"
"#;

fn stdout(cmd: &mut Command) -> String {
    String::from_utf8(cmd.assert().success().get_output().stdout.clone()).unwrap()
}

#[test]
fn validate_prints_ok_per_file_and_searches_folders() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.yaml", HEARTBEAT);
    write(dir.path(), "nested/b.yml", HEARTBEAT);
    write(dir.path(), "nested/ignored.txt", "not yaml");
    write(dir.path(), "quick.vars.yaml", "every: 2s\n");
    let out = stdout(runner().arg("validate").arg(dir.path()));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(lines[0].starts_with("ok ") && lines[0].ends_with("a.yaml"), "{out}");
    assert!(lines[1].ends_with("b.yml"), "{out}");
}

#[test]
fn plan_shows_groups_counts_loops_and_barriers() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "hb.yaml", HEARTBEAT);
    let out = stdout(runner().arg("plan").arg(&file));
    assert!(out.contains("clients keeper ×2 instances"), "{out}");
    assert!(out.contains("repeat for 6m, every 2m (fixed rate)"), "{out}");
    assert!(out.contains("barrier ready (waits for 2)"), "{out}");
    assert!(out.contains("barrier ready: 2 parties (keeper ×2)"), "{out}");
    assert!(out.contains("expect $.result.isError equals false"), "{out}");
}

#[test]
fn set_and_vars_files_override_defaults_with_typed_values() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "hb.yaml", HEARTBEAT);
    let vars = write(dir.path(), "fast.vars.yaml", "every: 2s\nclients: 3\n");
    let out = stdout(
        runner()
            .args(["plan", "--format", "json", "--vars"])
            .arg(&vars)
            .args(["--set", "clients=4"])
            .arg(&file),
    );
    let plan: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(plan["vars"]["clients"], 4, "--set wins over --vars and is typed");
    assert_eq!(plan["vars"]["every"], "2s");
    assert_eq!(plan["groups"][0]["count"], 4);
    let repeat = &plan["groups"][0]["steps"][2]["action"];
    assert_eq!(repeat["kind"], "repeat");
    assert_eq!(repeat["every"], "2s");
}

#[test]
fn an_override_no_scenario_declares_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "hb.yaml", HEARTBEAT);
    let assert = runner()
        .args(["validate", "--set", "evry=1s"])
        .arg(&file)
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        stderr.contains("no scenario in this run declares the variable `evry`"),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean `every`?"), "{stderr}");
}

#[test]
fn scenarios_whose_results_would_share_a_folder_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = |name: &str| format!("name: {name}\nafter:\n  - check: \"{{{{ true }}}}\"\n");
    write(dir.path(), "a.yaml", &scenario("Normal Lifecycle"));
    write(dir.path(), "b.yaml", &scenario("normal-lifecycle"));
    let assert = runner()
        .arg("run")
        .arg(dir.path())
        .arg("--out")
        .arg(dir.path().join("out"))
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        stderr.contains("would share the results folder `normal-lifecycle`"),
        "{stderr}"
    );
    assert!(!dir.path().join("out").exists(), "nothing ran");
}

#[test]
fn a_missing_path_and_an_empty_folder_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    runner()
        .arg("validate")
        .arg(dir.path().join("gone.yaml"))
        .assert()
        .code(2);
    runner().arg("validate").arg(dir.path()).assert().code(2);
}

#[test]
fn usage_errors_exit_2() {
    runner().arg("validate").assert().code(2);
    runner().args(["plan", "--format", "xml", "x.yaml"]).assert().code(2);
}

#[test]
fn schema_prints_the_checked_in_schema() {
    let out = stdout(runner().arg("schema"));
    let checked_in = std::fs::read_to_string(root().join("schemas/scenario.schema.json")).unwrap();
    assert_eq!(out, checked_in);
}

#[test]
fn every_example_and_scenario_validates_and_plans() {
    let out = stdout(
        runner()
            .arg("validate")
            .arg(root().join("examples"))
            .arg(root().join("scenarios")),
    );
    let files: Vec<&str> = out.lines().map(|l| l.trim_start_matches("ok ")).collect();
    assert!(files.len() >= 14, "{out}");
    for file in files {
        let tree = stdout(runner().arg("plan").arg(file));
        assert!(tree.starts_with("scenario "), "{file}: {tree}");
        let json = stdout(runner().args(["plan", "--format", "json"]).arg(file));
        serde_json::from_str::<serde_json::Value>(&json).unwrap_or_else(|e| panic!("{file}: {e}"));
    }
}

#[test]
fn the_quick_vars_file_applies_to_the_whole_suite() {
    let suite = root().join("scenarios");
    runner()
        .arg("validate")
        .arg("--vars")
        .arg(suite.join("quick.vars.yaml"))
        .arg(&suite)
        .assert()
        .success();
}

#[test]
fn a_vars_file_skips_keys_no_scenario_declares_but_catches_near_misses() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "hb.yaml", HEARTBEAT);
    let shared = write(dir.path(), "suite.vars.yaml", "every: 2s\nsession_timeout: 3s\n");
    runner()
        .arg("validate")
        .arg("--vars")
        .arg(&shared)
        .arg(&file)
        .assert()
        .success();
    let typo = write(dir.path(), "typo.vars.yaml", "evry: 2s\n");
    let assert = runner()
        .arg("validate")
        .arg("--vars")
        .arg(&typo)
        .arg(&file)
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(stderr.contains("typo.vars.yaml:1:1"), "{stderr}");
    assert!(stderr.contains("did you mean `every`?"), "{stderr}");
}

/// `runner ARGS…`, which must exit 2 within seconds; its stderr.
fn refused(args: &[&std::ffi::OsStr]) -> String {
    let assert = runner()
        .args(args)
        .timeout(std::time::Duration::from_secs(10))
        .assert()
        .code(2);
    String::from_utf8_lossy(&assert.get_output().stderr).into_owned()
}

#[cfg(unix)]
#[test]
fn a_fifo_or_a_device_is_refused_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo.yaml");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let file = write(dir.path(), "hb.yaml", HEARTBEAT);
    let stderr = refused(&["validate".as_ref(), fifo.as_ref()]);
    assert!(stderr.contains("not a regular file (a named pipe)"), "{stderr}");
    let stderr = refused(&["validate".as_ref(), "--vars".as_ref(), fifo.as_ref(), file.as_ref()]);
    assert!(stderr.contains("not a regular file (a named pipe)"), "{stderr}");
    for device in ["/dev/zero", "/dev/null"] {
        let stderr = refused(&["validate".as_ref(), device.as_ref()]);
        assert!(stderr.contains("not a regular file (a device)"), "{stderr}");
        let stderr = refused(&["validate".as_ref(), "--vars".as_ref(), device.as_ref(), file.as_ref()]);
        assert!(stderr.contains("not a regular file (a device)"), "{stderr}");
    }
    // Found in a folder, it is refused the same way, and the folder's real files still load.
    let stderr = refused(&["validate".as_ref(), dir.path().as_ref()]);
    assert!(stderr.contains("fifo.yaml"), "{stderr}");
    assert!(stderr.contains("error: 1 problem found"), "{stderr}");
}

#[cfg(unix)]
#[test]
fn a_folder_with_symbolic_link_loops_is_walked_once() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "suite/a.yaml", HEARTBEAT);
    write(dir.path(), "suite/nested/b.yaml", HEARTBEAT);
    let suite = dir.path().join("suite");
    std::os::unix::fs::symlink(&suite, suite.join("nested/loop")).unwrap();
    std::os::unix::fs::symlink(suite.join("nested"), suite.join("nested/self")).unwrap();
    let out = stdout(
        runner()
            .arg("validate")
            .arg(&suite)
            .timeout(std::time::Duration::from_secs(10)),
    );
    assert_eq!(out.lines().count(), 2, "{out}");
}
