//! `examples/sql-postgres.yaml` and `examples/sql-sqlite.yaml` run green as shipped: the first
//! against the machine's PostgreSQL (in a schema of its own), the second from a scratch working
//! directory, where it creates its SQLite file.

mod support;

use std::path::{Path, PathBuf};
use std::process::Output;

use support::pg::Schema;

fn example(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples").join(name)
}

/// Runs an example from `cwd`, with `--set` for each of `sets`; the results go to `out`.
async fn run(file: &Path, cwd: &Path, sets: &[String], out: &Path) -> Output {
    support::binary::run_file(file, sets, out, cwd).await
}

fn assert_passed(output: &Output, out: &Path) {
    let console = String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{console}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["status"], "passed", "{report}");
}

#[tokio::test]
async fn the_postgres_example_passes() {
    let schema = Schema::create().await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let sets = [format!("database_url={}", schema.url())];
    let output = run(&example("sql-postgres.yaml"), dir.path(), &sets, &out).await;
    assert_passed(&output, &out);
    // Its `after:` dropped the table it made.
    let left = schema
        .query("SELECT count(*) FROM pg_tables WHERE tablename = 'runner_example_sessions'")
        .await;
    assert_eq!(left[0].get::<_, i64>(0), 0);
}

#[tokio::test]
async fn the_sqlite_example_passes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let output = run(&example("sql-sqlite.yaml"), dir.path(), &[], &out).await;
    assert_passed(&output, &out);
    assert!(
        dir.path().join("runner-example.db").exists(),
        "the SQLite file is made in the working directory"
    );
}
