//! The conformance pack (`scenarios/mcp/`) through the real binary against real servers: the
//! lab (rmcp), the official Python SDK and the official TypeScript SDK (tests/sdk/), each on a
//! free loopback port with its own timings (a vars file per server). The outcome of every check
//! on every server must be the results table in docs/conformance.md, so a server's known
//! deviation is expected there, and a change either way fails this test.
//!
//! `RUNNER_UPDATE_CONFORMANCE=1` writes the table the run produced into docs/conformance.md
//! instead (scripts/conformance-table.sh). The SDK servers are installed by `scripts/sdk-setup.sh`,
//! which this test runs when they are missing (CI runs it first); when it cannot, the test fails
//! and says why. `RUNNER_SKIP_SDK_INTEROP=1` skips it on a machine without Python or Node — CI
//! never sets it.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use support::binary::console;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const DOC: &str = "docs/conformance.md";
const BEGIN: &str = "<!-- results: begin (written by scripts/conformance-table.sh) -->";
const END: &str = "<!-- results: end -->";
const UPDATE: &str = "RUNNER_UPDATE_CONFORMANCE";
const SKIP: &str = "RUNNER_SKIP_SDK_INTEROP";
const SETUP: &str = "`scripts/sdk-setup.sh` installs them (it needs Python >= 3.10 with pip, Node >= 18 with npm and \
     the PyPI and npm registries); RUNNER_SKIP_SDK_INTEROP=1 skips this test on a machine without them";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// How a server is started.
#[derive(Clone, Copy)]
enum Launch {
    /// The built-in lab, through `run --lab` (the pack's `lab:` blocks set its timings).
    Lab,
    /// tests/sdk/python/server.py.
    Python,
    /// tests/sdk/typescript/server.mjs, answering an unknown session id with this status.
    TypeScript { unknown_session: u16 },
}

/// One column of the table.
struct Server {
    launch: Launch,
    /// The vars file with this server's timings.
    vars: &'static str,
}

const SERVERS: [Server; 4] = [
    Server {
        launch: Launch::Lab,
        vars: "scenarios/mcp/quick.vars.yaml",
    },
    Server {
        launch: Launch::Python,
        vars: "tests/sdk/python/pack.vars.yaml",
    },
    Server {
        launch: Launch::TypeScript { unknown_session: 404 },
        vars: "tests/sdk/typescript/pack.vars.yaml",
    },
    Server {
        launch: Launch::TypeScript { unknown_session: 400 },
        vars: "tests/sdk/typescript/pack.vars.yaml",
    },
];

fn python() -> PathBuf {
    root().join("tests/sdk/python/.venv/bin/python")
}

fn typescript() -> PathBuf {
    root().join("tests/sdk/typescript")
}

/// The version a lock file pins: `mcp==X` in requirements.txt, the SDK's own package.json under
/// node_modules, `rmcp` in Cargo.lock.
fn version(launch: Launch) -> String {
    let read = |path: PathBuf| std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    match launch {
        Launch::Lab => {
            let lock = read(root().join("Cargo.lock"));
            let (_, after) = lock
                .split_once("name = \"rmcp\"\nversion = \"")
                .expect("rmcp in Cargo.lock");
            after.split('"').next().unwrap_or_default().to_string()
        }
        Launch::Python => {
            let requirements = read(root().join("tests/sdk/python/requirements.txt"));
            let line = requirements.lines().find_map(|l| l.strip_prefix("mcp=="));
            line.expect("mcp pinned in requirements.txt").trim().to_string()
        }
        Launch::TypeScript { .. } => {
            let package = read(typescript().join("node_modules/@modelcontextprotocol/sdk/package.json"));
            let package: Value = serde_json::from_str(&package).unwrap();
            package["version"].as_str().unwrap_or_default().to_string()
        }
    }
}

fn column(launch: Launch) -> String {
    let v = version(launch);
    match launch {
        Launch::Lab => format!("lab (rmcp {v})"),
        Launch::Python => format!("Python SDK (`mcp` {v})"),
        Launch::TypeScript { unknown_session: 404 } => format!("TypeScript SDK ({v})"),
        Launch::TypeScript { unknown_session } => {
            format!("TypeScript SDK ({v}), the example before 1.32: {unknown_session} for an unknown id")
        }
    }
}

/// True when both SDK servers are installed under tests/sdk/.
fn sdks_installed() -> bool {
    python().exists()
        && typescript()
            .join("node_modules/@modelcontextprotocol/sdk/package.json")
            .exists()
}

