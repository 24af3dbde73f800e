//! A suite: the scenarios of one run, one after another or all at once, each one's results
//! written to its own folder, a line per scenario and a summary printed.
//!
//! The caller compiles the plans, starts whatever servers they talk to, and owns the
//! cancellation token: whoever cancels it (the CLI on a signal, a test) stops the clients, and
//! every result is still written. Exit codes are the caller's: the suite says what happened.

mod batch;
mod folders;
mod options;
mod outcome;
mod save;
mod schedule;
#[cfg(test)]
mod tests;

use tokio_util::sync::CancellationToken;

use crate::diagnostic::Diagnostic;
use crate::exec::Run;
use crate::plan::Plan;
use crate::report::junit::junit;
use crate::report::{console, results, run_summary, scenario_summary};
use batch::run_batch;
pub use options::Options;
pub use outcome::{Outcome, Unsaved};
use save::Saved;
pub use schedule::Schedule;

/// Scenarios whose results have a folder each.
#[derive(Debug)]
pub struct Suite {
    plans: Vec<Plan>,
}

impl Suite {
    /// Refuses scenarios whose results would share a folder: their reports would mix.
    pub fn new(plans: Vec<Plan>) -> Result<Self, Vec<Diagnostic>> {
        let problems = folders::shared_folders(&plans);
        match problems.is_empty() {
            true => Ok(Self { plans }),
            false => Err(problems),
        }
    }

    pub fn plans(&self) -> &[Plan] {
        &self.plans
    }

    /// Runs the scenarios as `options` schedule them, until the last one ends, a failure stops
    /// a fail-fast run, or `cancel` is cancelled.
    pub async fn run(self, options: &Options, cancel: CancellationToken) -> Outcome {
        let run = Run {
            record: options.record,
            transcript: options.transcript,
            shard: options.shard,
            ..Run::new(cancel.clone())
        };
        let several = self.plans.len() > 1;
        let started = chrono::Utc::now();
        let placed = self.plans.into_iter().map(|plan| {
            let dir = folders::results_dir(&plan, options.out.as_deref(), several, started);
            (plan, dir)
        });
        let mut outcome = Outcome::default();
        for batch in options.schedule.batches(placed) {
            let failed = record(&mut outcome, run_batch(batch, &run, options).await);
            if cancel.is_cancelled() || options.schedule.stops_after(failed) {
                break;
            }
        }
        if several {
            console::out(&run_summary(&outcome.results));
        }
        if let Some(path) = &options.junit
            && let Err(source) = results::write_text(path, &junit(&outcome.results))
        {
            let unsaved = Unsaved {
                dir: path.clone(),
                source,
            };
            console::err(&format!("error: {unsaved}\n"));
            outcome.unsaved.push(unsaved);
        }
        outcome
    }
}

/// Prints each scenario's line, or why its results are missing, into the outcome; true when a
/// scenario failed.
fn record(outcome: &mut Outcome, batch: Vec<Result<Saved, Unsaved>>) -> bool {
    let mut failed = false;
    for saved in batch {
        match saved {
            Ok(Saved { dir, result }) => {
                console::out(&format!("{}  results: {}\n", scenario_summary(&result), dir.display()));
                failed |= !result.status.passed();
                outcome.results.push(result);
            }
            Err(unsaved) => {
                console::err(&format!("error: {unsaved}\n"));
                outcome.unsaved.push(unsaved);
            }
        }
    }
    failed
}
