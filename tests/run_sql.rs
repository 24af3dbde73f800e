//! `runner run` end to end with `sql` steps: the real binary against the machine's PostgreSQL
//! (`DATABASE_URL`, else `postgres://postgres@127.0.0.1:5432/test`; each test in a schema of its
//! own), a mock server for a wrong password, and SQLite files in temporary folders.
//!
//! A PostgreSQL that is missing or unreachable fails these tests; they never skip.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};
use support::pg::{self, Schema};

/// The connection `db` at `vars.db`, which every run sets with `--set db=URL`.
const DB: &str = "vars:\n  db: unset\nconnections:\n  db: { sql: { url: \"{{ vars.db }}\" } }\n";

/// A password that must never reach an output file or the console (trust auth ignores it).
const SECRET: &str = "hunter2";

/// One finished run of the binary.
struct Run {
    _dir: tempfile::TempDir,
    file: PathBuf,
    out: PathBuf,
    code: Option<i32>,
    console: String,
}

/// Writes `name: NAME` and `body` to a scenario file and runs it with `--set` for each of `sets`.
async fn run_with(name: &str, sets: &[(&str, &str)], body: &str) -> Run {
    run_with_args(name, sets, body, &[]).await
}

/// [`run_with`], with more arguments for `runner run`.
async fn run_with_args(name: &str, sets: &[(&str, &str)], body: &str, more: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(format!("{name}.yaml"));
    std::fs::write(&file, format!("name: {name}\n{body}")).unwrap();
    let out = dir.path().join("out");
    let sets: Vec<String> = sets.iter().map(|(var, value)| format!("{var}={value}")).collect();
    let output = support::binary::run_file_with(&file, &sets, &out, Path::new("."), more).await;
    Run {
        _dir: dir,
        file,
        out,
        code: output.status.code(),
        console: format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    }
}

/// Runs `body` with `vars.db` set to `url`.
async fn run(name: &str, url: &str, body: &str) -> Run {
    run_with(name, &[("db", url)], body).await
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

impl Run {
    fn client(&self, group: &str, id: u32) -> Value {
        read_json(&self.out.join(format!("client_{id}_{group}.json")))
    }

    fn report(&self) -> Value {
        read_json(&self.out.join("report.json"))
    }

    fn transcript(&self) -> Vec<Value> {
        let path = self.out.join("transcript.jsonl");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    }

    /// The response of the first request of step `step` in the transcript.
    fn response(&self, step: &str) -> Value {
        self.transcript()
            .into_iter()
            .find(|line| line["step"] == step)
            .unwrap_or_else(|| panic!("no request of `{step}` in the transcript"))["response"]
            .clone()
    }

    /// The first row of step `step`'s answer.
    fn row(&self, step: &str) -> Value {
        self.response(step)["rows"][0].clone()
    }

    /// The error of client 1 of `group`, which must have failed.
    fn error(&self, group: &str) -> String {
        assert_eq!(self.code, Some(1), "{}", self.console);
        let client = self.client(group, 1);
        client["error"]
            .as_str()
            .unwrap_or_else(|| panic!("no error: {client}"))
            .to_string()
    }

    /// Every one of `count` clients of `group` passed.
    fn assert_all_passed(&self, group: &str, count: u32) {
        self.assert_passed();
        assert_eq!(self.report()["summary"]["passed"], count);
        for id in 1..=count {
            let client = self.client(group, id);
            assert_eq!(client["success"], true, "{client}");
        }
    }

    fn assert_passed(&self) {
        assert_eq!(self.code, Some(0), "{}", self.console);
        assert_eq!(self.report()["status"], "passed");
    }

    /// `FILE:LINE:COL` of the first `needle` in the scenario file.
    fn place(&self, needle: &str) -> String {
        let text = std::fs::read_to_string(&self.file).unwrap();
        let offset = text
            .find(needle)
            .unwrap_or_else(|| panic!("`{needle}` is not in the file"));
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().unwrap().chars().count() + 1;
        format!("{}:{line}:{col}", self.file.display())
    }

    /// Fails if `secret` is in the console output or any file the run wrote.
    fn assert_never_shows(&self, secret: &str) {
        assert!(!self.console.contains(secret), "{}", self.console);
        for entry in std::fs::read_dir(&self.out).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(!text.contains(secret), "{}: {text}", path.display());
        }
    }
}

/// The schema's URL with a password added to its user (`postgres://user@` → `user:hunter2@`).
fn with_password(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (user, host) = rest.split_once('@').expect("DATABASE_URL names a user");
    let user = user.split(':').next().unwrap();
    format!("{scheme}://{user}:{SECRET}@{host}")
}