/// Installs the SDK servers when they are missing (`cargo test` on a fresh machine stays one
/// command), or fails saying what to do.
async fn require_sdks() {
    if !sdks_installed() {
        eprintln!("the SDK servers are not installed: running scripts/sdk-setup.sh");
        let setup = Command::new("bash")
            .arg(root().join("scripts/sdk-setup.sh"))
            .kill_on_drop(true)
            .status();
        let status = tokio::time::timeout(Duration::from_secs(600), setup)
            .await
            .unwrap_or_else(|_| panic!("scripts/sdk-setup.sh took more than 10 minutes: {SETUP}"))
            .unwrap_or_else(|e| panic!("cannot run scripts/sdk-setup.sh ({e}): {SETUP}"));
        assert!(status.success(), "scripts/sdk-setup.sh failed ({status}): {SETUP}");
    }
    assert!(
        sdks_installed(),
        "scripts/sdk-setup.sh left an SDK server missing: {SETUP}"
    );
    let node = std::process::Command::new("node").arg("--version").output();
    assert!(node.is_ok_and(|o| o.status.success()), "`node` does not run: {SETUP}");
}

/// A started SDK server: the child (killed when dropped) and its MCP endpoint.
async fn start(launch: Launch, dir: &Path) -> Option<(Child, String)> {
    let mut command = match launch {
        Launch::Lab => return None,
        Launch::Python => {
            let mut c = Command::new(python());
            c.arg(root().join("tests/sdk/python/server.py"))
                .args(["--session-timeout", "5"]);
            c
        }
        Launch::TypeScript { unknown_session } => {
            let mut c = Command::new("node");
            c.current_dir(typescript())
                .arg("server.mjs")
                .args(["--session-timeout", "5000", "--cleanup-interval", "500"])
                .args(["--unknown-session-status", &unknown_session.to_string()]);
            c
        }
    };
    let log = dir.join("server.log");
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start the {} server: {e}: {SETUP}", column(launch)));
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = tokio::time::timeout(Duration::from_secs(60), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(url) = line.strip_prefix("listening on ") {
                return Some(url.to_string());
            }
        }
        None
    })
    .await;
    let Ok(Some(url)) = first else {
        let log = std::fs::read_to_string(&log).unwrap_or_default();
        panic!("the {} server did not start: {log}", column(launch));
    };
    // Keep reading: a full pipe would block the server.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Some((child, url))
}

/// Runs the pack against one server; returns each scenario's file stem with its outcome.
async fn run_pack(server: &Server) -> BTreeMap<String, (String, String)> {
    let dir = tempfile::tempdir().unwrap();
    let started = start(server.launch, dir.path()).await;
    let (pack, vars, out) = (
        root().join("scenarios/mcp"),
        root().join(server.vars),
        dir.path().join("out"),
    );
    let mut args: Vec<String> = vec![
        "run".into(),
        pack.display().to_string(),
        "--vars".into(),
        vars.display().to_string(),
        "--parallel".into(),
        "--out".into(),
        out.display().to_string(),
        "--progress".into(),
        "never".into(),
    ];
    match &started {
        Some((_, url)) => args.extend(["--set".into(), format!("mcp_url={url}")]),
        None => args.push("--lab".into()),
    }
    let output = support::binary::runner(&args, dir.path(), Duration::from_secs(180)).await;
    let mut outcomes = BTreeMap::new();
    for entry in std::fs::read_dir(&pack).unwrap() {
        let path = entry.unwrap().path();
        if !runner::load::is_scenario_file(&path) {
            continue;
        }
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let report = out.join(&stem).join("report.json");
        let report: Value = match std::fs::read_to_string(&report) {
            Ok(text) => serde_json::from_str(&text).unwrap(),
            Err(e) => panic!("{}: {e}\n{}", report.display(), console(&output)),
        };
        let name = report["name"].as_str().unwrap_or(&stem).to_string();
        outcomes.insert(stem, (name, outcome(&report)));
    }
    outcomes
}

