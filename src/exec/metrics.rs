//! A scenario's metrics, aggregated as its clients go: per step name and for the whole scenario,
//! a latency histogram of the requests, counts of how the steps ended and what the servers
//! answered, and a per-second series. Memory is fixed per step name (plus one point per step
//! per active second), however many calls a run makes: nothing is kept per call or per client.
//!
//! Every client records into the one table behind a lock, held for a few hundred nanoseconds
//! per request; that is cheaper than a histogram per client, which 10,000 clients would each
//! hold and the scenario would merge at the end.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use super::latency::{Samples, latency, latency_with, micros, millis, new_histogram, record};
use super::result::{Latency, Spread, Status};
use super::session_metrics::{SessionEnd, SessionMetrics, SessionTally};
use super::timeline::{MarkKind, Timeline, TimelineReport};
use super::window::{Recent, Window};

/// What a request's answer said, besides how long it took.
#[derive(Debug, Clone, Copy, Default)]
pub struct Answer {
    /// The HTTP status, for HTTP and MCP requests.
    pub status: Option<u16>,
    /// What an MCP answer said of its session (`expired`, `rejected`, `termination_refused`).
    pub verdict: Option<&'static str>,
}

/// The metrics of one scenario.
pub struct Metrics {
    started: Instant,
    table: Mutex<Table>,
}

#[derive(Default)]
struct Table {
    /// Sorted by name: a scenario has a handful of step names, so a binary search over a vector
    /// is as fast as hashing one.
    steps: Vec<(Box<str>, Tally)>,
    total: Tally,
    groups: BTreeMap<String, GroupTally>,
    sessions: SessionTally,
    timeline: Timeline,
    /// The live view's last seconds.
    window: Window,
}

/// What is counted of one client group.
#[derive(Default)]
struct GroupTally {
    passed: u64,
    failed: u64,
    arrivals: Option<ArrivalTally>,
}

/// What is counted of an arrival group's schedule.
struct ArrivalTally {
    scheduled: u64,
    started: u64,
    dropped: u64,
    lateness: Samples,
}

/// Everything counted for one step name, or for the whole scenario.
struct Tally {
    latency: Histogram<u64>,
    passed: u64,
    failed: u64,
    failures: BTreeMap<&'static str, u64>,
    statuses: BTreeMap<u16, u64>,
    verdicts: BTreeMap<&'static str, u64>,
    /// Of a fixed-rate loop's passes; empty for every other step, and in total.
    lateness: Samples,
    series: Series,
}

/// The per-second series: the second being filled, and the points of the seconds before it.
struct Series {
    second: u64,
    latency: Histogram<u64>,
    requests: u64,
    errors: u64,
    points: Vec<Point>,
}

/// One second of a series: the requests answered in it, the steps that failed in it, and the
/// latency of its requests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// Seconds from the scenario's start.
    pub second: u64,
    pub requests: u64,
    pub errors: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p50_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p99_ms: Option<f64>,
}

/// What `report.json` says of one step name, or of the whole scenario.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StepMetrics {
    /// Requests that got an answer.
    pub requests: u64,
    /// Steps that held, and those that did not.
    pub passed: u64,
    pub failed: u64,
    /// Failed steps by what went wrong (`timeout`, `assertion`, `status`, …).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub failures: BTreeMap<Cow<'static, str>, u64>,
    /// Answers by HTTP status.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub statuses: BTreeMap<u16, u64>,
    /// MCP answers by what they said of the session.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub verdicts: BTreeMap<Cow<'static, str>, u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<Latency>,
    /// For a fixed-rate loop: how late its passes started, across every client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lateness: Option<Latency>,
    /// One point per second in which something was answered or failed; quiet seconds are left
    /// out.
    pub series: Vec<Point>,
}

/// The metrics `report.json` holds.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct MetricsReport {
    /// Every step together.
    pub total: StepMetrics,
    /// Per step name.
    pub steps: BTreeMap<String, StepMetrics>,
    /// Per client group: its instances that have ended.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub groups: BTreeMap<String, GroupMetrics>,
    /// The clients' MCP sessions.
    pub sessions: SessionMetrics,
}

/// How a client group's instances ended, so far.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GroupMetrics {
    pub passed: u64,
    pub failed: u64,
    /// For an arrival group.
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    pub arrivals: Option<ArrivalMetrics>,
}