/// The URL with its user replaced.
fn with_user(url: &str, user: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (_, host) = rest.split_once('@').expect("DATABASE_URL names a user");
    format!("{scheme}://{user}:{SECRET}@{host}")
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL: values and parameters
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn postgres_values_come_back_as_json_of_their_type() {
    let schema = Schema::create().await;
    let body = format!(
        r#"{DB}clients:
  main:
    steps:
      - name: zoo
        sql: |
          SELECT 42::int2 AS i2, -42::int4 AS i4, 9007199254740993::int8 AS i8,
                 19.90::numeric(10,2) AS price, 12345678901234567890.123::numeric AS big,
                 1.5::float4 AS f4, 2.25::float8 AS f8, true AS yes, false AS no,
                 'hé'::text AS t, 'v'::varchar(5) AS vc,
                 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid AS id,
                 '2026-11-25 10:00:00+02'::timestamptz AS tz,
                 '2026-11-25 10:00:00'::timestamp AS ts, '2026-11-25'::date AS d,
                 '1 day 1 hour 30 minutes'::interval AS iv,
                 '{{"a": [1, "x"]}}'::json AS j, '{{"b": {{"c": null}}}}'::jsonb AS jb,
                 ARRAY['x', NULL] AS arr, ARRAY[[1, 2], [3, 4]] AS grid,
                 '\xdeadbeef'::bytea AS bin, NULL::text AS nothing
        expect:
          - $.row_count: 1
          - $.rows[0].price: 19.9
          - $.rows[0].big: "12345678901234567890.123"
          - $.rows[0].tz: "2026-11-25T08:00:00+00:00"
          - {{ path: "$.rows[0].jb", type: object }}
          - {{ path: "$.rows[0].arr", equals: [x, null] }}
          - {{ path: "$.rows[0].nothing", type: "null" }}
"#
    );
    let run = run("pg-zoo", schema.url(), &body).await;
    run.assert_passed();
    let answer = run.response("zoo");
    assert_eq!(
        answer["columns"],
        json!([
            "i2", "i4", "i8", "price", "big", "f4", "f8", "yes", "no", "t", "vc", "id", "tz", "ts", "d", "iv", "j",
            "jb", "arr", "grid", "bin", "nothing"
        ])
    );
    assert_eq!(answer["row_count"], 1);
    assert!(answer["elapsed_ms"].is_number(), "{answer}");
    let row = &answer["rows"][0];
    assert_eq!(
        *row,
        json!({
            "i2": 42, "i4": -42, "i8": 9007199254740993_i64,
            "price": 19.9, "big": "12345678901234567890.123",
            "f4": 1.5, "f8": 2.25, "yes": true, "no": false,
            "t": "hé", "vc": "v",
            "id": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
            "tz": "2026-11-25T08:00:00+00:00",
            "ts": "2026-11-25T10:00:00", "d": "2026-11-25",
            "iv": "1 day 01:30:00",
            "j": {"a": [1, "x"]}, "jb": {"b": {"c": null}},
            "arr": ["x", null], "grid": [[1, 2], [3, 4]],
            "bin": "\\xdeadbeef", "nothing": null,
        })
    );
    // Rows are objects in column order.
    let keys: Vec<&String> = row.as_object().unwrap().keys().collect();
    assert_eq!(json!(keys), answer["columns"]);
}

#[tokio::test]
async fn postgres_params_bind_to_the_type_the_server_infers() {
    let schema = Schema::create().await;
    let body = format!(
        r#"{DB}clients:
  main:
    steps:
      - name: params
        sql: |
          SELECT $1::int AS i, $2::float8 AS f, $3::numeric AS n, $4::bool AS b, $5::text AS t,
                 $6::text AS nothing, $7::jsonb AS j, $8::uuid AS u, $9::timestamptz AS tz,
                 $10::int[] AS list, $11 AS untyped, $12::int8 AS templated
        params:
          - 42
          - 2.5
          - "12345678901234567890.123"
          - true
          - "it's \"quoted\""
          - null
          - {{ a: [1, "x"], b: null, c: {{ d: false }} }}
          - a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11
          - "2026-11-25T10:00:00+02:00"
          - [1, null, 3]
          - 5
          - "{{{{ 40 + 2 }}}}"
        expect:
          - $.rows[0].i: 42
          - $.rows[0].j.c.d: false
          - {{ path: "$.rows[0].list", length: 3 }}
"#
    );
    let run = run("pg-params", schema.url(), &body).await;
    run.assert_passed();
    assert_eq!(
        run.row("params"),
        json!({
            "i": 42, "f": 2.5, "n": "12345678901234567890.123", "b": true, "t": "it's \"quoted\"",
            "nothing": null, "j": {"a": [1, "x"], "b": null, "c": {"d": false}},
            "u": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "tz": "2026-11-25T08:00:00+00:00",
            "list": [1, null, 3], "untyped": "5", "templated": 42,
        })
    );
    // The transcript shows the values as bound.
    let line = run.transcript().into_iter().find(|l| l["step"] == "params").unwrap();
    assert_eq!(line["request"]["params"][0], 42);
    assert_eq!(line["request"]["params"][11], 42);
    assert_eq!(line["request"]["connection"], "db");
}

#[tokio::test]
async fn a_param_that_does_not_fit_its_placeholder_is_named() {
    let schema = Schema::create().await;
    let body = format!(
        r#"{DB}clients:
  main:
    steps:
      - name: object for int
        sql: SELECT $1::int AS n
        params: [{{ a: 1 }}]
        continue_on_failure: true
        expect: [ {{ $.row_count: 1 }} ]
      - name: one value for two
        sql: SELECT $1::int AS a, $2::int AS b
        params: [1]
        expect: [ {{ $.row_count: 1 }} ]
"#
    );
    let run = run("pg-bind", schema.url(), &body).await;
    assert_eq!(run.code, Some(1), "{}", run.console);
    let steps = &run.client("main", 1)["steps"];
    let object = steps[0]["error"].as_str().unwrap();
    assert!(
        object.ends_with("parameter 1: `$1` is `int4` here: cannot bind an object to an integer"),
        "{object}"
    );
    assert!(
        object.starts_with(&format!("step `object for int` ({}", run.file.display())),
        "{object}"
    );
    let count = steps[1]["error"].as_str().unwrap();
    assert!(
        count.ends_with("parameter 2: the query uses `$2` but `params` gives 1 value"),
        "{count}"
    );
    assert_eq!(steps[0]["status"], "failed");
    assert_eq!(steps[1]["status"], "failed");
}

#[tokio::test]
async fn statements_without_rows_report_the_rows_they_changed() {
    let schema = Schema::create().await;
    let body = format!(
        r#"{DB}clients:
  main:
    steps:
      - name: create
        sql: CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL)
        expect: [ {{ $.row_count: 0 }} ]
      - name: insert
        sql: INSERT INTO items VALUES (1, 'one'), (2, 'two')
        expect: [ {{ $.row_count: 2 }} ]
      - name: returning
        sql: INSERT INTO items VALUES ($1, $2) RETURNING *
        params: [3, three]
        expect:
          - $.rows[0].name: three
      - name: update
        sql: UPDATE items SET name = upper(name) WHERE id < 3
        expect: [ {{ $.row_count: 2 }} ]
      - name: show
        sql: SHOW server_version
        expect:
          - {{ path: "$.rows[0].server_version", type: string }}
"#
    );
    let run = run("pg-no-rows", schema.url(), &body).await;
    run.assert_passed();
    assert_eq!(
        run.response("create"),
        json!({"rows": [], "row_count": 0, "columns": [], "elapsed_ms": run.response("create")["elapsed_ms"]})
    );
    assert_eq!(run.response("insert")["row_count"], 2);
    let returning = run.response("returning");
    assert_eq!(returning["rows"], json!([{"id": 3, "name": "three"}]));
    assert_eq!(returning["columns"], json!(["id", "name"]));
    assert_eq!(returning["row_count"], 1);
    assert_eq!(run.response("update")["row_count"], 2);
    assert_eq!(run.response("show")["columns"], json!(["server_version"]));
    let names = schema.query("SELECT name FROM items ORDER BY id").await;
    let names: Vec<String> = names.iter().map(|r| r.get(0)).collect();
    assert_eq!(names, ["ONE", "TWO", "three"]);
}

