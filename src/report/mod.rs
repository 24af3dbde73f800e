//! Everything the user sees: diagnostics summaries, the plan tree, progress and results.
//!
//! - [`console`]: every line printed to stdout and stderr, masked and escaped.
//! - [`junit`] and [`html`]: `junit.xml` and `report.html`, made from a scenario's result.
//! - [`merge`]: `runner merge`, the results of a run's shards as one.
//! - [`results`]: the result folder, client files and `report.json`, written atomically.
//! - [`transcript`]: `transcript.jsonl` with secrets masked, and the per-scenario router.
//! - [`progress`]: bars on a terminal, plain status lines elsewhere.
//! - [`summary`]: the console summary after a run, with its thresholds table ([`thresholds`]).
//! - [`drive`]: the reporter task that feeds progress and transcripts from executor events.

pub mod console;
#[cfg(test)]
mod fixtures;
pub mod html;
pub mod junit;
pub mod merge;
mod plan_tree;
pub mod progress;
mod reporter;
pub mod results;
pub mod summary;
mod thresholds;
pub mod transcript;

pub use plan_tree::plan_tree;
pub use progress::{Progress, ProgressMode};
pub use reporter::drive;
pub use summary::{run_summary, scenario_summary};
pub use transcript::{Transcript, TranscriptRouter};
