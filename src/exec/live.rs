//! The live view's figures, sampled every second while a scenario's clients run and sent as a
//! progress-only event: a display that is behind skips a sample, and the next one says it all
//! again, where an event per request would cost the clients a send each.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::MissedTickBehavior;

use super::event::{ArrivalsLive, Event, Live};
use super::shard::Shard;
use super::shared::Shared;
use super::window::Recent;
use crate::plan::{Instances, Plan};

/// How often the figures are sampled.
const EVERY: Duration = Duration::from_secs(1);

/// Runs `clients` while their figures are sampled; the sampling ends with them.
pub async fn sampled<T>(shared: &Shared, clients: impl Future<Output = T>) -> T {
    tokio::select! {
        done = clients => done,
        never = sample(shared) => match never {},
    }
}

async fn sample(shared: &Shared) -> Infallible {
    let mut tick = tokio::time::interval_at(shared.started + EVERY, EVERY);
    tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
    loop {
        tick.tick().await;
        let figures = figures(
            &shared.plan,
            shared.shard,
            shared.metrics.recent(),
            shared.started.elapsed(),
        );
        let scenario = shared.scenario.clone();
        shared.emit(Event::Live { scenario, figures }).await;
    }
}

/// The figures at `at` from the scenario's start. An arrival group's achieved rate counts its
/// instances as they start, and its drops as they come, in the metrics rather than from the
/// events the display gets: those may be skipped when the display is behind, and say when an
/// instance ended, not when it began. The target is this shard's part of the rate.
fn figures(plan: &Plan, shard: Shard, recent: Recent, at: Duration) -> Live {
    let arrivals = (plan.groups.iter())
        .filter_map(|group| match &group.instances {
            Instances::Arrivals(arrivals) => Some(ArrivalsLive {
                group: Arc::from(group.name.as_str()),
                target: at
                    .checked_sub(group.start_after)
                    .map_or(0.0, |t| arrivals.rate_at(t) / shard.count as f64),
                achieved: recent.starts.get(&group.name).copied().unwrap_or(0.0),
                dropped: recent.dropped.get(&group.name).copied().unwrap_or(0),
            }),
            Instances::Count(_) => None,
        })
        .collect();
    Live {
        rate: recent.rate,
        errors: recent.errors,
        p99_ms: recent.p99_ms,
        active: recent.active,
        sessions: recent.sessions,
        arrivals,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::exec::tests::plan;

    #[test]
    fn arrival_groups_get_their_target_now_and_what_they_achieved() {
        let plan = plan(
            "clients:\n  keeper:\n    steps:\n      - wait: 1s\n  visitors:\n    start_after: 2s\n    arrivals: { stages: [ { to: 10/s, over: 10s } ] }\n    steps:\n      - wait: 1s\n",
        );
        let recent = Recent {
            rate: 3.0,
            errors: 1,
            p99_ms: Some(4.0),
            active: 7,
            starts: BTreeMap::from([("visitors".to_string(), 2.5), ("keeper".to_string(), 0.2)]),
            sessions: Some(6),
            dropped: BTreeMap::from([("visitors".to_string(), 3)]),
        };
        let early = figures(&plan, Shard::default(), recent.clone(), Duration::from_secs(1));
        assert_eq!(
            (early.rate, early.errors, early.p99_ms, early.active),
            (3.0, 1, Some(4.0), 7)
        );
        assert_eq!(
            early.arrivals,
            [ArrivalsLive {
                group: "visitors".into(),
                target: 0.0,
                achieved: 2.5,
                dropped: 3
            }]
        );
        let later = figures(&plan, Shard::default(), Recent::default(), Duration::from_secs(7));
        assert_eq!((later.arrivals[0].target, later.arrivals[0].achieved), (5.0, 0.0));
    }
}