#[tokio::test]
async fn a_data_modifying_with_returns_typed_rows() {
    let schema = Schema::create().await;
    schema
        .execute("CREATE TABLE jobs (id int PRIMARY KEY, state text, cost numeric)")
        .await;
    schema
        .execute("INSERT INTO jobs VALUES (7, 'queued', 1.50), (8, 'queued', 2)")
        .await;
    let body = format!(
        r#"{DB}clients:
  main:
    steps:
      - name: claim
        sql: |
          WITH claimed AS (
            UPDATE jobs SET state = 'running' WHERE id = 7 RETURNING id, cost -- one job
          )
          SELECT id, cost FROM claimed
        expect: [ {{ "$.rows[0].id": 7 }} ]
      - name: claim with a param
        sql: WITH c AS (UPDATE jobs SET state = $1 WHERE id = $2 RETURNING *) SELECT * FROM c;
        params: [done, 8]
        expect: [ {{ "$.rows[0].state": done }} ]
"#
    );
    let run = run("pg-modifying-with", schema.url(), &body).await;
    run.assert_passed();
    assert_eq!(run.response("claim")["rows"], json!([{"id": 7, "cost": 1.5}]));
    assert_eq!(
        run.response("claim with a param")["rows"],
        json!([{"id": 8, "state": "done", "cost": 2}])
    );
}

#[tokio::test]
async fn repeated_column_names_are_numbered_not_lost() {
    let body = format!(
        r#"{DB}clients:
  main:
    steps:
      - name: dupes
        sql: SELECT 1 AS a, 2 AS a, 3, 4
        expect: [ {{ "$.rows[0].a_2": 2 }} ]
"#
    );
    let run = run("pg-dupes", &pg::database_url(), &body).await;
    run.assert_passed();
    let response = run.response("dupes");
    assert_eq!(response["columns"], json!(["a", "a_2", "?column?", "?column?_2"]));
    assert_eq!(
        response["rows"],
        json!([{"a": 1, "a_2": 2, "?column?": 3, "?column?_2": 4}])
    );
}

