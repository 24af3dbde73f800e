//! `junit.xml` as a CI system reads it: the real binary runs a scenario with a passing and a
//! failing client group, a `before:` step and thresholds against the lab, and Python's
//! `junitparser` (installed by scripts/sdk-setup.sh into tests/tools/.venv) reads the file each
//! scenario's folder gets and the whole run's `--junit` file.

mod support;

use std::path::{Path, PathBuf};

use serde_json::Value;
use support::binary::{console, run_file_with};

/// Given with `--secret`, with the characters XML escapes.
const SECRET: &str = "Planted<&>Secret";

const SCENARIO: &str = r#"name: junit check
vars:
  mcp_url: http://127.0.0.1:1/mcp
  api_token: none
connections:
  server: { mcp: { url: "{{ vars.mcp_url }}" } }
before:
  - name: settle
    wait: 10ms
clients:
  good:
    count: 2
    steps:
      - initialize: {}
      - call: echo
        arguments: { text: hi }
        expect:
          - $.result.content[0].text: hi
  bad:
    steps:
      - initialize: {}
      - call: echo
        arguments: { text: hi }
        expect:
          - $.result.content[0].text: "{{ vars.api_token }}"
thresholds:
  echo.failed: "== 0"
  echo.requests: ">= 3"
"#;

/// What junitparser read of a file: each suite with its counts and its cases.
const READ: &str = r#"
import json, sys
from junitparser import JUnitXml, Failure, Skipped
xml = JUnitXml.fromfile(sys.argv[1])
def case(c):
    results = [{"kind": type(r).__name__, "message": r.message, "text": r.text} for r in c.result]
    return {"name": c.name, "classname": c.classname, "time": c.time, "results": results}
suites = [{"name": s.name, "tests": s.tests, "failures": s.failures, "skipped": s.skipped,
           "cases": [case(c) for c in s]} for s in xml]
print(json.dumps(suites))
"#;

fn python() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools/.venv/bin/python")
}

fn read(file: &Path) -> Value {
    let output = std::process::Command::new(python())
        .args(["-c", READ])
        .arg(file)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e} (run scripts/sdk-setup.sh)", python().display()));
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Runs [`SCENARIO`] against the lab with the secret given and `more` arguments, into `out/`;
/// the folder the run worked in, and the scenario file in it.
async fn run_check(more: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("junit-check.yaml");
    std::fs::write(&file, SCENARIO).unwrap();
    let secret = format!("api_token={SECRET}");
    let args = [&["--lab", "--secret", &secret][..], more].concat();
    let output = run_file_with(&file, &[], Path::new("out"), dir.path(), &args).await;
    assert_eq!(output.status.code(), Some(1), "{}", console(&output));
    (dir, file)
}

#[tokio::test]
async fn junitparser_reads_each_case_and_every_failure_names_its_step() {
    let (dir, file) = run_check(&["--junit", "all.xml"]).await;

    let own = read(&dir.path().join("out/junit.xml"));
    assert_eq!(own, read(&dir.path().join("all.xml")), "one scenario: the same suites");
    let suite = &own[0];
    assert_eq!(own.as_array().unwrap().len(), 1);
    assert_eq!(suite["name"], "junit check");
    assert_eq!(
        (suite["tests"].as_u64(), suite["failures"].as_u64()),
        (Some(6), Some(2)),
        "{suite:#}"
    );
    let cases: Vec<(&str, &str, usize)> = (suite["cases"].as_array().unwrap().iter())
        .map(|c| {
            let name = c["name"].as_str().unwrap();
            (
                name,
                c["classname"].as_str().unwrap(),
                c["results"].as_array().unwrap().len(),
            )
        })
        .collect();
    assert_eq!(
        cases,
        [
            ("before: settle", "junit check.before", 0),
            ("good #1", "junit check.good", 0),
            ("good #2", "junit check.good", 0),
            ("bad #1", "junit check.bad", 1),
            ("threshold echo.failed == 0", "junit check.thresholds", 1),
            ("threshold echo.requests >= 3", "junit check.thresholds", 0),
        ]
    );

    let failure = &suite["cases"][3]["results"][0];
    assert_eq!(failure["kind"], "Failure");
    let message = failure["message"].as_str().unwrap();
    let at = format!("step `echo` ({}:22:9)", file.display());
    assert!(message.starts_with(&at), "{message}");
    assert!(message.contains("expected \"***\", found \"hi\""), "{message}");
    let text = failure["text"].as_str().unwrap();
    assert!(
        text.contains(&format!("assertion at {}:25:13", file.display())),
        "{text}"
    );
    let breach = &suite["cases"][4]["results"][0]["message"];
    assert_eq!(breach, "threshold `echo.failed` breached: value 1 (limit == 0)");

    for written in ["out/junit.xml", "all.xml"] {
        let raw = std::fs::read_to_string(dir.path().join(written)).unwrap();
        assert!(!raw.contains("Planted"), "{written} holds the secret: {raw}");
    }
}

#[tokio::test]
async fn runner_report_writes_the_same_junit_xml_and_report_html_again_from_report_json() {
    let (dir, _) = run_check(&[]).await;
    let files = ["junit.xml", "report.html"].map(|name| dir.path().join("out").join(name));
    let written = files.clone().map(|file| std::fs::read_to_string(file).unwrap());
    for file in &files {
        std::fs::remove_file(file).unwrap();
    }

    let limit = std::time::Duration::from_secs(30);
    let output = support::binary::runner(&["report", "out"], dir.path(), limit).await;
    assert_eq!(output.status.code(), Some(0), "{}", console(&output));
    assert_eq!(
        files.clone().map(|file| std::fs::read_to_string(file).unwrap()),
        written
    );
    // A run's folder of scenario folders is read one level down.
    let output = support::binary::runner(&["report", "."], dir.path(), limit).await;
    assert_eq!(output.status.code(), Some(0), "{}", console(&output));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "./out/junit.xml\n./out/report.html\n"
    );

    let output = support::binary::runner(&["report", "missing"], dir.path(), limit).await;
    assert_eq!(output.status.code(), Some(2));
    assert!(
        console(&output).starts_with("error: cannot read missing"),
        "{}",
        console(&output)
    );
}
