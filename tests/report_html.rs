//! `report.html` in a real browser: the lifecycle suite runs against the lab, quick, and Debian's
//! headless Chromium (installed by .ci/run) opens each scenario's page from its file. The page
//! must log nothing to the console (a blocked fetch or a script error would), draw one lane per
//! session that `report.json` counts, and leave a screenshot, `report.png`, beside it for people
//! to look at (under target/tmp/report-html/).

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use support::binary::{console, runner};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The lifecycle suite's scenario files (not the conformance pack in `scenarios/mcp/`).
fn lifecycle_suite() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = (std::fs::read_dir(root().join("scenarios")).unwrap().flatten())
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == "yaml") && !path.to_string_lossy().ends_with(".vars.yaml"))
        .collect();
    files.sort();
    files
}

/// Runs headless Chromium on the page at `page` with `action` (`--dump-dom`, `--screenshot=…`);
/// what it printed, and the console messages it logged.
async fn chromium(page: &Path, action: &str) -> (String, Vec<String>) {
    let profile = tempfile::tempdir().unwrap();
    let mut command = tokio::process::Command::new("chromium");
    command
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"])
        .args(["--enable-logging=stderr", "--v=0", "--window-size=1200,1600"])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(action)
        .arg(format!("file://{}", page.display()))
        .kill_on_drop(true);
    let running = command.output();
    let output = tokio::time::timeout(Duration::from_secs(90), running)
        .await
        .expect("chromium ends within 90 s")
        .unwrap_or_else(|e| {
            panic!("chromium: {e} (install Debian's chromium: apt-get install -y chromium; .ci/run does)")
        });
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let logged = String::from_utf8_lossy(&output.stderr);
    let messages = (logged.lines())
        .filter(|line| line.contains(":CONSOLE"))
        .map(str::to_string)
        .collect();
    (String::from_utf8_lossy(&output.stdout).into_owned(), messages)
}

#[tokio::test]
async fn each_lifecycle_page_opens_cleanly_in_chromium_with_a_lane_per_session() {
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-html");
    let _ = std::fs::remove_dir_all(&out);
    let suite = lifecycle_suite();
    assert!(suite.len() >= 5, "{suite:?}");
    let mut args: Vec<String> = vec!["run".into()];
    args.extend(suite.iter().map(|path| path.display().to_string()));
    args.extend(
        [
            "--lab",
            "--vars",
            "scenarios/quick.vars.yaml",
            "--parallel",
            "--progress",
            "never",
            "--out",
        ]
        .map(String::from),
    );
    args.push(out.display().to_string());
    let output = runner(&args, root(), Duration::from_secs(180)).await;
    assert!(output.status.success(), "{}", console(&output));

    let mut folders: Vec<PathBuf> = (std::fs::read_dir(&out).unwrap().flatten())
        .map(|entry| entry.path())
        .filter(|path| path.join("report.json").is_file())
        .collect();
    folders.sort();
    assert_eq!(folders.len(), suite.len());
    for folder in folders {
        let report: Value =
            serde_json::from_str(&std::fs::read_to_string(folder.join("report.json")).unwrap()).unwrap();
        let sessions = report["metrics"]["sessions"]["opened"].as_u64().unwrap();
        assert!(sessions > 0, "{}: the suite opens sessions", folder.display());
        let page = folder.join("report.html");

        let (dom, messages) = chromium(&page, "--dump-dom").await;
        assert!(messages.is_empty(), "{}: {messages:#?}", page.display());
        assert!(dom.contains("Session timeline"), "{}", page.display());
        let lanes = dom.matches(" data-session-id=\"").count() as u64;
        assert_eq!(lanes, sessions, "{}: a lane per session", page.display());
        for lane in report["timeline"]["lanes"].as_array().unwrap() {
            let id = lane["session_id"].as_str().unwrap();
            assert!(
                dom.contains(&format!("data-session-id=\"{id}\"")),
                "{}: {id}",
                page.display()
            );
        }

        let screenshot = folder.join("report.png");
        let (_, messages) = chromium(&page, &format!("--screenshot={}", screenshot.display())).await;
        assert!(messages.is_empty(), "{}: {messages:#?}", page.display());
        let size = std::fs::metadata(&screenshot).map(|m| m.len()).unwrap_or(0);
        assert!(size > 20_000, "{}: {size} bytes", screenshot.display());
    }
}