#[tokio::test]
async fn an_injection_attempt_stays_a_literal() {
    let schema = Schema::create().await;
    schema.execute("CREATE TABLE notes (body text)").await;
    let body = format!(
        r#"{DB}clients:
  main:
    steps:
      - name: insert
        sql: INSERT INTO notes (body) VALUES ($1)
        params: ["x'); DROP TABLE notes; --"]
        expect: [ {{ $.row_count: 1 }} ]
      - name: look up
        sql: SELECT count(*) AS n FROM notes WHERE body = $1
        params: ["' OR '1'='1"]
        expect:
          - $.rows[0].n: 0
      - name: read
        sql: SELECT body FROM notes
        expect:
          - $.rows[0].body: "x'); DROP TABLE notes; --"
"#
    );
    let run = run("pg-injection", schema.url(), &body).await;
    run.assert_passed();
    let rows = schema.query("SELECT body FROM notes").await;
    let bodies: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(bodies, ["x'); DROP TABLE notes; --"]);
}

#[tokio::test]
async fn before_seeds_a_table_and_after_cleans_it_up() {
    let schema = Schema::create().await;
    let body = format!(
        r#"{DB}before:
  - name: create
    sql: CREATE TABLE seeded (id int PRIMARY KEY, name text)
    expect: [ {{ $.row_count: 0 }} ]
  - name: seed
    sql: INSERT INTO seeded VALUES (1, 'one'), (2, 'two')
    expect: [ {{ $.row_count: 2 }} ]
clients:
  main:
    count: 2
    steps:
      - name: read
        sql: SELECT name FROM seeded ORDER BY id
        expect:
          - $.rows[*].name: [one, two]
after:
  - name: clean up
    sql: DROP TABLE seeded
    expect: [ {{ $.row_count: 0 }} ]
  - name: gone
    sql: SELECT to_regclass('seeded')::text AS found
    expect:
      - $.rows[0].found: null
"#
    );
    let run = run("pg-phases", schema.url(), &body).await;
    run.assert_passed();
    let steps: Vec<String> = run
        .transcript()
        .iter()
        .map(|l| l["step"].as_str().unwrap().into())
        .collect();
    assert_eq!(steps, ["create", "seed", "read", "read", "clean up", "gone"]);
    for line in run.transcript() {
        let group = &line["group"];
        match line["step"].as_str().unwrap() {
            "create" | "seed" => assert_eq!(group, "before"),
            "read" => assert_eq!(group, "main"),
            _ => assert_eq!(group, "after"),
        }
    }
    let gone = schema.query("SELECT to_regclass('seeded')::text").await;
    assert_eq!(gone[0].get::<_, Option<String>>(0), None);
}

#[tokio::test]
async fn retry_polls_a_row_until_another_group_updates_it() {
    let schema = Schema::create().await;
    let run = run_retry("pg-retry", schema.url(), &retry_scenario("$1")).await;
    assert_retry_waited_for_the_update(&run);
}

/// Runs [`retry_scenario`]: its poller's attempts outnumber the first exchanges the default
/// transcript keeps, and its last, passing one is the one to read.
async fn run_retry(name: &str, url: &str, body: &str) -> Run {
    run_with_args(name, &[("db", url)], body, &["--transcript", "all"]).await
}

/// A poller that retries until the row is `disconnected`, and a group that changes it after 1s;
/// `placeholder` is the backend's for parameter 1.
fn retry_scenario(placeholder: &str) -> String {
    format!(
        r#"{DB}before:
  - sql: CREATE TABLE sessions (id int PRIMARY KEY, status text NOT NULL)
    expect: [ {{ $.row_count: 0 }} ]
  - sql: INSERT INTO sessions VALUES (1, 'active')
    expect: [ {{ $.row_count: 1 }} ]
clients:
  poller:
    steps:
      - name: until disconnected
        sql: SELECT status FROM sessions WHERE id = {placeholder}
        params: [1]
        retry: {{ within: 10s, every: 100ms }}
        expect:
          - $.rows[0].status: disconnected
  closer:
    steps:
      - wait: 1s
      - name: disconnect
        sql: UPDATE sessions SET status = 'disconnected' WHERE id = 1
        expect:
          - $.row_count: 1
"#
    )
}

fn assert_retry_waited_for_the_update(run: &Run) {
    run.assert_passed();
    let step = &run.client("poller", 1)["steps"][0];
    assert_eq!(step["status"], "passed", "{step}");
    assert!(step["attempts"].as_u64().unwrap() >= 2, "{step}");
    assert_eq!(run.row("until disconnected"), json!({"status": "active"}));
    let last = run
        .transcript()
        .into_iter()
        .rfind(|l| l["step"] == "until disconnected")
        .unwrap();
    assert_eq!(last["response"]["rows"], json!([{"status": "disconnected"}]));
}

