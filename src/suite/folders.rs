//! Where each scenario's results go, and the check that no two scenarios share a folder.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::diagnostic::Diagnostic;
use crate::plan::Plan;
use crate::report::results;

/// `out` (a sub-folder per scenario when several run), or `results/<scenario>-<timestamp>/`.
pub(super) fn results_dir(plan: &Plan, out: Option<&Path>, several: bool, started: DateTime<Utc>) -> PathBuf {
    match (out, several) {
        (Some(out), false) => out.to_path_buf(),
        (Some(out), true) => out.join(results::scenario_folder(&plan.name)),
        (None, _) => results::scenario_dir(Path::new("results"), &plan.name, started),
    }
}

/// Two scenarios whose names give one results folder (`Normal Lifecycle` and
/// `normal-lifecycle`).
pub(super) fn shared_folders(plans: &[Plan]) -> Vec<Diagnostic> {
    let folder = |plan: &Plan| results::scenario_folder(&plan.name);
    let mut problems = Vec::new();
    for (i, plan) in plans.iter().enumerate() {
        if let Some(other) = plans[..i].iter().find(|p| folder(p) == folder(plan)) {
            let message = match other.name == plan.name {
                true => format!("two scenarios of this run are named `{}`", plan.name),
                false => format!(
                    "the scenarios `{}` and `{}` would share the results folder `{}`",
                    other.name,
                    plan.name,
                    folder(plan)
                ),
            };
            problems.push(Diagnostic::for_path(&plan.path, message).help("give one of them another `name:`"));
        }
    }
    problems
}
