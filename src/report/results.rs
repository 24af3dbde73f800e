//! Result files: one folder per scenario run, one JSON file per client instance and per arrival
//! group, `report.json`.
//!
//! Every file is written atomically (a temporary file in the same folder, flushed to disk, then
//! renamed over the final name), so a reader — or an interrupted run — never sees half a file.
//! Every file is masked ([`crate::mask::masker`]) on its way out: the public writers,
//! [`write_json`], [`write_text`] and [`write_clients`], are the only ways to a file.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::exec::{ArrivalsResult, ClientResult, ScenarioResult};
use crate::mask::masker;
use crate::report::html::html;
use crate::report::junit::junit;

/// The longest slug a file name gets (before any disambiguating suffix).
const MAX_SLUG: usize = 64;

/// `<base>/<scenario-folder>-<YYYYMMDD-HHMMSS>` (UTC): where one scenario run's files go.
pub fn scenario_dir(base: &Path, scenario: &str, started: DateTime<Utc>) -> PathBuf {
    base.join(format!(
        "{}-{}",
        scenario_folder(scenario),
        started.format("%Y%m%d-%H%M%S")
    ))
}

/// The folder name of a scenario's results: its name as a lower-case [`slug`], so
/// `Normal Lifecycle` writes to `normal-lifecycle`.
pub fn scenario_folder(name: &str) -> String {
    slug(name).to_ascii_lowercase()
}

/// The file name of a client instance's result: `client_<id>_<group-slug>.json`.
pub fn client_file_name(client: &ClientResult) -> String {
    format!("client_{}_{}.json", client.client_id, file_slug(&client.group))
}

/// The file name of an arrival group's result: `arrivals_<group-slug>.json`.
pub fn arrivals_file_name(arrivals: &ArrivalsResult) -> String {
    format!("arrivals_{}.json", file_slug(&arrivals.group))
}

/// Writes `report.json` into `dir`: the whole scenario result and, at the top, a `summary` of its
/// clients (`{passed, failed, total}`).
pub fn write_report(dir: &Path, result: &ScenarioResult) -> io::Result<PathBuf> {
    write_json(&dir.join("report.json"), &report_value(result)?)
}

/// The document `report.json` holds: `name`, `status`, `summary`, then every other field.
pub fn report_value(result: &ScenarioResult) -> io::Result<Value> {
    let (passed, total) = result.client_counts();
    let summary = json!({ "passed": passed, "failed": total - passed, "total": total });
    let Value::Object(fields) = serde_json::to_value(result).map_err(io::Error::other)? else {
        return Err(io::Error::other("a scenario result serializes to a JSON object"));
    };
    let mut report = Map::with_capacity(fields.len() + 1);
    let mut summary = Some(summary);
    for (key, value) in fields {
        report.insert(key.clone(), value);
        if key == "status"
            && let Some(summary) = summary.take()
        {
            report.insert("summary".into(), summary);
        }
    }
    if let Some(summary) = summary {
        report.insert("summary".into(), summary);
    }
    Ok(Value::Object(report))
}

/// Serializes `value` as pretty JSON (with a final newline), masked, to `path`, atomically.
pub fn write_json<T: Serialize + ?Sized>(path: &Path, value: &T) -> io::Result<PathBuf> {
    write_atomic(path, &masked_json(value)?)?;
    Ok(path.to_path_buf())
}

/// Writes everything a scenario's folder holds but its transcript: the client and arrival group
/// files, `report.json`, and the reports made from it.
pub fn write_folder(dir: &Path, result: &ScenarioResult) -> io::Result<()> {
    write_clients(dir, &result.clients)?;
    for arrivals in &result.arrivals {
        write_json(&dir.join(arrivals_file_name(arrivals)), arrivals)?;
    }
    write_report(dir, result)?;
    write_reports(dir, result).map(drop)
}

/// Writes the reports made from a scenario's result — `junit.xml` and `report.html` — in `dir`;
/// the files written.
pub fn write_reports(dir: &Path, result: &ScenarioResult) -> io::Result<Vec<PathBuf>> {
    let junit = write_text(&dir.join("junit.xml"), &junit(std::slice::from_ref(result)))?;
    let page = html(result).map_err(io::Error::other)?;
    let html = write_text(&dir.join("report.html"), &page)?;
    Ok(vec![junit, html])
}