/// Steps whose query is wrong in itself, each under a retry of 10 minutes: a mistyped table, a
/// mistyped column, a syntax error. Each must fail at its first attempt.
fn mistakes_under_retry(table: &str) -> String {
    let step = |name: &str, sql: &str| {
        format!(
            "  {name}:\n    steps:\n      - name: {name}\n        sql: {sql}\n        retry: {{ within: 10m, every: 1s }}\n        expect:\n          - $.row_count: 1\n"
        )
    };
    format!(
        "{DB}before:\n  - sql: CREATE TABLE {table} (id int)\nclients:\n{}{}{}",
        step("table", "SELECT id FROM sesions"),
        step("column", &format!("SELECT idd FROM {table}")),
        step("syntax", &format!("SELEC id FROM {table}")),
    )
}

fn assert_mistakes_were_not_retried(run: &Run) {
    assert_eq!(run.code, Some(1), "{}", run.console);
    for group in ["table", "column", "syntax"] {
        let step = &run.client(group, 1)["steps"][0];
        assert_eq!(step["attempts"], 1, "{group}: {step}");
        let error = run.error(group);
        assert!(
            error.contains("(not retried: waiting cannot change this)"),
            "{group}: {error}"
        );
    }
}

#[tokio::test]
async fn retry_stops_at_once_on_a_mistake_in_the_query() {
    let schema = Schema::create().await;
    let started = std::time::Instant::now();
    let run = run("pg-mistakes", schema.url(), &mistakes_under_retry("sessions")).await;
    assert_mistakes_were_not_retried(&run);
    assert!(run.error("table").contains("SQLSTATE 42P01"), "{}", run.error("table"));
    assert!(
        run.error("column").contains("SQLSTATE 42703"),
        "{}",
        run.error("column")
    );
    assert!(
        run.error("syntax").contains("SQLSTATE 42601"),
        "{}",
        run.error("syntax")
    );
    assert!(started.elapsed() < Duration::from_secs(30), "{:?}", started.elapsed());
}

#[tokio::test]
async fn sqlite_retry_stops_at_once_on_a_mistake_in_the_query() {
    let (_db, url) = sqlite_db();
    let run = run("sqlite-mistakes", &url, &mistakes_under_retry("sessions")).await;
    assert_mistakes_were_not_retried(&run);
    assert!(run.error("table").contains("no such table"), "{}", run.error("table"));
    assert!(
        run.error("column").contains("no such column"),
        "{}",
        run.error("column")
    );
    assert!(run.error("syntax").contains("syntax error"), "{}", run.error("syntax"));
}