/// How an arrival group's schedule went, so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArrivalMetrics {
    /// Every arrival of the schedule, reached or not.
    pub scheduled: u64,
    pub started: u64,
    pub dropped: u64,
    /// How late the instances started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lateness: Option<Latency>,
}

impl Metrics {
    /// Metrics whose series count seconds from now.
    pub fn new() -> Self {
        Self {
            started: Instant::now(),
            table: Mutex::default(),
        }
    }

    /// A request of `step` was answered after `elapsed`.
    pub fn answered(&self, step: &str, elapsed: Duration, answer: Answer) {
        let micros = micros(elapsed);
        let mut table = self.lock();
        let second = self.started.elapsed().as_secs();
        let Table {
            steps, total, window, ..
        } = &mut *table;
        for tally in [total, tally_mut(steps, step)] {
            tally.answered(second, micros, answer);
        }
        window.answered(second, micros);
    }

    /// A leaf step ended: passed, or failed for the reason `failure` names.
    pub fn ended(&self, step: &str, failure: Option<&'static str>) {
        let mut table = self.lock();
        let second = self.started.elapsed().as_secs();
        let Table {
            steps, total, window, ..
        } = &mut *table;
        for tally in [total, tally_mut(steps, step)] {
            tally.ended(second, failure);
        }
        if failure.is_some() {
            window.failed(second);
        }
    }

    /// A pass of the fixed-rate loop `step` started `lateness` after its slot.
    pub fn late(&self, step: &str, lateness: Duration) {
        let micros = micros(lateness);
        tally_mut(&mut self.lock().steps, step).lateness.record(micros);
    }

    /// An instance of client group `group` ended.
    pub fn client_ended(&self, group: &str, status: Status) {
        let mut table = self.lock();
        let counts = group_mut(&mut table.groups, group);
        match status {
            Status::Passed => counts.passed += 1,
            Status::Failed => counts.failed += 1,
            // Stopped before it could pass or fail, as a step the run's stop cut short.
            Status::Interrupted => {}
        }
    }

    /// Arrival group `group` begins its schedule of `scheduled` arrivals.
    pub fn arrivals_began(&self, group: &str, scheduled: u64) {
        group_mut(&mut self.lock().groups, group).arrivals = Some(ArrivalTally {
            scheduled,
            started: 0,
            dropped: 0,
            lateness: Samples::default(),
        });
    }

    /// An arrival of `group` started an instance `lateness` after it was due.
    pub fn arrival_started(&self, group: &str, lateness: Duration) {
        self.with_arrivals(group, |arrivals| {
            arrivals.started += 1;
            arrivals.lateness.record(micros(lateness));
        });
    }

    /// An arrival of `group` was dropped.
    pub fn arrival_dropped(&self, group: &str) {
        self.with_arrivals(group, |arrivals| arrivals.dropped += 1);
    }

    /// How late `group`'s arrivals started.
    pub fn arrival_lateness(&self, group: &str) -> Option<Spread> {
        let table = self.lock();
        table.groups.get(group)?.arrivals.as_ref()?.lateness.spread()
    }

    /// The handshake of client `group#id` opened session `id`, `again` after the server dropped
    /// the one before; its number in the timeline.
    pub fn session_opened(&self, id: &str, client: (&str, u64), again: bool) -> u64 {
        let elapsed = self.started.elapsed();
        let mut table = self.lock();
        table.sessions.opened(elapsed.as_secs());
        table.timeline.opened(id, client, ms(elapsed), again)
    }

    /// Session `lane` stopped being active.
    pub fn session_ended(&self, lane: u64, end: SessionEnd) {
        let elapsed = self.started.elapsed();
        let mut table = self.lock();
        table.sessions.ended(elapsed.as_secs(), end);
        table.timeline.ended(lane, end, ms(elapsed));
    }

    /// Step `step`, which started at `at`, was sent on session `lane` (a call) or named it (an
    /// SQL check).
    pub fn session_marked(&self, lane: u64, step: &str, kind: MarkKind, at: Instant, failed: bool) {
        let at = ms(at.saturating_duration_since(self.started));
        self.lock().timeline.marked(lane, step, kind, at, failed);
    }