/// Writes the reports made from `report.json` again in `dir`, a scenario's results folder, or
/// in each of its sub-folders that is one (a run of several scenarios); the files written.
pub fn rerender(dir: &Path) -> Result<Vec<PathBuf>, FolderError> {
    let mut written = Vec::new();
    for folder in scenario_folders(dir)? {
        let result = read_report(&folder)?;
        let reports = write_reports(&folder, &result).map_err(|source| FolderError::Write {
            path: folder.clone(),
            source,
        })?;
        written.extend(reports);
    }
    Ok(written)
}

/// `dir` when it is a scenario's results folder (it holds `report.json`), else each of its
/// sub-folders that is one, in name order.
pub fn scenario_folders(dir: &Path) -> Result<Vec<PathBuf>, FolderError> {
    if dir.join("report.json").is_file() {
        return Ok(vec![dir.to_path_buf()]);
    }
    let entries = fs::read_dir(dir).map_err(|source| FolderError::Read {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut folders: Vec<PathBuf> = (entries.flatten())
        .map(|entry| entry.path())
        .filter(|path| path.join("report.json").is_file())
        .collect();
    folders.sort();
    if folders.is_empty() {
        return Err(FolderError::NoReport(dir.to_path_buf()));
    }
    Ok(folders)
}

/// The scenario result in `dir`'s `report.json`.
pub fn read_report(dir: &Path) -> Result<ScenarioResult, FolderError> {
    let path = dir.join("report.json");
    let text = fs::read_to_string(&path).map_err(|source| FolderError::Read {
        path: path.clone(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|source| FolderError::Parse { path, source })
}

/// Why a results folder could not be read, or its files written.
#[derive(Debug, thiserror::Error)]
pub enum FolderError {
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error("{} is not a report this runner reads: {source}", path.display())]
    Parse { path: PathBuf, source: serde_json::Error },
    #[error("cannot write in {}: {source}", path.display())]
    Write { path: PathBuf, source: io::Error },
    #[error("{} holds no report.json, nor do its sub-folders", .0.display())]
    NoReport(PathBuf),
}

/// Writes `text` to `path` atomically, every secret masked.
pub fn write_text(path: &Path, text: &str) -> io::Result<PathBuf> {
    write_atomic(path, masker().text(text).as_bytes())?;
    Ok(path.to_path_buf())
}

/// `value` as pretty JSON with a final newline, every secret masked.
fn masked_json<T: Serialize + ?Sized>(value: &T) -> io::Result<Vec<u8>> {
    let mut value = serde_json::to_value(value).map_err(io::Error::other)?;
    masker().value(&mut value);
    let mut bytes = serde_json::to_vec_pretty(&value).map_err(io::Error::other)?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// Writes `bytes` to `path` so that `path` holds either its old content or all of the new one:
/// a temporary file in the same folder, written, flushed to disk, then renamed over `path`.
/// Creates the folder if missing; removes the temporary file on failure.
fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = parent(path);
    fs::create_dir_all(dir)?;
    replace(path, bytes)?;
    sync_dir(dir);
    Ok(())
}

/// Writes every client's result file, several at a time (each is flushed to disk before its
/// rename, and that wait dominates with thousands of clients), then makes the renames durable.
pub fn write_clients(dir: &Path, clients: &[ClientResult]) -> io::Result<()> {
    const WRITERS: usize = 8;
    fs::create_dir_all(dir)?;
    let chunk = clients.len().div_ceil(WRITERS).max(1);
    std::thread::scope(|scope| {
        let writers: Vec<_> = clients
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .try_for_each(|client| replace(&dir.join(client_file_name(client)), &masked_json(client)?))
                })
            })
            .collect();
        writers.into_iter().try_for_each(|w| {
            w.join()
                .unwrap_or_else(|_| Err(io::Error::other("a writer thread panicked")))
        })
    })?;
    sync_dir(dir);
    Ok(())
}

/// The folder a path is in (`.` for a bare name).
fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// Replaces `path` by a temporary file written and flushed beside it, then renamed over it.
fn replace(path: &Path, bytes: &[u8]) -> io::Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = parent(path);
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, format!("{} names no file", path.display())))?;
    let unique = COUNTER.fetch_add(1, Ordering::Relaxed);
    let temp = dir.join(format!(
        ".{}.{}-{unique}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let written = (|| {
        let mut file = OpenOptions::new().write(true).create_new(true).open(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&temp, path)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&temp);
    }
    written
}