#[tokio::test]
async fn a_hundred_clients_share_a_pool_of_four() {
    let schema = Schema::create().await;
    // The application name tells this run's connections from everyone else's.
    let app = schema.name().to_string();
    let url = pg::with_param(schema.url(), "application_name", &app);
    let body = format!(
        r#"vars:
  db: unset
connections:
  db: {{ sql: {{ url: "{{{{ vars.db }}}}", pool_size: 4 }} }}
clients:
  many:
    count: 100
    steps:
      - name: who
        sql: SELECT $1::int AS id, count(*) AS open FROM pg_stat_activity WHERE application_name = $2
        params: ["{{{{ client.id }}}}", {app}]
        expect:
          - {{ path: "$.rows[0].id", equals: "{{{{ client.id }}}}" }}
          - {{ path: "$.rows[0].open", gte: 1, lte: 4 }}
"#
    );
    let run = run("pg-hundred", &url, &body).await;
    run.assert_all_passed("many", 100);
    let mut ids: Vec<i64> = run
        .transcript()
        .iter()
        .map(|l| l["response"]["rows"][0]["id"].as_i64().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, (1..=100).collect::<Vec<_>>());
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL: failures
// ---------------------------------------------------------------------------------------------

/// One step that needs a connection; every failure test uses it.
fn one_query(name: &str) -> String {
    format!(
        "{DB}clients:\n  main:\n    steps:\n      - name: {name}\n        sql: SELECT 1 AS one\n        expect:\n          - $.rows[0].one: 1\n"
    )
}

#[tokio::test]
async fn a_refused_connection_names_the_connection_and_masks_the_password() {
    let run = run(
        "pg-refused",
        &format!("postgres://postgres:{SECRET}@127.0.0.1:1/test"),
        &one_query("probe"),
    )
    .await;
    let error = run.error("main");
    assert!(
        error.starts_with(&format!(
            "step `probe` ({}): `db` (postgres://postgres:***@127.0.0.1:1/test): cannot connect: ",
            run.place("name: probe")
        )),
        "{error}"
    );
    assert!(error.contains("Connection refused"), "{error}");
    let line = &run.transcript()[0];
    assert_eq!(line["request"]["url"], "postgres://postgres:***@127.0.0.1:1/test");
    assert!(
        line["response"]["error"].as_str().unwrap().contains("cannot connect"),
        "{line}"
    );
    run.assert_never_shows(SECRET);
}

#[tokio::test]
async fn an_unknown_database_is_reported_as_missing() {
    let base = with_password(&pg::database_url());
    let (server, _) = base.rsplit_once('/').unwrap();
    let run = run("pg-no-db", &format!("{server}/nope"), &one_query("probe")).await;
    let error = run.error("main");
    assert!(
        error.ends_with("/nope): database missing: database \"nope\" does not exist"),
        "{error}"
    );
    assert!(error.contains(":***@"), "{error}");
    run.assert_never_shows(SECRET);
}

#[tokio::test]
async fn an_unknown_role_fails_authentication() {
    let schema = Schema::create().await;
    let run = run("pg-no-role", &with_user(schema.url(), "ghost"), &one_query("probe")).await;
    let error = run.error("main");
    assert!(error.contains("`db` (postgres://ghost:***@"), "{error}");
    assert!(
        error.ends_with("authentication failed: role \"ghost\" does not exist"),
        "{error}"
    );
    run.assert_never_shows(SECRET);
}

#[tokio::test]
async fn a_wrong_password_fails_authentication() {
    let addr = pg::start_wrong_password_server().await;
    let run = run(
        "pg-password",
        &format!("postgres://app:{SECRET}@{addr}/test"),
        &one_query("probe"),
    )
    .await;
    let error = run.error("main");
    assert!(
        error.ends_with(&format!(
            "`db` (postgres://app:***@{addr}/test): authentication failed: password authentication failed for user \"app\""
        )),
        "{error}"
    );
    run.assert_never_shows(SECRET);
}

#[tokio::test]
async fn a_syntax_error_in_a_one_line_query_points_into_the_file() {
    let schema = Schema::create().await;
    let body = format!(
        "{DB}clients:\n  main:\n    steps:\n      - name: typo\n        sql: SELEC 1 AS one\n        expect:\n          - $.rows[0].one: 1\n"
    );
    let run = run("pg-typo", schema.url(), &body).await;
    let error = run.error("main");
    assert_eq!(
        error,
        format!(
            "step `typo` ({}): syntax error at or near \"SELEC\" (SQLSTATE 42601), in the query at {}",
            run.place("name: typo"),
            run.place("SELEC ")
        )
    );
    let step = &run.client("main", 1)["steps"][0];
    assert_eq!(step["status"], "failed");
    assert_eq!(step["error"], error.as_str());
}

#[tokio::test]
async fn a_syntax_error_in_a_block_query_points_at_its_line() {
    let schema = Schema::create().await;
    let body = format!(
        r#"{DB}clients:
  main:
    steps:
      - name: typo
        sql: |
          SELECT 1 AS one
          UNION ALL
            SELEC 2
        expect:
          - $.row_count: 2
"#
    );
    let run = run("pg-block-typo", schema.url(), &body).await;
    let error = run.error("main");
    // Third line of the block, after its two extra spaces.
    assert!(
        error.ends_with(&format!(
            "syntax error at or near \"SELEC\" (SQLSTATE 42601), in the query at {}",
            run.place("SELEC ")
        )),
        "{error}"
    );
    assert!(run.place("SELEC ").ends_with(":13:13"), "{}", run.place("SELEC "));
}

#[tokio::test]
async fn a_query_past_its_timeout_is_cancelled_on_the_server() {
    let schema = Schema::create().await;
    // Tagged with the schema's name, so that only this test's statements are counted.
    let tag = schema.name();
    let body = format!(
        r#"vars:
  db: unset
connections:
  db: {{ sql: {{ url: "{{{{ vars.db }}}}" }} }}
  slow: {{ sql: {{ url: "{{{{ vars.db }}}}", timeout: 400ms }} }}
clients:
  main:
    steps:
      - name: step deadline
        connection: db
        sql: SELECT pg_sleep(30) AS slept, '{tag}-step' AS tag
        timeout: 500ms
        continue_on_failure: true
        expect: [ {{ $.row_count: 1 }} ]
      - name: connection deadline
        connection: slow
        sql: SELECT pg_sleep(30) AS slept, '{tag}-connection' AS tag
        expect: [ {{ $.row_count: 1 }} ]
"#
    );
    let run = run("pg-timeout", schema.url(), &body).await;
    assert_eq!(run.code, Some(1), "{}", run.console);
    let steps = &run.client("main", 1)["steps"];
    let step = steps[0]["error"].as_str().unwrap();
    assert_eq!(
        step,
        format!(
            "step `step deadline` ({}): query timed out after 500ms; cancelled on the server",
            run.place("name: step deadline")
        )
    );
    let connection = steps[1]["error"].as_str().unwrap();
    assert!(
        connection.ends_with("): query timed out after 400ms; cancelled on the server"),
        "{connection}"
    );
    assert_eq!(
        run.response("step deadline"),
        json!({"error": "query timed out after 500ms; cancelled on the server"})
    );
    // Nothing is left sleeping on the server. A backend whose client just left may linger for
    // a moment, but never for the 30 s an uncancelled statement would take.
    let client = pg::connect(&pg::database_url()).await;
    let pattern = format!("%pg_sleep(30)%{tag}%");
    let mut left = -1;
    for _ in 0..50 {
        left = client
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE query LIKE $1 AND pid <> pg_backend_pid()",
                &[&pattern],
            )
            .await
            .unwrap()
            .get::<_, i64>(0);
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(left, 0, "statements still on the server");
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL: TLS
// ---------------------------------------------------------------------------------------------

/// Fails unless the server under test has TLS on: these tests need it.
async fn assert_server_has_tls() {
    let client = pg::connect(&pg::database_url()).await;
    let rows = client.simple_query("SHOW ssl").await.unwrap();
    let on = rows.iter().any(|m| match m {
        tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0) == Some("on"),
        _ => false,
    });
    assert!(on, "this test needs a PostgreSQL with ssl=on (`SHOW ssl` is off)");
}

#[tokio::test]
async fn sslmode_require_connects_with_tls() {
    assert_server_has_tls().await;
    let schema = Schema::create().await;
    let body = r#"vars:
  plain: unset
  tls: unset
connections:
  plain: { sql: { url: "{{ vars.plain }}" } }
  tls: { sql: { url: "{{ vars.tls }}" } }
clients:
  main:
    steps:
      - name: in the clear
        connection: plain
        sql: SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()
        expect:
          - $.rows[0].ssl: false
      - name: encrypted
        connection: tls
        sql: SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()
        expect:
          - $.rows[0].ssl: true
"#;
    let plain = pg::with_param(schema.url(), "sslmode", "disable");
    let tls = pg::with_param(schema.url(), "sslmode", "require");
    let run = run_with("pg-tls", &[("plain", &plain), ("tls", &tls)], body).await;
    run.assert_passed();
    assert_eq!(run.row("encrypted"), json!({"ssl": true}));
    assert_eq!(run.row("in the clear"), json!({"ssl": false}));
}

#[tokio::test]
async fn sslmode_verify_full_rejects_a_certificate_for_another_host() {
    assert_server_has_tls().await;
    let schema = Schema::create().await;
    // The server's certificate is issued for `localhost`; the URL names `127.0.0.1`.
    let url = pg::with_param(&with_password(schema.url()), "sslmode", "verify-full");
    let run = run("pg-verify", &url, &one_query("probe")).await;
    let error = run.error("main");
    assert!(error.contains("`db` (postgres://"), "{error}");
    assert!(error.contains("): cannot connect: "), "{error}");
    assert!(error.contains("certificate"), "{error}");
    run.assert_never_shows(SECRET);
}

// ---------------------------------------------------------------------------------------------
// SQLite
// ---------------------------------------------------------------------------------------------

/// A folder for an SQLite file, and the URL of `x.db` in it.
fn sqlite_db() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("x.db").display());
    (dir, url)
}