    /// The sessions of the timeline whose ids appear in `values`.
    pub fn sessions_named<'v>(&self, values: impl IntoIterator<Item = &'v serde_json::Value>) -> Vec<u64> {
        self.lock().timeline.named_in(values)
    }

    /// The session timeline so far.
    pub fn timeline(&self) -> TimelineReport {
        self.lock().timeline.report()
    }

    /// An expired session was opened again (besides counting as opened).
    pub fn session_reinitialized(&self) {
        self.lock().sessions.reinitialized();
    }

    /// The server refused a `close`.
    pub fn termination_refused(&self) {
        self.lock().sessions.termination_refused();
    }

    /// Latency percentiles per step name, of the steps that were answered.
    pub fn latency(&self) -> BTreeMap<String, Latency> {
        let table = self.lock();
        (table.steps.iter())
            .filter_map(|(name, tally)| Some((name.to_string(), latency(&tally.latency)?)))
            .collect()
    }

    /// Everything counted so far, the second being filled included.
    pub fn report(&self) -> MetricsReport {
        self.report_with(false)
    }

    /// The report at the end: each latency with its histogram, for `report.html` and `runner
    /// merge`.
    pub fn final_report(&self) -> MetricsReport {
        self.report_with(true)
    }

    fn report_with(&self, histograms: bool) -> MetricsReport {
        let table = self.lock();
        MetricsReport {
            total: table.total.report(histograms),
            steps: (table.steps.iter())
                .map(|(name, tally)| (name.to_string(), tally.report(histograms)))
                .collect(),
            groups: (table.groups.iter())
                .map(|(name, group)| (name.clone(), group.report(histograms)))
                .collect(),
            sessions: table.sessions.report(histograms),
        }
    }

    fn second(&self) -> u64 {
        self.started.elapsed().as_secs()
    }

    /// Counts into `group`'s arrivals, if its schedule began.
    fn with_arrivals(&self, group: &str, count: impl FnOnce(&mut ArrivalTally)) {
        let mut table = self.lock();
        if let Some(arrivals) = table.groups.get_mut(group).and_then(|g| g.arrivals.as_mut()) {
            count(arrivals);
        }
    }

    fn lock(&self) -> MutexGuard<'_, Table> {
        // A client that panicked while holding the lock left whole numbers behind; keep counting.
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The live view's part: running instances, and the figures of the last seconds.
impl Metrics {
    /// An instance of client group `group` started; it counts as running until the guard drops.
    pub fn instance_started(&self, group: Arc<str>) -> Running<'_> {
        let second = self.second();
        self.lock().window.started(&group, second);
        Running { metrics: self, group }
    }

    /// The figures over the last complete seconds, with the sessions held and the arrivals
    /// dropped so far.
    pub fn recent(&self) -> Recent {
        let second = self.second();
        let table = self.lock();
        Recent {
            sessions: table.sessions.active(),
            dropped: (table.groups.iter())
                .filter_map(|(group, tally)| Some((group.clone(), tally.arrivals.as_ref()?.dropped)))
                .collect(),
            ..table.window.recent(second)
        }
    }
}

/// A running instance, for the live view's count: whichever way its task ends, it ends.
pub struct Running<'m> {
    metrics: &'m Metrics,
    group: Arc<str>,
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.metrics.lock().window.ended(&self.group);
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

fn ms(elapsed: Duration) -> f64 {
    crate::duration_text::millis(elapsed)
}

/// Counts by a static name, as a report holds them (which may also be read back from a file).
fn borrowed(counts: &BTreeMap<&'static str, u64>) -> BTreeMap<Cow<'static, str>, u64> {
    counts.iter().map(|(&name, &n)| (Cow::Borrowed(name), n)).collect()
}

fn group_mut<'t>(groups: &'t mut BTreeMap<String, GroupTally>, group: &str) -> &'t mut GroupTally {
    if !groups.contains_key(group) {
        groups.insert(group.to_string(), GroupTally::default());
    }
    groups.get_mut(group).expect("inserted above")
}

impl GroupTally {
    fn report(&self, whole: bool) -> GroupMetrics {
        GroupMetrics {
            passed: self.passed,
            failed: self.failed,
            arrivals: self.arrivals.as_ref().map(|a| ArrivalMetrics {
                scheduled: a.scheduled,
                started: a.started,
                dropped: a.dropped,
                lateness: latency_with(&a.lateness.histogram(), whole),
            }),
        }
    }
}

