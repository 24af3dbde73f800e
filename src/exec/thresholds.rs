//! Thresholds judged on a scenario's metrics: each one's value in its metric's unit, and whether
//! it holds. A metric nothing was measured for (the latency of a step that never ran) has no
//! value and does not hold: a threshold that cannot be checked must not pass.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::metrics::{MetricsReport, StepMetrics};
use super::result::Latency;
use super::session_metrics::SessionMetrics;
use crate::duration_text::format_duration;
use crate::plan::ThresholdPlan;
use crate::plan::metric::{Measure, Sessions, Stat, Unit};

/// How one threshold came out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThresholdResult {
    /// As written: `echo.latency.p99`.
    pub metric: String,
    /// As written, its template rendered: `< 50ms`.
    pub limit: String,
    /// In `unit`; `null` when nothing was measured.
    pub value: Option<f64>,
    /// `ms`, `percent` or `count`.
    pub unit: Unit,
    pub passed: bool,
}

impl ThresholdResult {
    /// The value as people read it: `12.3ms`, `0.5%`, `42`, or `no data`.
    pub fn value_text(&self) -> String {
        let Some(value) = self.value else {
            return "no data".into();
        };
        match self.unit {
            Unit::Duration if value >= 1000.0 => format!("{}s", decimals(value / 1000.0)),
            Unit::Duration => format!("{}ms", decimals(value)),
            Unit::Percent => format!("{}%", decimals(value)),
            Unit::Count => format!("{value}"),
        }
    }
}

/// An aborting threshold that did not hold while the clients ran.
#[derive(Debug, Clone)]
pub struct Breach {
    /// Its place among the plan's thresholds.
    pub index: usize,
    /// How long after the scenario's start it was seen.
    pub at: Duration,
    /// What it was then.
    pub result: ThresholdResult,
}

impl Breach {
    /// The scenario's error.
    pub fn message(&self) -> String {
        format!(
            "threshold `{}` breached at {}: value {} (limit {})",
            self.result.metric,
            format_duration(self.at),
            self.result.value_text(),
            self.result.limit
        )
    }
}

