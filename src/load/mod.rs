//! Reading scenario files: paths → text → [`Scenario`] with positions, or diagnostics.

mod discover;
mod overrides;
mod read;
mod yaml;

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
/// An override that no scenario of the run declares is an error: it is almost always a typo.
pub fn load(paths: &[PathBuf], overrides: &Overrides) -> LoadOutcome {
    let (files, mut diagnostics) = discover(paths);
    let mut scenarios = Vec::new();
    for path in files {
        match read(&path).and_then(|source| {
            let source = Arc::new(source);
            parse_scenario(&source).map(|spec| Loaded { source, spec })
        }) {
            Ok(loaded) => scenarios.push(loaded),
            Err(d) => diagnostics.push(d),
        }
    }
    let mut used = std::collections::HashSet::new();
    for loaded in &mut scenarios {
        used.extend(overrides.apply(&mut loaded.spec.vars).into_iter().map(str::to_string));
    }
    if !scenarios.is_empty() {
        diagnostics.extend(unused_overrides(overrides, &scenarios, &used));
    }
    LoadOutcome { scenarios, diagnostics }
}

fn unused_overrides<'a>(
    overrides: &'a Overrides,
    scenarios: &'a [Loaded],
    used: &'a std::collections::HashSet<String>,
) -> impl Iterator<Item = Diagnostic> + 'a {
    overrides.iter().filter(|o| !used.contains(&o.name)).map(move |o| {
        let declared = scenarios.iter().flat_map(|s| s.spec.vars.keys());
        let help = suggest::did_you_mean(&o.name, declared);
        let message = format!("no scenario in this run declares the variable `{}`", o.name);
        match &o.origin {
            Origin::File(source, key) => Diagnostic::at(source, key.at, message).width(key.value.len()),
            Origin::CommandLine => Diagnostic::for_path(std::path::Path::new("--set"), message),
        }
        .maybe_help(help)
    })
}
