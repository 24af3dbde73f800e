//! The bad-input corpus: every file in `tests/invalid/` (one problem each), plus a few files
//! generated here (empty, binary, too large, too deeply nested), must be refused by
//! `runner validate` with exit code 2 and a located diagnostic, never a panic or a hang. The
//! whole diagnostic text of each case is kept as an insta snapshot named after the case.
//!
//! Paths are given relative to the working directory of the run (`tests/invalid/x.yaml`,
//! `generated/x.yaml`), so snapshots do not depend on where the checkout or the temp dir is.
//!
//! Review changed snapshots with `cargo insta review`, or regenerate them with
//! `INSTA_UPDATE=always cargo test --test invalid_specs` and read every changed `.snap` file.

use std::fs;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use assert_cmd::Command;

/// The committed corpus, relative to the crate root.
const INVALID_DIR: &str = "tests/invalid";

/// The folder, inside a temp dir, that the generated cases are written to.
const GENERATED_DIR: &str = "generated";

/// An environment variable that one case reads; removed from the runner's environment so the
/// case does not depend on the machine.
const UNSET_ENV: &str = "RUNNER_TEST_SURELY_UNSET_VARIABLE";

/// A run that takes longer is a hang (each case takes milliseconds).
const DEADLINE: Duration = Duration::from_secs(10);

/// The exit code of an invalid spec.
const EXIT_INVALID: i32 = 2;

/// One bad input.
struct Case {
    /// The snapshot name: the file name without `.yaml`.
    name: String,
    /// The working directory of the run.
    dir: PathBuf,
    /// The path as given on the command line, relative to `dir`.
    path: String,
    /// What the case tests.
    what: String,
    /// True when the diagnostic must carry `line:col` (not for problems with the file as a whole).
    located: bool,
}

/// What one `runner validate` printed.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

/// The crate root, the working directory of the committed cases.
fn crate_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `runner validate PATHS…` in `dir`.
fn validate(dir: &Path, paths: &[&str]) -> Run {
    let mut command = Command::cargo_bin("runner").expect("the runner binary is built");
    command
        .current_dir(dir)
        .env_remove(UNSET_ENV)
        .timeout(DEADLINE)
        .arg("validate")
        .args(paths);
    let started = Instant::now();
    let output = command.output().expect("the runner starts");
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        elapsed: started.elapsed(),
    }
}

/// The committed cases, sorted by file name.
fn committed_cases() -> Vec<Case> {
    let root = crate_root();
    let mut files: Vec<PathBuf> = fs::read_dir(root.join(INVALID_DIR))
        .expect("tests/invalid exists")
        .map(|entry| entry.expect("a readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|file| {
            let file_name = file.file_name().unwrap().to_string_lossy().into_owned();
            let text = fs::read_to_string(&file).unwrap_or_default();
            let what = text
                .lines()
                .next()
                .and_then(|l| l.strip_prefix("# tests: "))
                .unwrap_or_else(|| panic!("{file_name} must start with a `# tests: …` comment line"))
                .to_string();
            Case {
                name: file_name.trim_end_matches(".yaml").to_string(),
                dir: root.clone(),
                path: format!("{INVALID_DIR}/{file_name}"),
                what,
                located: true,
            }
        })
        .collect()
}

/// A 1,000-level deep value, as nested flow lists or as nested block maps.
fn deeply_nested(flow: bool) -> String {
    const DEPTH: usize = 1000;
    let mut text = String::from("name: deeply-nested\nvars:\n  deep:");
    if flow {
        text.push(' ');
        text.push_str(&"[".repeat(DEPTH));
        text.push_str(&"]".repeat(DEPTH));
        text.push('\n');
    } else {
        text.push('\n');
        for level in 0..DEPTH {
            text.push_str(&format!("{}k{level}:\n", "  ".repeat(level + 2)));
        }
    }
    text.push_str("clients:\n  main:\n    steps:\n      - wait: 1s\n");
    text
}

/// A file of exactly 10 MiB whose every line is a YAML comment: valid YAML, refused for its size.
fn ten_mebibytes() -> Vec<u8> {
    const SIZE: usize = 10 * 1024 * 1024;
    let line = b"# padding padding padding padding padding padding padding padding padding padding\n";
    let mut bytes = Vec::with_capacity(SIZE);
    while bytes.len() + line.len() <= SIZE {
        bytes.extend_from_slice(line);
    }
    bytes.resize(SIZE, b'#');
    bytes
}