/// At most three decimals, without trailing zeros: `12.345`, `0.5`, `3`.
fn decimals(value: f64) -> String {
    let text = format!("{value:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Every threshold judged on the scenario's final metrics — but the one whose breach stopped the
/// run, which stands as it was then — and the scenario's error when one did not hold.
pub fn judge_at_end(
    thresholds: &[ThresholdPlan],
    report: &MetricsReport,
    breach: Option<Breach>,
) -> (Vec<ThresholdResult>, Option<String>) {
    let mut results: Vec<_> = thresholds.iter().map(|t| judge(t, report)).collect();
    let error = match breach {
        Some(breach) => {
            let message = breach.message();
            results[breach.index] = breach.result;
            Some(message)
        }
        None => breached(&results),
    };
    (results, error)
}

/// One threshold judged on `report`.
pub fn judge(threshold: &ThresholdPlan, report: &MetricsReport) -> ThresholdResult {
    let value = value(threshold, report);
    ThresholdResult {
        metric: threshold.metric.clone(),
        limit: threshold.limit.text.clone(),
        value,
        unit: threshold.unit,
        passed: value.is_some_and(|v| threshold.limit.holds(v)),
    }
}

/// The scenario's error for its breached thresholds, if any.
fn breached(results: &[ThresholdResult]) -> Option<String> {
    let failed: Vec<_> = results.iter().filter(|r| !r.passed).collect();
    match failed[..] {
        [] => None,
        [one] => Some(format!(
            "threshold `{}` breached: value {} (limit {})",
            one.metric,
            one.value_text(),
            one.limit
        )),
        ref many => {
            let names: Vec<_> = many.iter().map(|r| format!("`{}`", r.metric)).collect();
            Some(format!("{} thresholds breached: {}", many.len(), names.join(", ")))
        }
    }
}

/// The threshold's metric in its unit; `None` when nothing was measured.
fn value(threshold: &ThresholdPlan, report: &MetricsReport) -> Option<f64> {
    let step = report.steps.get(&threshold.subject);
    let group = report.groups.get(&threshold.subject);
    // An arrival group's counts exist from the start of its schedule.
    let arrivals = group.and_then(|g| g.arrivals.as_ref());
    // A step that never ended has counted nothing: its counts are zero, its figures unknown.
    let count = |pick: fn(&StepMetrics) -> u64| Some(step.map_or(0, pick) as f64);
    match threshold.measure {
        Measure::Latency(stat) => step.and_then(|s| s.latency.as_ref()).map(|l| of(l, stat)),
        Measure::Lateness(stat) => step.and_then(|s| s.lateness.as_ref()).map(|l| of(l, stat)),
        Measure::Requests => count(|s| s.requests),
        Measure::Passed => count(|s| s.passed),
        Measure::Failed => count(|s| s.failed),
        Measure::ErrorRate => step
            .filter(|s| s.passed + s.failed > 0)
            .map(|s| s.failed as f64 * 100.0 / (s.passed + s.failed) as f64),
        Measure::ClientsPassed => Some(group.map_or(0, |g| g.passed) as f64),
        Measure::ClientsFailed => Some(group.map_or(0, |g| g.failed) as f64),
        Measure::Scheduled => arrivals.map(|a| a.scheduled as f64),
        Measure::Started => arrivals.map(|a| a.started as f64),
        Measure::Dropped => arrivals.map(|a| a.dropped as f64),
        Measure::StartLateness(stat) => arrivals.and_then(|a| a.lateness.as_ref()).map(|l| of(l, stat)),
        Measure::Sessions(count) => Some(sessions(&report.sessions, count) as f64),
        Measure::IdleToExpiry(stat) => report.sessions.idle_to_expiry.as_ref().map(|l| of(l, stat)),
    }
}

fn sessions(metrics: &SessionMetrics, count: Sessions) -> u64 {
    match count {
        Sessions::Opened => metrics.opened,
        Sessions::Expired => metrics.expired,
        Sessions::Rejected => metrics.rejected,
        Sessions::Reinitialized => metrics.reinitialized,
        Sessions::Closed => metrics.closed,
        Sessions::TerminationRefused => metrics.termination_refused,
        Sessions::LeftOpen => metrics.left_open,
        Sessions::PeakActive => metrics.peak_active,
    }
}

fn of(latency: &Latency, stat: Stat) -> f64 {
    match stat {
        Stat::Min => latency.min_ms,
        Stat::P50 => latency.p50_ms,
        Stat::P90 => latency.p90_ms,
        Stat::P99 => latency.p99_ms,
        Stat::Max => latency.max_ms,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::time::Duration;

    use super::*;
    use crate::compile::tests::compile_text;
    use crate::exec::metrics::{Answer, Metrics};
    use crate::exec::result::Status;

    /// A scenario with these thresholds: step `echo` (a call) in a fixed-rate loop `beat`,
    /// step `pause` (a wait), group `load`.
    pub(crate) fn plan(thresholds: &str) -> crate::plan::Plan {
        let text = format!(
            "connections:\n  s: {{ mcp: {{ url: http://127.0.0.1:1/mcp }} }}\nclients:\n  load:\n    steps:\n      - initialize: {{}}\n      - name: beat\n        repeat: {{ every: 1s, times: 3 }}\n        steps:\n          - call: echo\n      - name: pause\n        wait: 1s\nthresholds:\n{thresholds}"
        );
        compile_text(&text).unwrap()
    }

    fn results(thresholds: &str, metrics: &Metrics) -> Vec<(Option<f64>, bool)> {
        let plan = plan(thresholds);
        let report = metrics.report();
        judge_at_end(&plan.thresholds, &report, None)
            .0
            .into_iter()
            .map(|r| (r.value.map(|v| v.round()), r.passed))
            .collect()
    }

    #[tokio::test(start_paused = true)]
    async fn thresholds_are_judged_in_their_metrics_units() {
        let metrics = Metrics::new();
        for ms in [10, 20, 30] {
            metrics.answered("echo", Duration::from_millis(ms), Answer::default());
            metrics.ended("echo", None);
        }
        metrics.ended("echo", Some("timeout"));
        metrics.late("beat", Duration::from_millis(4));
        metrics.client_ended("load", Status::Passed);
        metrics.client_ended("load", Status::Failed);
        let found = results(
            "  echo.latency.max: \"< 25ms\"\n  echo.latency.min: \"<= 10ms\"\n  echo.errors.rate: \"== 25%\"\n  echo.requests: \">= 3\"\n  beat.lateness.p99: \"< 5ms\"\n  load.passed: \"== 1\"\n  load.failed: \"== 0\"\n  echo.failed: \"!= 1\"\n",
            &metrics,
        );
        assert_eq!(
            found,
            [
                (Some(30.0), false),
                (Some(10.0), true),
                (Some(25.0), true),
                (Some(3.0), true),
                (Some(4.0), true),
                (Some(1.0), true),
                (Some(1.0), false),
                (Some(1.0), false),
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_metric_nothing_measured_has_no_value_and_fails() {
        let metrics = Metrics::new();
        let found = results(
            "  echo.latency.p99: \"< 1s\"\n  echo.errors.rate: \"< 1%\"\n  beat.lateness.max: \"< 1s\"\n  echo.failed: \"== 0\"\n  load.failed: \"== 0\"\n",
            &metrics,
        );
        assert_eq!(
            found,
            [
                (None, false),
                (None, false),
                (None, false),
                (Some(0.0), true),
                (Some(0.0), true)
            ]
        );
    }

    #[test]
    fn values_read_in_their_units_and_breaches_are_named() {
        let result = |value, unit, passed| ThresholdResult {
            metric: "m".into(),
            limit: "< 1".into(),
            value,
            unit,
            passed,
        };
        let texts: Vec<_> = [
            result(Some(12.3456), Unit::Duration, true),
            result(Some(1500.0), Unit::Duration, true),
            result(Some(0.5), Unit::Percent, true),
            result(Some(42.0), Unit::Count, true),
            result(None, Unit::Count, false),
        ]
        .iter()
        .map(ThresholdResult::value_text)
        .collect();
        assert_eq!(texts, ["12.346ms", "1.5s", "0.5%", "42", "no data"]);
        let one = [
            result(Some(3.0), Unit::Count, false),
            result(Some(0.0), Unit::Count, true),
        ];
        assert_eq!(
            breached(&one).as_deref(),
            Some("threshold `m` breached: value 3 (limit < 1)")
        );
        let two = [result(None, Unit::Count, false), result(Some(2.0), Unit::Count, false)];
        assert_eq!(breached(&two).as_deref(), Some("2 thresholds breached: `m`, `m`"));
        assert_eq!(breached(&two[..0]), None);
    }
}
