//! What a suite's run leaves: each scenario's result, and the scenarios whose results are
//! missing from disk.

use std::io;
use std::path::PathBuf;

use crate::exec::ScenarioResult;

#[derive(Debug, Default)]
pub struct Outcome {
    /// The scenarios whose results were written, in the order they ran.
    pub results: Vec<ScenarioResult>,
    pub unsaved: Vec<Unsaved>,
}

impl Outcome {
    /// Every scenario that ran passed and has its results on disk.
    pub fn passed(&self) -> bool {
        self.unsaved.is_empty() && self.results.iter().all(|r| r.status.passed())
    }
}

/// A scenario's folder, transcript, client files or report could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write results to {}: {source}", dir.display())]
pub struct Unsaved {
    pub dir: PathBuf,
    #[source]
    pub source: io::Error,
}