fn tally_mut<'t>(steps: &'t mut Vec<(Box<str>, Tally)>, step: &str) -> &'t mut Tally {
    let index = match steps.binary_search_by(|(name, _)| (**name).cmp(step)) {
        Ok(index) => index,
        Err(index) => {
            steps.insert(index, (step.into(), Tally::default()));
            index
        }
    };
    &mut steps[index].1
}

impl Default for Tally {
    fn default() -> Self {
        Self {
            latency: new_histogram(),
            passed: 0,
            failed: 0,
            failures: BTreeMap::new(),
            statuses: BTreeMap::new(),
            verdicts: BTreeMap::new(),
            lateness: Samples::default(),
            series: Series {
                second: 0,
                latency: new_histogram(),
                requests: 0,
                errors: 0,
                points: Vec::new(),
            },
        }
    }
}

impl Tally {
    fn answered(&mut self, second: u64, micros: u64, answer: Answer) {
        record(&mut self.latency, micros);
        if let Some(status) = answer.status {
            *self.statuses.entry(status).or_default() += 1;
        }
        if let Some(verdict) = answer.verdict {
            *self.verdicts.entry(verdict).or_default() += 1;
        }
        let series = self.series.at(second);
        series.requests += 1;
        record(&mut series.latency, micros);
    }

    fn ended(&mut self, second: u64, failure: Option<&'static str>) {
        let Some(failure) = failure else {
            self.passed += 1;
            return;
        };
        self.failed += 1;
        *self.failures.entry(failure).or_default() += 1;
        self.series.at(second).errors += 1;
    }

    fn report(&self, whole: bool) -> StepMetrics {
        let mut series = self.series.points.clone();
        series.extend(self.series.point());
        StepMetrics {
            requests: self.latency.len(),
            passed: self.passed,
            failed: self.failed,
            failures: borrowed(&self.failures),
            statuses: self.statuses.clone(),
            verdicts: borrowed(&self.verdicts),
            latency: latency_with(&self.latency, whole),
            lateness: latency_with(&self.lateness.histogram(), whole),
            series,
        }
    }
}

impl Series {
    /// The series with `second` being filled: the second before it, if it counted anything,
    /// becomes a point.
    fn at(&mut self, second: u64) -> &mut Self {
        if second > self.second {
            if let Some(point) = self.point() {
                self.points.push(point);
            }
            self.second = second;
            self.latency.reset();
            self.requests = 0;
            self.errors = 0;
        }
        self
    }