/// Writes the cases that are generated rather than committed (binary, huge or empty files) into
/// `tmp/generated/`.
fn generated_cases(tmp: &Path) -> Vec<Case> {
    let dir = tmp.join(GENERATED_DIR);
    fs::create_dir_all(&dir).unwrap();
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0".to_vec();
    let cases: Vec<(&str, &str, Vec<u8>, bool)> = vec![
        ("empty", "an empty file (zero bytes)", Vec::new(), false),
        (
            "whitespace-only",
            "a file of blank lines and spaces",
            b"  \n\n\t\n".to_vec(),
            false,
        ),
        ("binary", "a binary file (a PNG header), not UTF-8 text", png, true),
        (
            "nul-byte",
            "a UTF-8 file with a NUL byte in it",
            b"# tests: a NUL byte\nname: nul\0byte\nclients: {}\n".to_vec(),
            true,
        ),
        (
            "too-large",
            "a 10 MiB file, refused by the 1 MiB limit",
            ten_mebibytes(),
            false,
        ),
        (
            "deeply-nested-lists",
            "a value nested 1,000 flow lists deep",
            deeply_nested(true).into_bytes(),
            true,
        ),
        (
            "deeply-nested-maps",
            "a value nested 1,000 block maps deep",
            deeply_nested(false).into_bytes(),
            true,
        ),
    ];
    cases
        .into_iter()
        .map(|(name, what, bytes, located)| {
            fs::write(dir.join(format!("{name}.yaml")), bytes).unwrap();
            Case {
                name: name.to_string(),
                dir: tmp.to_path_buf(),
                path: format!("{GENERATED_DIR}/{name}.yaml"),
                what: what.to_string(),
                located,
            }
        })
        .collect()
}

/// True when `stderr` points at `path:LINE:COL`.
fn has_location(stderr: &str, path: &str) -> bool {
    let marker = format!("--> {path}:");
    stderr.match_indices(&marker).any(|(i, _)| {
        let Some((line, rest)) = stderr[i + marker.len()..].split_once(':') else {
            return false;
        };
        let numeric = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
        let col: String = rest.chars().take_while(char::is_ascii_digit).collect();
        numeric(line) && numeric(&col)
    })
}

/// The number of diagnostics in `stderr`: one `-->` line each.
fn diagnostic_count(stderr: &str) -> usize {
    stderr.lines().filter(|l| l.trim_start().starts_with("--> ")).count()
}

