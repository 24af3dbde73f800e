//! An arrival group (the open model): a new instance at each time its schedule gives, counted
//! from the group's start, whatever the server does. A slow answer never delays the next
//! arrival, so latencies are not flattered (coordinated omission); an arrival that comes while
//! `max_active` instances run is dropped and counted, never queued. Finished instances are
//! folded into the group's result as they end: counts, samples, a per-second series, and the
//! few kept in full.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::client::{self, Finished, Instance};
use super::event::Event;
use super::latency::{Samples, micros};
use super::record::{FIRST_KEPT, Kept};
use super::result::{ArrivalPoint, ArrivalsResult, ClientResult, Status};
use super::series::{Second, point_at};
use super::shard::Shard;
use super::shared::Shared;
use super::timer;
use crate::plan::ArrivalsPlan;

/// Runs group `g`'s arrivals from `start` to the end of the schedule and of the last instance:
/// in a shard, the arrivals of the schedule it owns, at their times. Its instances' `index`
/// counts on from `first_index`.
pub(super) async fn run(shared: Arc<Shared>, g: usize, plan: &ArrivalsPlan, start: Instant, first_index: u64) -> Done {
    let group = &shared.plan.groups[g];
    let shard = shared.shard;
    let max_active = shard.max_active(plan.max_active);
    let slots = Arc::new(Semaphore::new(max_active as usize));
    let mut tasks = JoinSet::new();
    let mut tally = Tally::new(&shared, group.name.clone(), plan);
    shared
        .metrics
        .arrivals_began(&group.name, shard.share(plan.scheduled()));
    let owned = (0u64..).zip(plan.schedule()).filter(|(n, _)| shard.owns(*n));
    for (n, offset) in owned {
        let due = start + offset;
        let wait = timer::sleep_until(due);
        tokio::pin!(wait);
        // Instances that end while the next arrival is awaited are folded in at once, so only
        // the running ones are held.
        let reached = loop {
            tokio::select! {
                biased;
                () = shared.cancel.cancelled() => break false,
                () = &mut wait => break true,
                Some(joined) = tasks.join_next() => tally.finished(joined),
            }
        };
        if !reached {
            break;
        }
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tally.dropped(&shared).await;
            continue;
        };
        // Numbered as in the whole run, so that shards' instances do not clash when merged.
        let instance = Instance {
            group: group.name.as_str().into(),
            client_id: n + 1,
            index: first_index + n,
            delay: Duration::ZERO,
            shows_first: shard.ordinal(n + 1) <= FIRST_KEPT,
        };
        // Counted by the slots, not the tasks: a task that ended may not have been joined yet.
        let active = max_active - slots.available_permits() as u64;
        tally.started(active, second(&shared));
        let shared = shared.clone();
        tasks.spawn(async move {
            let began = Instant::now();
            let group = &shared.plan.groups[g];
            shared.metrics.arrival_started(&group.name, began - due);
            let finished = client::run(shared.clone(), instance, &group.steps, &group.record, None).await;
            drop(slot);
            shared.metrics.client_ended(&group.name, finished.result.status);
            Ended {
                finished,
                elapsed: began.elapsed(),
            }
        });
    }
    while let Some(joined) = tasks.join_next().await {
        tally.finished(joined);
    }
    tally.finish(&shared, shared.cancel.is_cancelled())
}

/// What an arrival group hands back: its result, and the assertions its instances ran.
pub(super) struct Done {
    pub result: ArrivalsResult,
    pub assertions_run: u64,
}

/// An instance at its end: what it did, and how long it took.
struct Ended {
    finished: Finished,
    elapsed: Duration,
}

impl Second for ArrivalPoint {
    fn second(&self) -> u64 {
        self.second
    }
}

/// Seconds from the scenario's start, the series' unit.
fn second(shared: &Shared) -> u64 {
    shared.started.elapsed().as_secs()
}

/// An arrival group's counts so far.
struct Tally {
    result: ArrivalsResult,
    shard: Shard,
    kept: Kept<ClientResult>,
    elapsed: Samples,
    assertions_run: u64,
}

impl Tally {
    fn new(shared: &Shared, group: String, plan: &ArrivalsPlan) -> Self {
        Self {
            result: ArrivalsResult {
                group,
                status: Status::Passed,
                scheduled: shared.shard.share(plan.scheduled()),
                started: 0,
                dropped: 0,
                unreached: 0,
                passed: 0,
                failed: 0,
                interrupted: 0,
                max_active: shared.shard.max_active(plan.max_active),
                peak_active: 0,
                lateness_ms: None,
                elapsed_ms: None,
                error: None,
                kept: 0,
                omitted: 0,
                series: Vec::new(),
                instances: Vec::new(),
            },
            shard: shared.shard,
            kept: Kept::new(shared.record),
            elapsed: Samples::default(),
            assertions_run: 0,
        }
    }

    fn started(&mut self, active: u64, second: u64) {
        self.result.started += 1;
        self.result.peak_active = self.result.peak_active.max(active);
        self.point(second).started += 1;
    }

    async fn dropped(&mut self, shared: &Shared) {
        self.result.dropped += 1;
        self.point(second(shared)).dropped += 1;
        shared.metrics.arrival_dropped(&self.result.group);
        let group = self.result.group.as_str().into();
        shared
            .emit(Event::Dropped {
                scenario: shared.scenario.clone(),
                group,
            })
            .await;
    }

    /// The series' point for `second`, which is the last one or a new one after it.
    fn point(&mut self, second: u64) -> &mut ArrivalPoint {
        point_at(&mut self.result.series, second, || ArrivalPoint {
            second,
            started: 0,
            dropped: 0,
        })
    }

    fn finished(&mut self, joined: Result<Ended, tokio::task::JoinError>) {
        let ended = match joined {
            Ok(ended) => ended,
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        };
        let client = ended.finished.result;
        self.assertions_run += ended.finished.assertions_run;
        self.elapsed.record(micros(ended.elapsed));
        let result = &mut self.result;
        match client.status {
            Status::Passed => result.passed += 1,
            Status::Failed => result.failed += 1,
            Status::Interrupted => result.interrupted += 1,
        }
        if result.error.is_none()
            && let Some(error) = &client.error
        {
            result.error = Some(format!("{} #{}: {error}", result.group, client.client_id));
        }
        let (ordinal, passed) = (self.shard.ordinal(client.client_id), client.status.passed());
        self.kept.add(client, ordinal, passed);
    }

    fn finish(self, shared: &Shared, cancelled: bool) -> Done {
        let Self {
            mut result,
            kept,
            elapsed,
            assertions_run,
            ..
        } = self;
        let mut instances = kept.finish();
        instances.sort_by_key(|c| c.client_id);
        result.kept = instances.len() as u64;
        result.omitted = result.started.saturating_sub(result.kept);
        result.unreached = (result.scheduled).saturating_sub(result.started + result.dropped);
        result.lateness_ms = shared.metrics.arrival_lateness(&result.group);
        result.elapsed_ms = elapsed.spread();
        result.instances = instances;
        result.status = match (cancelled, result.failed) {
            (true, _) => Status::Interrupted,
            (false, 0) => Status::Passed,
            (false, _) => Status::Failed,
        };
        Done { result, assertions_run }
    }
}
