//! One batch: its scenarios run at the same time with one reporter for all, which shows their
//! progress and writes their transcripts; then each one's results are written. (Run one after
//! another, a batch is one scenario.)

use std::collections::HashMap;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::task::JoinError;

use super::options::Options;
use super::outcome::Unsaved;
use super::save::{Saved, save};
use crate::exec::{Run, run_scenario};
use crate::plan::Plan;
use crate::report::{Progress, Transcript, TranscriptRouter, drive};

/// Events that may wait for the reporter. Bounded so that a reporter slower than the clients
/// (a slow disk, thousands of clients) makes them wait at their next exchange instead of
/// growing a backlog in memory; large enough that bursts of a few hundred clients' step
/// starts and exchanges pass without waiting.
const EVENTS_IN_FLIGHT: usize = 1024;

/// The scenarios whose folder and transcript are ready, and those whose could not be made.
struct Opened {
    ready: Vec<(Arc<Plan>, PathBuf)>,
    transcripts: TranscriptRouter,
    unsaved: Vec<Unsaved>,
}

/// Each scenario's outcome, in order: first those that could not start writing.
pub(super) async fn run_batch(
    batch: Vec<(Plan, PathBuf)>,
    run: &Run,
    options: &Options,
) -> Vec<Result<Saved, Unsaved>> {
    let Opened {
        ready,
        transcripts,
        unsaved,
    } = open(batch, options.transcript_body_limit);
    let (events, receiver) = mpsc::channel(EVENTS_IN_FLIGHT);
    let progress = Progress::new(options.progress, options.quiet);
    let reporter = tokio::spawn(drive(receiver, progress, transcripts));
    let runs = ready
        .iter()
        .map(|(plan, _)| run_scenario(plan.clone(), run, events.clone()));
    let results = futures_util::future::join_all(runs).await;
    // The executors have dropped their clones; dropping this one lets the reporter drain and end.
    drop(events);
    let mut transcripts = finished(reporter.await, &ready);
    let mut outcomes: Vec<Result<Saved, Unsaved>> = unsaved.into_iter().map(Err).collect();
    for ((plan, dir), result) in ready.into_iter().zip(results) {
        outcomes.push(save(dir, result, transcripts.remove(plan.name.as_str())));
    }
    outcomes
}

/// Makes each scenario's folder and opens its transcript there.
fn open(batch: Vec<(Plan, PathBuf)>, body_limit: u64) -> Opened {
    let mut opened = Opened {
        ready: Vec::new(),
        transcripts: TranscriptRouter::new(),
        unsaved: Vec::new(),
    };
    for (plan, dir) in batch {
        match std::fs::create_dir_all(&dir).and_then(|()| Transcript::create(dir.join("transcript.jsonl"))) {
            Ok(transcript) => {
                opened
                    .transcripts
                    .insert(plan.name.as_str(), transcript.with_body_limit(body_limit));
                opened.ready.push((Arc::new(plan), dir));
            }
            Err(source) => opened.unsaved.push(Unsaved { dir, source }),
        }
    }
    opened
}

/// Each scenario's finished transcript; a reporter that panicked finished none.
fn finished(
    reporter: Result<TranscriptRouter, JoinError>,
    ready: &[(Arc<Plan>, PathBuf)],
) -> HashMap<Arc<str>, io::Result<PathBuf>> {
    match reporter {
        Ok(transcripts) => transcripts.finish_all().into_iter().collect(),
        Err(e) => ready
            .iter()
            .map(|(plan, _)| (Arc::from(plan.name.as_str()), Err(io::Error::other(e.to_string()))))
            .collect(),
    }
}
