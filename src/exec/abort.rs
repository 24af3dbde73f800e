//! Thresholds with `abort: true`, watched while a scenario's clients run: every second on the
//! metrics so far, and the first breach stops the scenario's clients. The scenario then fails
//! with that breach, where a stop by Ctrl-C would leave it interrupted.

use std::time::Duration;

use tokio::time::{Instant, MissedTickBehavior};

use super::metrics::Metrics;
use super::shared::Shared;
use super::thresholds::{Breach, judge};
use crate::plan::ThresholdPlan;

/// How often the aborting thresholds are judged.
const EVERY: Duration = Duration::from_secs(1);

/// Runs `clients` while the aborting thresholds are watched; the first breach cancels the
/// scenario's token (a child of the run's, so other scenarios go on), and the clients, stopping
/// at their next await, then end.
pub async fn watched<T>(shared: &Shared, clients: impl Future<Output = T>) -> (T, Option<Breach>) {
    let clients = std::pin::pin!(clients);
    let mut clients = clients;
    tokio::select! {
        done = &mut clients => (done, None),
        breach = first_breach(&shared.plan.thresholds, &shared.metrics, shared.started) => {
            shared.cancel.cancel();
            (clients.await, Some(breach))
        }
    }
}

/// Judges the aborting thresholds every second from `started` on, each from its `after:`;
/// returns at the first breach, and never without an aborting threshold. A metric with nothing
/// measured yet is no breach while the run goes on: only its end can say it never was.
async fn first_breach(thresholds: &[ThresholdPlan], metrics: &Metrics, started: Instant) -> Breach {
    let aborting: Vec<(usize, &ThresholdPlan, Duration)> = (thresholds.iter().enumerate())
        .filter_map(|(index, t)| t.abort.map(|after| (index, t, after)))
        .collect();
    if aborting.is_empty() {
        return std::future::pending().await;
    }
    let mut tick = tokio::time::interval_at(started + EVERY, EVERY);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let at = started.elapsed();
        let report = metrics.report();
        for &(index, threshold, after) in &aborting {
            if at < after {
                continue;
            }
            let result = judge(threshold, &report);
            if result.value.is_some() && !result.passed {
                let at = Duration::from_secs(at.as_secs());
                return Breach { index, at, result };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::metrics::Answer;
    use crate::exec::thresholds::tests::plan;

    fn slow(metrics: &Metrics, ms: u64) {
        metrics.answered("echo", Duration::from_millis(ms), Answer::default());
    }

    #[tokio::test(start_paused = true)]
    async fn the_first_breach_after_its_delay_stops_the_watch() {
        let plan =
            plan("  echo.latency.max: { limit: \"< 100ms\", abort: true, after: 3s }\n  echo.latency.p50: \"< 1ms\"\n");
        let metrics = Metrics::new();
        let started = Instant::now();
        slow(&metrics, 500);
        let watch = first_breach(&plan.thresholds, &metrics, started);
        let breach = tokio::time::timeout(Duration::from_secs(60), watch).await.unwrap();
        // Breached from the start, judged only from 3s on; the other threshold never aborts.
        assert_eq!((breach.index, breach.at), (0, Duration::from_secs(3)));
        let message = breach.message();
        assert!(
            message.starts_with("threshold `echo.latency.max` breached at 3s: value 50")
                && message.ends_with("ms (limit < 100ms)"),
            "{message}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn nothing_measured_is_no_breach_while_the_run_goes_on() {
        let plan = plan("  echo.latency.p99: { limit: \"< 100ms\", abort: true }\n");
        let metrics = Metrics::new();
        let started = Instant::now();
        let watch = first_breach(&plan.thresholds, &metrics, started);
        tokio::pin!(watch);
        let quiet = tokio::time::timeout(Duration::from_millis(4500), &mut watch).await;
        assert!(quiet.is_err(), "no sample, no breach");
        slow(&metrics, 250);
        let breach = watch.await;
        assert_eq!(breach.at, Duration::from_secs(5));
        assert!(
            breach.result.value.is_some_and(|v| (v - 250.0).abs() < 3.0),
            "{breach:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn without_an_aborting_threshold_the_watch_never_ends() {
        let plan = plan("  echo.latency.p99: \"< 1ms\"\n");
        let metrics = Metrics::new();
        slow(&metrics, 250);
        let watch = first_breach(&plan.thresholds, &metrics, Instant::now());
        assert!(tokio::time::timeout(Duration::from_secs(600), watch).await.is_err());
    }
}