/// Escapes a literal for a regular expression (for insta's filters).
fn regex_literal(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// Snapshots `stderr` as `name`, with absolute paths replaced by placeholders in case a path
/// ever shows up whole.
fn snapshot(name: &str, description: &str, stderr: &str, tmp: &Path) {
    let mut settings = insta::Settings::clone_current();
    settings.set_description(description);
    settings.set_omit_expression(true);
    settings.add_filter(&regex_literal(&tmp.display().to_string()), "[TMP]");
    settings.add_filter(&regex_literal(&crate_root().display().to_string()), "[CRATE]");
    settings.bind(|| insta::assert_snapshot!(name, stderr));
}

/// Checks one case; returns what is wrong with it.
fn check(case: &Case, tmp: &Path) -> Result<(), String> {
    let run = validate(&case.dir, &[&case.path]);
    let mut problems = Vec::new();
    if run.code != Some(EXIT_INVALID) {
        problems.push(format!("exit code {:?}, expected {EXIT_INVALID}", run.code));
    }
    if !run.stdout.is_empty() {
        problems.push(format!("stdout is not empty: {:?}", run.stdout));
    }
    if run.stderr.contains("panicked") {
        problems.push("the runner panicked".to_string());
    }
    let located = if case.located {
        has_location(&run.stderr, &case.path)
    } else {
        run.stderr.contains(&format!("--> {}", case.path))
    };
    if !located {
        let expected = if case.located { ":LINE:COL" } else { "" };
        problems.push(format!("stderr does not point at `{}{expected}`", case.path));
    }
    if diagnostic_count(&run.stderr) != 1 || !run.stderr.ends_with("error: 1 problem found\n") {
        problems.push("expected exactly one problem".to_string());
    }
    if run.elapsed > Duration::from_secs(5) {
        problems.push(format!("took {:?}", run.elapsed));
    }
    let description = format!("{}: {}", case.path, case.what);
    let snapshotted = catch_unwind(AssertUnwindSafe(|| {
        snapshot(&case.name, &description, &run.stderr, tmp)
    }));
    if snapshotted.is_err() {
        problems.push("the snapshot differs".to_string());
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{}: {}\n{}", case.path, problems.join("; "), run.stderr))
    }
}

#[test]
fn every_invalid_spec_is_refused_with_a_located_diagnostic() {
    let tmp = tempfile::tempdir().unwrap();
    let cases: Vec<Case> = committed_cases()
        .into_iter()
        .chain(generated_cases(tmp.path()))
        .collect();
    assert!(cases.len() >= 40, "the corpus shrank to {} cases", cases.len());
    let failures: Vec<String> = cases.iter().filter_map(|case| check(case, tmp.path()).err()).collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn validating_all_invalid_files_at_once_reports_each_of_them() {
    let tmp = tempfile::tempdir().unwrap();
    let committed = committed_cases();
    let generated = generated_cases(tmp.path());
    // Named by absolute path, so the committed folder and the generated one go in one run.
    let committed_dir = crate_root().join(INVALID_DIR);
    let generated_dir = tmp.path().join(GENERATED_DIR);
    let committed_dir = committed_dir.to_str().unwrap();
    let generated_dir = generated_dir.to_str().unwrap();
    let run = validate(&crate_root(), &[committed_dir, generated_dir]);
    assert_eq!(run.code, Some(EXIT_INVALID), "{}", run.stderr);
    assert!(run.stdout.is_empty(), "no file is valid, yet: {}", run.stdout);
    let total = committed.len() + generated.len();
    assert_eq!(diagnostic_count(&run.stderr), total, "{}", run.stderr);
    let headers = run.stderr.lines().filter(|l| l.starts_with("error: ")).count();
    assert_eq!(
        headers,
        total + 1,
        "one header per problem and the summary:\n{}",
        run.stderr
    );
    assert!(
        run.stderr.ends_with(&format!("error: {total} problems found\n")),
        "{}",
        run.stderr
    );
    for case in &committed {
        let file = format!("{committed_dir}/{}.yaml", case.name);
        assert!(run.stderr.contains(&format!("--> {file}")), "{file} is not reported");
    }
    for case in &generated {
        let file = format!("{generated_dir}/{}.yaml", case.name);
        assert!(run.stderr.contains(&format!("--> {file}")), "{file} is not reported");
    }
}

#[test]
fn one_file_with_three_independent_errors_reports_all_three() {
    let tmp = tempfile::tempdir().unwrap();
    fs::create_dir(tmp.path().join(GENERATED_DIR)).unwrap();
    let path = format!("{GENERATED_DIR}/three-independent-errors.yaml");
    let spec = "\
# tests: three unrelated semantic errors in one file are all reported, in file order
name: three-independent-errors
connections:
  server: { mcp: { url: \"http://127.0.0.1:8051/mcp\" } }
clients:
  main:
    count: 0
    steps:
      - initialize: {}
        connection: sever
      - wait: 5 minutes
";
    fs::write(tmp.path().join(&path), spec).unwrap();
    let run = validate(tmp.path(), &[&path]);
    assert_eq!(run.code, Some(EXIT_INVALID), "{}", run.stderr);
    assert_eq!(diagnostic_count(&run.stderr), 3, "{}", run.stderr);
    for at in ["7:12", "10:21", "11:15"] {
        assert!(
            run.stderr.contains(&format!("--> {path}:{at}")),
            "no error at {at}:\n{}",
            run.stderr
        );
    }
    assert!(run.stderr.ends_with("error: 3 problems found\n"), "{}", run.stderr);
    snapshot(
        "three-independent-errors",
        &format!("{path}: count 0, an unknown connection and a bad duration"),
        &run.stderr,
        tmp.path(),
    );
}

#[test]
fn two_type_errors_in_one_file_are_both_reported() {
    let tmp = tempfile::tempdir().unwrap();
    fs::create_dir(tmp.path().join(GENERATED_DIR)).unwrap();
    let path = format!("{GENERATED_DIR}/two-type-errors.yaml");
    let spec = "\
# tests: a wrong type in one client group does not hide one in another
name: two-type-errors
clients:
  readers:
    description: [a, list]
    steps:
      - wait: 1s
  writers:
    steps:
      - wait: 1s
        continue_on_failure: maybe
";
    fs::write(tmp.path().join(&path), spec).unwrap();
    let run = validate(tmp.path(), &[&path]);
    assert_eq!(run.code, Some(EXIT_INVALID), "{}", run.stderr);
    for at in ["5:18", "11:30"] {
        assert!(
            run.stderr.contains(&format!("--> {path}:{at}")),
            "no error at {at}:\n{}",
            run.stderr
        );
    }
    assert!(run.stderr.ends_with("error: 2 problems found\n"), "{}", run.stderr);
    snapshot(
        "two-type-errors",
        &format!("{path}: a list for a string and `maybe` for a boolean, in two groups"),
        &run.stderr,
        tmp.path(),
    );
}

#[test]
fn every_snapshot_belongs_to_a_case() {
    let tmp = tempfile::tempdir().unwrap();
    let mut names: Vec<String> = committed_cases()
        .into_iter()
        .chain(generated_cases(tmp.path()))
        .map(|c| c.name)
        .collect();
    names.push("three-independent-errors".into());
    names.push("two-type-errors".into());
    let snapshots = crate_root().join("tests/snapshots");
    let Ok(entries) = fs::read_dir(&snapshots) else {
        return;
    };
    for entry in entries {
        let file = entry.unwrap().file_name().to_string_lossy().into_owned();
        let Some(name) = file.strip_prefix("invalid_specs__") else {
            continue;
        };
        assert!(!name.ends_with(".snap.new"), "an unreviewed snapshot: {file}");
        let name = name.trim_end_matches(".snap");
        assert!(names.iter().any(|n| n == name), "{file} belongs to no case; delete it");
    }
}