/// Makes a rename durable: flushes the folder's entry list (best effort; a no-op off Unix).
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// `name` reduced to `[A-Za-z0-9_-]` for a file name: every other run of characters becomes one
/// `-`, dashes at the ends go, at most 64 characters; an empty result is `unnamed`.
fn slug(name: &str) -> String {
    let mut out = String::with_capacity(name.len().min(MAX_SLUG));
    let mut dash = false;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            out.push(c);
        } else {
            dash = true;
        }
        if out.len() >= MAX_SLUG {
            break;
        }
    }
    out.truncate(MAX_SLUG);
    let trimmed = out.trim_matches('-');
    if trimmed.is_empty() {
        "unnamed".into()
    } else {
        trimmed.into()
    }
}

/// [`slug`], plus a short hash of `name` when slugging lost something, so that two different
/// groups (`a b` and `a/b`) never share a result file: `a-b-3f9c1e0d`.
pub fn file_slug(name: &str) -> String {
    let slug = slug(name);
    if slug == name {
        slug
    } else {
        format!("{slug}-{:08x}", fnv1a(name.as_bytes()))
    }
}

/// 32-bit FNV-1a: a stable, dependency-free hash for file names.
fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5_u32, |hash, &b| {
        (hash ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::exec::Status;
    use crate::report::fixtures::{client, scenario, step};

    /// Writes one client's file the way a run writes them all; returns its path.
    fn write_client(dir: &Path, client: &ClientResult) -> PathBuf {
        write_clients(dir, std::slice::from_ref(client)).unwrap();
        dir.join(client_file_name(client))
    }

    fn files_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn slugs_keep_only_safe_characters() {
        assert_eq!(slug("heartbeat"), "heartbeat");
        assert_eq!(slug("Normal lifecycle ×5"), "Normal-lifecycle-5");
        assert_eq!(slug("../../etc/passwd"), "etc-passwd");
        assert_eq!(slug("a  b//c"), "a-b-c");
        assert_eq!(slug("keep_under-score"), "keep_under-score");
        assert_eq!(slug("-x-"), "x");
        assert_eq!(slug(""), "unnamed");
        assert_eq!(slug("ünïcödé"), "n-c-d");
        assert_eq!(slug("日本"), "unnamed");
        assert_eq!(slug(&"x".repeat(200)).len(), 64);
        let long = format!("{}{}", "a".repeat(63), " b");
        assert_eq!(slug(&long), "a".repeat(63));
    }

    #[test]
    fn file_slugs_tell_lossy_names_apart() {
        assert_eq!(file_slug("workers"), "workers");
        assert_eq!(file_slug("a-b"), "a-b");
        let spaced = file_slug("a b");
        let slashed = file_slug("a/b");
        assert!(
            spaced.starts_with("a-b-") && spaced.len() == "a-b-".len() + 8,
            "{spaced}"
        );
        assert_ne!(spaced, slashed);
        assert_ne!(spaced, "a-b");
        assert_eq!(file_slug("a b"), spaced, "stable");
    }

    #[test]
    fn scenario_dir_is_slug_and_utc_timestamp() {
        let started = Utc.with_ymd_and_hms(2025, 3, 4, 5, 6, 7).unwrap();
        let dir = scenario_dir(Path::new("results"), "Stale session / cleanup", started);
        assert_eq!(dir, Path::new("results/stale-session-cleanup-20250304-050607"));
    }

    #[test]
    fn client_file_is_pretty_json_in_a_created_dir() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("results").join("heartbeat-20250304-050607");
        let path = write_client(&dir, &client(2, "keeper", Status::Passed, None));
        assert_eq!(path, dir.join("client_2_keeper.json"));
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("{\n  \"client_id\": 2,"), "{text}");
        assert!(text.ends_with("}\n"));
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["group"], "keeper");
        assert_eq!(value["success"], true);
        assert_eq!(value["heartbeats_sent"], 3, "record fields are flattened");
        assert_eq!(files_in(&dir), ["client_2_keeper.json"], "no temporary file is left");
    }

    #[test]
    fn group_names_are_slugged_in_client_file_names() {
        let tmp = tempfile::tempdir().unwrap();
        let path = write_client(tmp.path(), &client(1, "../evil group", Status::Failed, Some("boom")));
        assert_eq!(path.parent(), Some(tmp.path()));
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.starts_with("client_1_evil-group-") && name.ends_with(".json"),
            "{name}"
        );
        assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c)));
    }

    #[test]
    fn report_has_the_result_and_a_client_summary() {
        let tmp = tempfile::tempdir().unwrap();
        let result = scenario(
            "lifecycle",
            vec![
                client(1, "workers", Status::Passed, None),
                client(
                    2,
                    "workers",
                    Status::Failed,
                    Some("step \"call\": expected 200, got 404"),
                ),
                client(3, "workers", Status::Passed, None),
            ],
        );
        let path = write_report(tmp.path(), &result).unwrap();
        assert_eq!(path, tmp.path().join("report.json"));
        let value: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(value["summary"], json!({"passed": 2, "failed": 1, "total": 3}));
        let keys: Vec<&str> = value.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(&keys[..4], ["name", "path", "status", "summary"]);
        assert_eq!(value["name"], "lifecycle");
        assert_eq!(value["status"], "failed");
        assert_eq!(value["clients"].as_array().unwrap().len(), 3);
        assert_eq!(value["clients"][1]["error"], "step \"call\": expected 200, got 404");
        assert_eq!(files_in(tmp.path()), ["report.json"]);
    }

    #[test]
    fn client_files_and_the_report_are_masked() {
        let tmp = tempfile::tempdir().unwrap();
        let error =
            "step `GET http://admin:pw1@h/x?token=t2` (a.yaml:3:5): cannot connect to http://admin:pw1@h/x?token=t2";
        let mut failed = client(1, "main", Status::Failed, Some(error));
        failed.vars.insert("api_token".into(), json!("t3"));
        failed.steps = vec![crate::report::fixtures::step(
            "login",
            Status::Failed,
            Some("expected 200"),
        )];
        failed.steps[0].result =
            Some(json!({"status": 401, "headers": {"set-cookie": "sid=c4"}, "body": {"token": "t5"}}));
        let path = write_client(tmp.path(), &failed);
        write_report(tmp.path(), &scenario("masked", vec![failed])).unwrap();
        for file in [path, tmp.path().join("report.json")] {
            let text = fs::read_to_string(&file).unwrap();
            for secret in ["pw1", "t2", "t3", "sid=c4", "t5"] {
                assert!(!text.contains(secret), "{secret} in {}: {text}", file.display());
            }
            assert!(text.contains("http://admin:***@h/x?token=***"), "{text}");
        }
    }

    #[test]
    fn report_without_clients_counts_zero() {
        let value = report_value(&scenario("seed only", Vec::new())).unwrap();
        assert_eq!(value["summary"], json!({"passed": 0, "failed": 0, "total": 0}));
    }

    #[test]
    fn atomic_write_replaces_and_leaves_no_temporary_files() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("report.json");
        write_atomic(&path, b"old").unwrap();
        write_atomic(&path, b"new content").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new content");
        assert_eq!(files_in(tmp.path()), ["report.json"]);
    }

    #[test]
    fn failed_atomic_write_keeps_the_old_file_and_cleans_up() {
        let tmp = tempfile::tempdir().unwrap();
        // A directory where the file should go: the rename fails.
        let path = tmp.path().join("report.json");
        fs::create_dir(&path).unwrap();
        fs::write(path.join("inside"), b"x").unwrap();
        assert!(write_atomic(&path, b"data").is_err());
        assert_eq!(files_in(tmp.path()), ["report.json"]);
        assert!(path.is_dir());
    }

    #[test]
    fn concurrent_writers_never_clash() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let threads: Vec<_> = (1..=8)
            .map(|id| {
                let dir = dir.clone();
                std::thread::spawn(move || {
                    for _ in 0..10 {
                        write_client(&dir, &client(id, "workers", Status::Passed, None));
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(files_in(&dir).len(), 8);
        assert!(files_in(&dir).iter().all(|f| !f.ends_with(".tmp")));
    }

    #[test]
    fn a_report_reads_back_as_the_result_it_was_written_from() {
        let mut failed = client(2, "load", Status::Failed, Some("step `q` (s.yaml:9:7): no rows"));
        failed.steps = vec![step("q", Status::Failed, Some("no rows"))];
        let mut result = scenario("round trip", vec![client(1, "load", Status::Passed, None), failed]);
        result.status = Status::Failed;
        result.before = vec![step("seed", Status::Passed, None)];
        let written = report_value(&result).unwrap();
        let read: ScenarioResult = serde_json::from_value(written.clone()).unwrap();
        assert_eq!(report_value(&read).unwrap(), written);
        let bad = serde_json::from_value::<crate::source::Pos>(json!("12"));
        assert_eq!(bad.unwrap_err().to_string(), "`12` is not a line:col position");
    }
}