    /// The second being filled as a point, unless nothing happened in it.
    fn point(&self) -> Option<Point> {
        let quantile = |q| (!self.latency.is_empty()).then(|| millis(self.latency.value_at_quantile(q)));
        (self.requests > 0 || self.errors > 0).then(|| Point {
            second: self.second,
            requests: self.requests,
            errors: self.errors,
            p50_ms: quantile(0.50),
            p99_ms: quantile(0.99),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(status: u16) -> Answer {
        Answer {
            status: Some(status),
            verdict: None,
        }
    }

    /// Within the histogram's 1% resolution.
    fn close(actual: f64, expected: f64) -> bool {
        (actual - expected).abs() <= expected * 0.01 + 0.001
    }

    #[tokio::test(start_paused = true)]
    async fn percentiles_counts_and_statuses_per_step_and_in_total() {
        let metrics = Metrics::new();
        for n in 1..=100 {
            metrics.answered("call echo", Duration::from_millis(n), ok(200));
            metrics.ended("call echo", None);
        }
        metrics.answered("call echo", Duration::from_millis(7), ok(500));
        metrics.ended("call echo", Some("status"));
        metrics.ended("wait", None);
        let report = metrics.report();
        let echo = &report.steps["call echo"];
        assert_eq!((echo.requests, echo.passed, echo.failed), (101, 100, 1));
        assert_eq!(echo.statuses, BTreeMap::from([(200, 100), (500, 1)]));
        assert_eq!(echo.failures, BTreeMap::from([("status".into(), 1)]));
        let latency = echo.latency.as_ref().unwrap();
        assert!(close(latency.p50_ms, 50.0), "{latency:?}");
        assert!(close(latency.p99_ms, 99.0), "{latency:?}");
        assert!(close(latency.max_ms, 100.0), "{latency:?}");
        assert!(report.steps["wait"].latency.is_none());
        assert_eq!(
            (report.total.requests, report.total.passed, report.total.failed),
            (101, 101, 1)
        );
        assert_eq!(metrics.latency().keys().collect::<Vec<_>>(), ["call echo"]);
    }

    #[tokio::test(start_paused = true)]
    async fn the_series_has_a_point_per_active_second() {
        let metrics = Metrics::new();
        for _ in 0..3 {
            metrics.answered("get", Duration::from_millis(10), ok(200));
        }
        tokio::time::advance(Duration::from_millis(1500)).await;
        metrics.answered("get", Duration::from_millis(40), ok(200));
        metrics.ended("get", Some("timeout"));
        // Seconds 2 to 4 are quiet.
        tokio::time::advance(Duration::from_secs(3)).await;
        metrics.answered("get", Duration::from_millis(20), ok(200));
        let series = metrics.report().steps["get"].series.clone();
        let seconds: Vec<_> = series.iter().map(|p| (p.second, p.requests, p.errors)).collect();
        assert_eq!(seconds, [(0, 3, 0), (1, 1, 1), (4, 1, 0)]);
        assert!(close(series[0].p99_ms.unwrap(), 10.0));
        assert!(close(series[1].p50_ms.unwrap(), 40.0));
        assert_eq!(metrics.report().total.series.len(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_second_with_only_failures_has_no_percentiles() {
        let metrics = Metrics::new();
        metrics.ended("connect", Some("connection"));
        let point = &metrics.report().steps["connect"].series[0];
        assert_eq!((point.requests, point.errors, point.p50_ms), (0, 1, None));
    }

    #[tokio::test(start_paused = true)]
    async fn memory_does_not_grow_with_calls() {
        let metrics = Metrics::new();
        for n in 0..200_000u64 {
            metrics.answered("call echo", Duration::from_micros(100 + n % 5000), ok(200));
            metrics.ended("call echo", None);
        }
        let table = metrics.lock();
        let (_, tally) = &table.steps[0];
        // One second, one point at most; the histograms' counters arrays stay at their size.
        assert!(tally.series.points.is_empty());
        assert!(
            tally.latency.distinct_values() < 2048,
            "{}",
            tally.latency.distinct_values()
        );
        assert_eq!(tally.latency.len(), 200_000);
    }

    #[tokio::test(start_paused = true)]
    async fn lateness_per_loop_and_outcomes_per_group() {
        let metrics = Metrics::new();
        for ms in [1, 2, 40] {
            metrics.late("beat", Duration::from_millis(ms));
        }
        metrics.client_ended("load", Status::Passed);
        metrics.client_ended("load", Status::Failed);
        metrics.client_ended("load", Status::Interrupted);
        let report = metrics.report();
        let lateness = report.steps["beat"].lateness.clone().unwrap();
        assert_eq!(lateness.count, 3);
        assert!(close(lateness.max_ms, 40.0), "{lateness:?}");
        assert!(
            report.total.lateness.is_none(),
            "lateness is a loop's, not the scenario's"
        );
        let load = &report.groups["load"];
        assert_eq!((load.passed, load.failed, &load.arrivals), (1, 1, &None));
    }

    #[tokio::test(start_paused = true)]
    async fn an_arrival_group_counts_from_the_start_of_its_schedule() {
        let metrics = Metrics::new();
        metrics.arrival_started("visitors", Duration::from_millis(1));
        assert!(
            metrics.report().groups.is_empty(),
            "not counted before its schedule began"
        );
        metrics.arrivals_began("visitors", 10);
        for ms in [1, 2, 3] {
            metrics.arrival_started("visitors", Duration::from_millis(ms));
        }
        metrics.arrival_dropped("visitors");
        let arrivals = metrics.report().groups["visitors"].arrivals.clone().unwrap();
        assert_eq!((arrivals.scheduled, arrivals.started, arrivals.dropped), (10, 3, 1));
        assert!(close(arrivals.lateness.unwrap().max_ms, 3.0));
        assert!(close(metrics.arrival_lateness("visitors").unwrap().p50, 2.0));
    }

    #[tokio::test(start_paused = true)]
    async fn samples_over_an_hour_are_clamped() {
        let metrics = Metrics::new();
        metrics.answered("slow", Duration::from_secs(10 * 3600), Answer::default());
        metrics.answered("slow", Duration::MAX, Answer::default());
        let latency = metrics.latency()["slow"].clone();
        assert_eq!(latency.count, 2);
        assert!(close(latency.max_ms, 3_600_000.0), "{latency:?}");
    }
}
