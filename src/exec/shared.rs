//! What every client of a scenario shares: the plan, the values every template sees, the
//! barriers, the database pools, the event channel.

use std::collections::BTreeMap;
use std::sync::Arc;

use minijinja::Value as Jinja;
use minijinja::value::Serde;
use serde_json::{Map, Value};
use tokio::sync::mpsc::Sender;
use tokio_util::sync::CancellationToken;

use super::barriers::Barriers;
use super::databases::Databases;
use super::event::Event;
use super::metrics::Metrics;
use super::record::Record;
use super::run::Run;
use super::shard::Shard;
use super::transcript::TranscriptMode;
use crate::plan::Plan;

/// Run-wide facts, shared by every client of a scenario.
pub struct Shared {
    /// The compiled scenario.
    pub plan: Arc<Plan>,
    /// The scenario's name, for events.
    pub scenario: Arc<str>,
    /// `vars`, `env` and `run`, converted once.
    pub(super) globals: [(&'static str, Jinja); 3],
    /// Where events go: a bounded channel, so that a slow reporter slows the clients down
    /// instead of letting a backlog grow.
    pub events: Sender<Event>,
    /// Which exchanges the clients send to the transcript.
    pub transcript: TranscriptMode,
    /// Cancelled on Ctrl-C (a child of the run's token), or by a breached threshold that
    /// aborts, which stops this scenario only.
    pub cancel: CancellationToken,
    /// How much of each loop's passes the results keep.
    pub record: Record,
    /// The part of the run this process runs.
    pub shard: Shard,
    /// The scenario's barriers.
    pub barriers: Barriers,
    /// The scenario's database pools.
    pub databases: Databases,
    /// What its requests and steps came to, aggregated as they go.
    pub metrics: Metrics,
    /// When the scenario started.
    pub started: tokio::time::Instant,
    /// What `before:` saved, which every client and `after:` starts with.
    before: std::sync::OnceLock<Map<String, Value>>,
    /// Every step name of the plan with a count of 0: `counts.X` is 0, not undefined, until X
    /// first succeeds, whichever group X is in.
    pub(super) zero_counts: BTreeMap<String, u64>,
}

impl Shared {
    /// Run-wide facts for one scenario.
    pub fn new(plan: Arc<Plan>, run: &Run, events: Sender<Event>) -> Self {
        let globals = [
            ("vars", Jinja::from(Serde(&plan.vars))),
            ("env", Jinja::from(Serde(&run.env))),
            ("run", Jinja::from(Serde(run.info()))),
        ];
        Self {
            scenario: plan.name.as_str().into(),
            barriers: Barriers::new(&plan.barriers.iter().map(|b| run.shard.barrier(b)).collect::<Vec<_>>()),
            databases: Databases::default(),
            metrics: Metrics::new(),
            globals,
            events,
            transcript: run.transcript,
            cancel: run.cancel.child_token(),
            record: run.record,
            shard: run.shard,
            started: tokio::time::Instant::now(),
            before: std::sync::OnceLock::new(),
            zero_counts: crate::plan::zero_counts(plan.steps()),
            plan,
        }
    }

    /// What `before:` saved (nothing until it has run).
    pub fn before_saved(&self) -> &Map<String, Value> {
        static NOTHING: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
        self.before.get().unwrap_or_else(|| NOTHING.get_or_init(Map::new))
    }

    /// Keeps what `before:` saved for the clients and `after:`.
    pub fn set_before_saved(&self, saved: Map<String, Value>) {
        let _ = self.before.set(saved);
    }

    /// Sends an event, waiting while the channel is full; a progress-only event is dropped
    /// instead (the display is a view, and skipping a step's start loses no result). A reporter
    /// that has gone away is not an error.
    pub async fn emit(&self, event: Event) {
        if event.progress_only() {
            let _ = self.events.try_send(event);
        } else {
            let _ = self.events.send(event).await;
        }
    }
}