/// `pass`, or `FAIL:` and the steps that failed (client steps, or the `after:` checks when no
/// client step failed), in file order.
fn outcome(report: &Value) -> String {
    if report["status"] == "passed" {
        return "pass".into();
    }
    let mut failed = BTreeMap::new();
    for client in report["clients"].as_array().into_iter().flatten() {
        failed_steps(&client["steps"], &mut failed);
    }
    if failed.is_empty() {
        failed_steps(&report["before"], &mut failed);
        failed_steps(&report["after"], &mut failed);
    }
    if failed.is_empty() {
        let error = report["error"].as_str().unwrap_or("no step failed");
        return format!("FAIL: {error}");
    }
    let names: Vec<String> = failed.into_values().map(|name| format!("`{name}`")).collect();
    format!("FAIL: {}", names.join("; "))
}

/// Collects the names of failed steps by their position (`line:col`), looking inside groups and loops.
fn failed_steps(steps: &Value, into: &mut BTreeMap<(u64, u64), String>) {
    for step in steps.as_array().into_iter().flatten() {
        if step["status"] == "failed" {
            let at = step["at"].as_str().unwrap_or("0:0");
            let (line, col) = at.split_once(':').unwrap_or(("0", "0"));
            let key = (line.parse().unwrap_or(0), col.parse().unwrap_or(0));
            into.entry(key)
                .or_insert_with(|| step["name"].as_str().unwrap_or("?").to_string());
        }
        failed_steps(&step["steps"], into);
    }
}

/// The results table: a row per check, a column per server.
fn table(columns: &[String], runs: &[BTreeMap<String, (String, String)>]) -> String {
    let mut text = format!(
        "| check | {} |\n|---|{}\n",
        columns.join(" | "),
        "---|".repeat(columns.len())
    );
    for (stem, (name, _)) in &runs[0] {
        let cells: Vec<&str> = runs
            .iter()
            .map(|run| run.get(stem).map_or("not run", |(_, outcome)| outcome.as_str()))
            .collect();
        text += &format!("| [{name}](../scenarios/mcp/{stem}.yaml) | {} |\n", cells.join(" | "));
    }
    text
}

fn documented_table(doc: &str) -> Option<(usize, usize)> {
    let start = doc.find(BEGIN)? + BEGIN.len();
    let end = start + doc[start..].find(END)?;
    Some((start, end))
}

#[tokio::test]
async fn the_pack_gives_the_documented_outcome_on_every_server() {
    if std::env::var_os(SKIP).is_some() {
        eprintln!("{SKIP} is set: the pack is not run against the SDK servers");
        return;
    }
    require_sdks().await;
    let path = root().join(DOC);
    let doc = std::fs::read_to_string(&path).unwrap();
    let (start, end) = documented_table(&doc).unwrap_or_else(|| panic!("{DOC} has no `{BEGIN}` … `{END}` block"));
    let mut produced = pack_table().await;
    if std::env::var_os(UPDATE).is_some() {
        std::fs::write(&path, format!("{}{produced}{}", &doc[..start], &doc[end..])).unwrap();
        return;
    }
    if doc[start..end] != produced {
        // The expiry checks race a server's timers on quick timings: on a loaded machine one
        // can flip now and then. A real change shows again; only a second difference fails.
        eprintln!("the pack's outcome differs from {DOC}; running it once more:\n{produced}");
        produced = pack_table().await;
    }
    assert_eq!(
        &doc[start..end],
        produced,
        "the pack's outcome differs from the table in {DOC}; if the change is meant, run scripts/conformance-table.sh"
    );
}

/// The pack against every server, one at a time, as the results table: four packs of a hundred
/// clients at once on a small machine slow the answers past the quick timeouts, and the outcome
/// would depend on the machine's load.
async fn pack_table() -> String {
    let mut runs = Vec::with_capacity(SERVERS.len());
    for server in &SERVERS {
        runs.push(run_pack(server).await);
    }
    let columns: Vec<String> = SERVERS.iter().map(|s| column(s.launch)).collect();
    format!("\n{}", table(&columns, &runs))
}

#[test]
fn the_documented_checks_name_every_scenario_of_the_pack() {
    let doc = std::fs::read_to_string(root().join(DOC)).unwrap();
    let (start, _) = documented_table(&doc).expect("a results block");
    let checks = &doc[..start];
    for entry in std::fs::read_dir(root().join("scenarios/mcp")).unwrap() {
        let path = entry.unwrap().path();
        if runner::load::is_scenario_file(&path) {
            let file = path.file_name().unwrap().to_string_lossy().into_owned();
            assert!(
                checks.contains(&format!("(../scenarios/mcp/{file})")),
                "{DOC} does not list {file} with its source"
            );
        }
    }
}