#[tokio::test]
async fn sqlite_values_come_back_as_json_of_their_declared_type() {
    let (_db, url) = sqlite_db();
    let body = format!(
        r#"{DB}before:
  - name: create
    sql: CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB, n TEXT, flag BOOLEAN, doc JSON)
    expect: [ {{ $.row_count: 0 }} ]
  - name: insert
    sql: |
      INSERT INTO t VALUES (42, 2.5, 'hé', x'deadbeef', NULL, 1, '{{"a": [1, "x"]}}'),
                           (-7, 0.125, '', x'00ff', NULL, 0, '[true, null]')
    expect: [ {{ $.row_count: 2 }} ]
clients:
  main:
    steps:
      - name: read
        sql: SELECT i, r, s, b, n, flag, doc FROM t ORDER BY i DESC
        expect:
          - $.row_count: 2
          - $.rows[0].flag: true
          - $.rows[1].flag: false
          - {{ path: "$.rows[0].doc.a", length: 2 }}
"#
    );
    let run = run("sqlite-zoo", &url, &body).await;
    run.assert_passed();
    let answer = run.response("read");
    assert_eq!(answer["columns"], json!(["i", "r", "s", "b", "n", "flag", "doc"]));
    assert_eq!(answer["row_count"], 2);
    assert_eq!(
        answer["rows"],
        json!([
            {"i": 42, "r": 2.5, "s": "hé", "b": "\\xdeadbeef", "n": null, "flag": true, "doc": {"a": [1, "x"]}},
            {"i": -7, "r": 0.125, "s": "", "b": "\\x00ff", "n": null, "flag": false, "doc": [true, null]},
        ])
    );
    let keys: Vec<&String> = answer["rows"][0].as_object().unwrap().keys().collect();
    assert_eq!(json!(keys), answer["columns"]);
}

