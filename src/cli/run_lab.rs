//! `runner run --lab`: one lab for the whole run, started in-process on a free loopback port
//! with the settings the scenarios' `lab:` blocks ask for, and `mcp_url`, `api_url` and
//! `database_url` pointed at it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::diagnostic::Diagnostic;
use crate::duration_text::format_duration;
use crate::lab::{Lab, LabError, Settings};
use crate::plan::{LabPlan, Plan};

/// The lab's defaults, as `runner lab` has them.
const SESSION_TIMEOUT: Duration = Duration::from_secs(300);
const CLEANUP_INTERVAL: Duration = Duration::from_secs(60);

/// The one lab configuration the scenarios agree on. Scenarios without a `lab:` block take
/// whatever the others ask for; two that ask for different ones cannot share a lab.
pub fn settings(plans: &[Plan], database: String) -> Result<Settings, Vec<Diagnostic>> {
    let asked: Vec<(&Plan, &LabPlan)> = plans.iter().filter_map(|p| p.lab.as_ref().map(|l| (p, l))).collect();
    let Some((first, lab)) = asked.first() else {
        return Ok(settings_from(None, database));
    };
    let differ: Vec<Diagnostic> = asked
        .iter()
        .filter(|(_, other)| !same(lab, other))
        .map(|(plan, other)| {
            Diagnostic::for_path(
                &plan.path,
                format!(
                    "one lab serves the whole run, but this scenario asks for {} and {} asks for {}; run them separately",
                    describe(other),
                    first.path.display(),
                    describe(lab)
                ),
            )
        })
        .collect();
    match differ.is_empty() {
        true => Ok(settings_from(Some(lab), database)),
        false => Err(differ),
    }
}

fn same(a: &LabPlan, b: &LabPlan) -> bool {
    (a.session_timeout, a.cleanup_interval, a.max_sessions) == (b.session_timeout, b.cleanup_interval, b.max_sessions)
}

fn describe(lab: &LabPlan) -> String {
    let max = lab
        .max_sessions
        .map_or("no session limit".into(), |n| format!("max_sessions {n}"));
    format!(
        "session_timeout {}, cleanup_interval {}, {max}",
        format_duration(lab.session_timeout),
        format_duration(lab.cleanup_interval)
    )
}

fn settings_from(lab: Option<&LabPlan>, database: String) -> Settings {
    Settings {
        listen: ([127, 0, 0, 1], 0).into(),
        session_timeout: lab.map_or(SESSION_TIMEOUT, |l| l.session_timeout),
        cleanup_interval: lab.map_or(CLEANUP_INTERVAL, |l| l.cleanup_interval),
        database,
        max_sessions: lab.and_then(|l| l.max_sessions).and_then(|n| usize::try_from(n).ok()),
        header_read_timeout: crate::lab::HEADER_READ_TIMEOUT,
    }
}

/// The store: `--lab-database`, or an SQLite file in the results folder (an absolute path, so
/// that the scenarios' `database_url` works from any working directory).
pub fn database(explicit: Option<&str>, out: Option<&Path>) -> Result<String, std::io::Error> {
    if let Some(url) = explicit {
        return Ok(url.to_string());
    }
    let file = match out {
        Some(out) => out.join("lab.db"),
        None => PathBuf::from("results").join(format!("lab-{}.db", chrono::Utc::now().format("%Y%m%d-%H%M%S"))),
    };
    Ok(format!("sqlite://{}", std::path::absolute(&file)?.display()))
}

/// Starts the lab; the values it supplies to the scenarios' variables.
pub async fn start(settings: Settings) -> Result<(Lab, Vec<(&'static str, String)>), LabError> {
    let lab = Lab::start(settings).await?;
    let supplied = vec![
        ("mcp_url", lab.mcp_url()),
        ("api_url", lab.api_url()),
        ("database_url", lab.database_url().to_string()),
    ];
    Ok((lab, supplied))
}
