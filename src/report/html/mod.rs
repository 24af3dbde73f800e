//! `report.html`: one scenario's run as a page that stands alone — no script, style or font is
//! fetched, so it opens from a CI artifact store or a file URL — and reads without JavaScript.
//! It holds the summary, the thresholds, each step's latency and errors over time with its
//! latency histogram, and the session timeline ([`lanes`]).
//!
//! The charts are inline SVG: Rust works out every shape in pixels ([`chart`], [`lanes`]), and
//! the template (`page.html`, through minijinja, which escapes every value) writes them out.
//! The page is made from `report.json` alone, so `runner report` can make it again.

mod chart;
mod lanes;

use minijinja::Environment;
use serde::Serialize;

use crate::exec::{ScenarioResult, SessionMetrics, Status, StepMetrics, decoded_histogram};
use crate::mask::mask_value;
use chart::{Chart, PLOT_HEIGHT, PLOT_WIDTH, ms_label};
use lanes::Timeline;

const TEMPLATE: &str = include_str!("page.html");

/// What the template is given.
#[derive(Serialize)]
struct Page {
    name: String,
    path: String,
    status: &'static str,
    error: Option<String>,
    started_at: String,
    elapsed: String,
    facts: Vec<(&'static str, String)>,
    session_facts: Vec<(&'static str, u64)>,
    thresholds: Vec<ThresholdRow>,
    steps: Vec<StepView>,
    sessions_chart: Option<Chart>,
    timeline: Option<Timeline>,
    plot: (f64, f64),
}

#[derive(Serialize)]
struct ThresholdRow {
    metric: String,
    limit: String,
    value: String,
    passed: bool,
}

#[derive(Serialize)]
struct StepView {
    name: String,
    requests: u64,
    passed: u64,
    failed: u64,
    /// p50, p90, p99 and max, as text; empty for a step that sent nothing.
    latency: Vec<String>,
    charts: Vec<Chart>,
}

/// The page of `result`, every text in it masked.
pub fn html(result: &ScenarioResult) -> Result<String, minijinja::Error> {
    let mut page = serde_json::to_value(page(result))
        .map_err(|e| minijinja::Error::new(minijinja::ErrorKind::BadSerialization, e.to_string()))?;
    // Each text is masked before the template escapes it: a secret's `&` or `<` escaped could no
    // longer be found in the finished page.
    mask_value(&mut page);
    let mut environment = Environment::new();
    // The name ends in `.html`, so every value is escaped for HTML.
    environment.add_template("report.html", TEMPLATE)?;
    environment
        .get_template("report.html")?
        .render(minijinja::Value::from(minijinja::value::Serde(&page)))
}

fn page(result: &ScenarioResult) -> Page {
    let seconds = result.elapsed_ms / 1000.0;
    let sessions = &result.metrics.sessions;
    Page {
        name: result.name.clone(),
        path: result.path.display().to_string(),
        status: status(result.status),
        error: result.error.clone(),
        started_at: result.started_at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        elapsed: ms_label(result.elapsed_ms),
        facts: facts(result),
        session_facts: session_facts(sessions),
        thresholds: (result.thresholds.iter())
            .map(|t| ThresholdRow {
                metric: t.metric.clone(),
                limit: t.limit.clone(),
                value: t.value_text(),
                passed: t.passed,
            })
            .collect(),
        steps: (result.metrics.steps.iter())
            .map(|(name, metrics)| step_view(name, metrics, seconds))
            .collect(),
        // Counted per second: a run of a second or two has nothing to draw.
        sessions_chart: (sessions.series.len() > 1).then(|| chart::sessions_over_time(&sessions.series, seconds)),
        timeline: lanes::timeline(result),
        plot: (PLOT_WIDTH, PLOT_HEIGHT),
    }
}

/// The session counts, when a client opened one.
fn session_facts(sessions: &SessionMetrics) -> Vec<(&'static str, u64)> {
    if sessions.opened == 0 {
        return Vec::new();
    }
    vec![
        ("opened", sessions.opened),
        ("closed", sessions.closed),
        ("expired (404)", sessions.expired),
        ("rejected (400)", sessions.rejected),
        ("opened again", sessions.reinitialized),
        ("close refused (405)", sessions.termination_refused),
        ("left open", sessions.left_open),
        ("most held at once", sessions.peak_active),
    ]
}

fn status(status: Status) -> &'static str {
    match status {
        Status::Passed => "passed",
        Status::Failed => "failed",
        Status::Interrupted => "interrupted",
    }
}

fn facts(result: &ScenarioResult) -> Vec<(&'static str, String)> {
    let (passed, total) = result.client_counts();
    let total_metrics = &result.metrics.total;
    let mut facts = vec![
        ("clients passed", format!("{passed} of {total}")),
        ("assertions run", result.assertions_run.to_string()),
        ("requests answered", total_metrics.requests.to_string()),
        ("steps failed", total_metrics.failed.to_string()),
    ];
    if let Some(latency) = &total_metrics.latency {
        facts.push((
            "p50 / p99 of every request",
            format!("{} / {}", ms_label(latency.p50_ms), ms_label(latency.p99_ms)),
        ));
    }
    facts
}

fn step_view(name: &str, metrics: &StepMetrics, seconds: f64) -> StepView {
    let latency = (metrics.latency.iter())
        .flat_map(|l| [l.p50_ms, l.p90_ms, l.p99_ms, l.max_ms])
        .map(ms_label)
        .collect();
    let mut charts = Vec::new();
    if metrics.requests > 0 {
        charts.push(chart::latency_over_time(&metrics.series, seconds));
    }
    let histogram = metrics.latency.as_ref().and_then(|l| l.histogram.as_deref());
    if let Some(histogram) = histogram.and_then(decoded_histogram) {
        charts.push(chart::histogram(&histogram));
    }
    if metrics.failed > 0 {
        charts.push(chart::errors_over_time(&metrics.series, seconds));
    }
    StepView {
        name: name.to_string(),
        requests: metrics.requests,
        passed: metrics.passed,
        failed: metrics.failed,
        latency,
        charts,
    }
}

#[cfg(test)]
mod tests;
