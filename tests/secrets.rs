//! No secret reaches an output: a scenario plants every kind of secret — a PostgreSQL URL's
//! password, `user:password@` in HTTP and MCP URLs, an `Authorization` header, `?password=`,
//! `?token=`, `?access_token=`, `?api_key=`, `--set` and `--secret` values (given and from the
//! environment) — and every output of `run`, `plan` (both formats) and `validate` is searched for
//! them. A hostile server's text and a hostile name cannot repaint the terminal either.

mod support;

use std::path::Path;
use std::process::Output;
use std::time::Duration;

/// Every planted secret; none may appear in any output.
const PLANTED: &[&str] = &[
    "PlantedPgPw1",
    "PlantedUserinfo2",
    "PlantedMcpUserinfo3",
    "PlantedSetValue4",
    "PlantedAuthHeader5",
    "PlantedQueryPassword6",
    "PlantedQueryToken7",
    "PlantedAccessToken8",
    "PlantedApiKey9",
    "PlantedRefusedUserinfo10",
    "PlantedSecret11",
    "PlantedEnvSecret12",
    "PlantedMcpAuth13",
];

/// The scenario: the variables the command line fills, and steps that send every secret
/// somewhere — to PostgreSQL, to the local server (which echoes bodies back), to refused ports.
const SCENARIO: &str = r#"name: "planted\e[2J\u202e"
vars:
  db_url: postgres://nobody@127.0.0.1:1/none
  api: http://127.0.0.1:1
  api_token: none
  given: none
  FROM_ENV: none
connections:
  db: { sql: { url: "{{ vars.db_url }}" } }
  api:
    http:
      base_url: "{{ vars.api }}"
      headers: { Authorization: "Bearer PlantedAuthHeader5", X-Plain: "{{ vars.given }}" }
  server:
    mcp:
      url: "http://mcpuser:PlantedMcpUserinfo3@127.0.0.1:1/mcp"
      headers: { Authorization: "Bearer PlantedMcpAuth13" }
clients:
  main:
    steps:
      - name: "seen\e[31m"
        sql: SELECT $1::text AS seen
        params: ["{{ vars.given }}"]
        continue_on_failure: true
      - http:
          path: /ok
          query: { password: PlantedQueryPassword6, token: PlantedQueryToken7, access_token: PlantedAccessToken8, api_key: PlantedApiKey9 }
        expect:
          - $.status: 201
        continue_on_failure: true
      - http: { url: "http://admin:PlantedRefusedUserinfo10@127.0.0.1:1/x?password=PlantedQueryPassword6&token=PlantedQueryToken7" }
        continue_on_failure: true
      - http:
          method: POST
          path: /echo
          json: { token: "{{ vars.api_token }}", note: "{{ vars.given }} {{ vars.FROM_ENV }}", evil: "\e[2J\u202e" }
        expect:
          - $.body.echo.note: nothing
          - $.body.echo.evil: nothing
        continue_on_failure: true
      - initialize: {}
"#;

/// `runner ARGS…` with `FROM_ENV` set, within 60 s.
async fn runner(args: &[String], cwd: &Path) -> Output {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_runner"));
    cmd.current_dir(cwd)
        .args(args)
        .env("FROM_ENV", "PlantedEnvSecret12")
        .kill_on_drop(true);
    tokio::time::timeout(Duration::from_secs(60), cmd.output())
        .await
        .expect("runner ended within 60 s")
        .unwrap()
}

/// The planted secrets found in `text`.
fn leaks(text: &str) -> Vec<&'static str> {
    PLANTED.iter().copied().filter(|s| text.contains(s)).collect()
}

/// Every file under `dir`, with its text.
fn files(dir: &Path) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files(&path));
        } else {
            let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
            found.push((path.display().to_string(), text));
        }
    }
    found
}