#[tokio::test]
async fn sqlite_params_bind_each_json_type_with_either_placeholder() {
    let (_db, url) = sqlite_db();
    let body = format!(
        r#"{DB}before:
  - sql: CREATE TABLE p (i INTEGER, f REAL, s TEXT, flag BOOLEAN, n TEXT, doc JSON, list JSON)
    expect: [ {{ $.row_count: 0 }} ]
clients:
  main:
    steps:
      - name: insert with ?N
        sql: INSERT INTO p VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
        params: [42, 2.5, "it's", true, null, {{ a: [1, "x"], b: null }}, [1, two, null]]
        expect: [ {{ $.row_count: 1 }} ]
      - name: read with $N
        sql: SELECT * FROM p WHERE i = $1 AND s = $2
        params: ["{{{{ 40 + 2 }}}}", "it's"]
        expect:
          - $.row_count: 1
          - $.rows[0].flag: true
      - name: reused ?1
        sql: SELECT ?1 + ?1 AS twice, ?2 AS text
        params: [21, hello]
        expect:
          - $.rows[0].twice: 42
"#
    );
    let run = run("sqlite-params", &url, &body).await;
    run.assert_passed();
    assert_eq!(
        run.row("read with $N"),
        json!({"i": 42, "f": 2.5, "s": "it's", "flag": true, "n": null, "doc": {"a": [1, "x"], "b": null}, "list": [1, "two", null]})
    );
    assert_eq!(run.row("reused ?1"), json!({"twice": 42, "text": "hello"}));
}

#[tokio::test]
async fn sqlite_injection_attempt_stays_a_literal() {
    let (db, url) = sqlite_db();
    let body = format!(
        r#"{DB}before:
  - sql: CREATE TABLE notes (body TEXT)
    expect: [ {{ $.row_count: 0 }} ]
clients:
  main:
    steps:
      - name: insert
        sql: INSERT INTO notes (body) VALUES (?1)
        params: ["x'); DROP TABLE notes; --"]
        expect: [ {{ $.row_count: 1 }} ]
      - name: read
        sql: SELECT body FROM notes WHERE body = ?1
        params: ["x'); DROP TABLE notes; --"]
        expect:
          - $.rows[0].body: "x'); DROP TABLE notes; --"
"#
    );
    let run = run("sqlite-injection", &url, &body).await;
    run.assert_passed();
    let conn = rusqlite::Connection::open(db.path().join("x.db")).unwrap();
    let bodies: Vec<String> = conn
        .prepare("SELECT body FROM notes")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(bodies, ["x'); DROP TABLE notes; --"]);
}

#[tokio::test]
async fn sqlite_retry_polls_a_row_until_another_group_updates_it() {
    let (_db, url) = sqlite_db();
    let run = run_retry("sqlite-retry", &url, &retry_scenario("?1")).await;
    assert_retry_waited_for_the_update(&run);
}

#[tokio::test]
async fn sqlite_a_hundred_clients_all_pass() {
    let (_db, url) = sqlite_db();
    let body = r#"vars:
  db: unset
connections:
  db: { sql: { url: "{{ vars.db }}", pool_size: 4 } }
before:
  - sql: CREATE TABLE hits (client INTEGER PRIMARY KEY)
    expect: [ { $.row_count: 0 } ]
clients:
  many:
    count: 100
    steps:
      - name: hit
        sql: INSERT INTO hits VALUES (?1)
        params: ["{{ client.id }}"]
        expect: [ { $.row_count: 1 } ]
      - name: who
        sql: SELECT client AS id FROM hits WHERE client = $1
        params: ["{{ client.id }}"]
        expect:
          - { path: "$.rows[0].id", equals: "{{ client.id }}" }
after:
  - name: count
    sql: SELECT count(*) AS n FROM hits
    expect:
      - $.rows[0].n: 100
"#;
    let run = run("sqlite-hundred", &url, body).await;
    run.assert_all_passed("many", 100);
}

#[tokio::test]
async fn sqlite_syntax_error_points_into_the_file() {
    let (_db, url) = sqlite_db();
    let body = format!(
        "{DB}clients:\n  main:\n    steps:\n      - name: typo\n        sql: SELECT 1 AS one UNION ALL SELEC 2\n        expect:\n          - $.row_count: 2\n"
    );
    let run = run("sqlite-typo", &url, &body).await;
    let error = run.error("main");
    assert_eq!(
        error,
        format!(
            "step `typo` ({}): near \"SELEC\": syntax error, in the query at {}",
            run.place("name: typo"),
            run.place("SELEC ")
        )
    );
}

#[tokio::test]
async fn sqlite_a_path_in_a_missing_directory_cannot_connect() {
    let (db, _) = sqlite_db();
    let url = format!("sqlite://{}", db.path().join("missing/dir/x.db").display());
    let run = run("sqlite-missing", &url, &one_query("probe")).await;
    let error = run.error("main");
    assert!(
        error.starts_with(&format!(
            "step `probe` ({}): `db` ({url}): cannot connect: ",
            run.place("name: probe")
        )),
        "{error}"
    );
    assert!(error.contains("unable to open database file"), "{error}");
    assert!(!db.path().join("missing").exists());
}
