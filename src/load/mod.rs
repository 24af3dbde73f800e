//! Reading scenario files: paths → text → [`Scenario`] with positions, or diagnostics.

mod discover;
mod overrides;
mod read;
mod yaml;

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;

pub use discover::{discover, is_scenario_file};
pub use overrides::{Origin, Override, Overrides};
pub use read::{MAX_FILE_BYTES, read};
pub use yaml::parse_scenario;

use crate::diagnostic::Diagnostic;
use crate::source::Source;
use crate::spec::Scenario;
use crate::suggest;

/// A scenario file, parsed, with its variable overrides applied.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The file's text, for diagnostics.
    pub source: Arc<Source>,
    /// The parsed scenario.
    pub spec: Scenario,
}

/// Everything read for a run: the scenarios that parsed and the problems of the rest.
#[derive(Debug, Default)]
pub struct LoadOutcome {
    /// Parsed scenarios, in file order.
    pub scenarios: Vec<Loaded>,
    /// Problems, in file order.
    pub diagnostics: Vec<Diagnostic>,
}

/// Loads every scenario behind `paths` and applies the overrides to each.
///
/// A `--set` name that no scenario of the run declares is an error: it is almost always a typo.
/// A vars file is often shared by a whole suite, so its keys that no scenario here declares are
/// skipped, unless one is a near miss of a declared name (then it is a typo, and an error).
pub fn load(paths: &[PathBuf], overrides: &Overrides) -> LoadOutcome {
    let (files, mut diagnostics) = discover(paths);
    let mut scenarios = Vec::new();
    for path in files {
        let source = match read(&path) {
            Ok(source) => Arc::new(source),
            Err(d) => {
                diagnostics.push(d);
                continue;
            }
        };
        match parse_scenario(&source) {
            Ok(spec) => scenarios.push(Loaded { source, spec }),
            Err(problems) => diagnostics.extend(problems),
        }
    }
    let mut used = HashSet::new();
    for loaded in &mut scenarios {
        used.extend(overrides.apply(&mut loaded.spec.vars).into_iter().map(str::to_string));
    }
    if !scenarios.is_empty() {
        diagnostics.extend(unused_overrides(overrides, &scenarios, &used));
    }
    LoadOutcome { scenarios, diagnostics }
}

fn unused_overrides(overrides: &Overrides, scenarios: &[Loaded], used: &HashSet<String>) -> Vec<Diagnostic> {
    let declared: Vec<&str> = scenarios.iter().flat_map(|s| s.spec.vars.keys()).collect();
    let mut problems = Vec::new();
    for o in overrides.iter().filter(|o| !used.contains(&o.name)) {
        let help = suggest::did_you_mean(&o.name, declared.iter().copied());
        let message = format!("no scenario in this run declares the variable `{}`", o.name);
        match &o.origin {
            Origin::File(source, key) if help.is_some() => {
                problems.push(
                    Diagnostic::at(source, key.at, message)
                        .width(key.value.len())
                        .maybe_help(help),
                );
            }
            Origin::File(..) | Origin::Runner => {}
            Origin::CommandLine(flag) => {
                problems.push(Diagnostic::for_path(std::path::Path::new(flag), message).maybe_help(help));
            }
        }
    }
    problems
}