#[tokio::test]
async fn planted_secrets_reach_no_output() {
    let server = support::start().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("planted.yaml"), SCENARIO).unwrap();
    let pg = support::pg::database_url().replacen('@', ":PlantedPgPw1@", 1);
    let vars: Vec<String> = [
        "--set",
        &format!("db_url={pg}"),
        "--set",
        &format!("api=http://admin:PlantedUserinfo2@{server}"),
        "--set",
        "api_token=PlantedSetValue4",
        "--secret",
        "given=PlantedSecret11",
        // A bare name reads the environment variable of that name.
        "--secret",
        "FROM_ENV",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();

    let mut outputs: Vec<(String, String)> = Vec::new();
    let with = |command: &[&str]| -> Vec<String> {
        command
            .iter()
            .map(|s| s.to_string())
            .chain(vars.iter().cloned())
            .collect()
    };
    for (label, args) in [
        ("run", with(&["run", "planted.yaml", "--out", "out"])),
        ("plan", with(&["plan", "planted.yaml"])),
        ("plan json", with(&["plan", "planted.yaml", "--format", "json"])),
        ("validate", with(&["validate", "planted.yaml"])),
    ] {
        let output = runner(&args, dir.path()).await;
        let expected = if label == "run" { 1 } else { 0 };
        assert_eq!(
            output.status.code(),
            Some(expected),
            "{label}: {}",
            support::binary::console(&output)
        );
        outputs.push((
            format!("{label} stdout"),
            String::from_utf8_lossy(&output.stdout).into_owned(),
        ));
        outputs.push((
            format!("{label} stderr"),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        ));
    }
    let results = files(&dir.path().join("out"));
    assert!(
        results.iter().any(|(name, _)| name.ends_with("transcript.jsonl")) && results.len() >= 3,
        "{results:?}"
    );
    outputs.extend(results);

    for (name, text) in &outputs {
        assert_eq!(leaks(text), Vec::<&str>::new(), "{name}:\n{text}");
    }
    let all: String = outputs.iter().map(|(_, text)| text.as_str()).collect();
    // The masks are there, so the secrets were on their way out.
    for masked in [
        "postgres://postgres:***@",
        "http://admin:***@127.0.0.1:1/x?password=***&token=***",
        "\"api_token\": \"***\"",
        "***",
    ] {
        assert!(all.contains(masked), "no `{masked}` in any output");
    }
}

#[tokio::test]
async fn hostile_names_and_server_text_cannot_repaint_the_terminal() {
    let server = support::start().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("planted.yaml"), SCENARIO).unwrap();
    let args: Vec<String> = [
        "run",
        "planted.yaml",
        "--out",
        "out",
        "--set",
        &format!("api=http://{server}"),
        "--secret",
        "FROM_ENV",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let output = runner(&args, dir.path()).await;
    let console = support::binary::console(&output);
    assert_eq!(output.status.code(), Some(1), "{console}");
    for bad in ['\u{1b}', '\u{202e}', '\r'] {
        assert!(!console.contains(bad), "{bad:?} reached the console:\n{console}");
    }
    assert!(console.contains("planted\\u{1b}[2J\\u{202e}: 0/1 passed"), "{console}");
    assert!(console.contains("main #1: "), "{console}");
    assert!(console.contains("seen\\u{1b}[31m"), "{console}");
    // The files keep the text as it was (JSON escapes it).
    let client = std::fs::read_dir(dir.path().join("out"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("client_1_"))
        .unwrap();
    let value: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(client).unwrap()).unwrap();
    assert_eq!(value["steps"][0]["name"], "seen\u{1b}[31m");
}

/// `runner validate s.yaml EXTRA…` on a file declaring `pw`: its exit code and console.
async fn validate(dir: &Path, extra: &[&str]) -> (Option<i32>, String) {
    let args: Vec<String> = ["validate", "s.yaml"]
        .iter()
        .chain(extra)
        .map(|s| s.to_string())
        .collect();
    let output = runner(&args, dir).await;
    (output.status.code(), support::binary::console(&output))
}

#[tokio::test]
async fn a_secret_must_be_given_or_set_in_the_environment_and_not_also_by_set() {
    let dir = tempfile::tempdir().unwrap();
    let file = "vars:\n  pw: x\n  UNSET_FOR_THE_TEST: y\nbefore:\n  - check: \"{{ vars.pw != '' }}\"\n";
    std::fs::write(dir.path().join("s.yaml"), file).unwrap();
    let cases: [(&[&str], &str); 3] = [
        (
            &["--set", "pw=first-value", "--secret", "pw=second-value"],
            "`pw` is given by both --set and --secret",
        ),
        (
            &["--secret", "UNSET_FOR_THE_TEST"],
            "the environment variable `UNSET_FOR_THE_TEST` is not set",
        ),
        (
            &["--secret", "pww=second-value"],
            "no scenario in this run declares the variable `pww`\n--> --secret",
        ),
    ];
    for (extra, message) in cases {
        let (code, console) = validate(dir.path(), extra).await;
        assert_eq!(code, Some(2), "{extra:?}: {console}");
        assert!(console.contains(message), "{extra:?}: {console}");
        assert!(!console.contains("second-value"), "{extra:?}: {console}");
    }
    let (code, console) = validate(dir.path(), &["--secret", "pw=second-value"]).await;
    assert_eq!(code, Some(0), "{console}");
}
