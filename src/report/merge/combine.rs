//! One scenario's shards combined: the scenario started when its first shard did, every time
//! in the result counts from then, clients and arrival instances keep the ids their shards gave
//! them (the whole run's), and the verdict is judged again on the merged figures.

use chrono::{DateTime, Utc};

use super::metrics::{self, Part};
use crate::exec::{
    ArrivalsResult, ClientResult, Lane, Latency, MetricsReport, ScenarioResult, Spread, Status, StepResult,
    ThresholdResult, TimelineReport, judge_at_end,
};
use crate::plan::metric::{MCP_SUBJECT, Of, splits};
use crate::plan::{Limit, ThresholdPlan};

/// Why shards' results could not be combined.
#[derive(Debug, thiserror::Error)]
pub enum CombineError {
    #[error("scenario `{scenario}`: {problem}")]
    Figures { scenario: String, problem: String },
}

/// The shards' results, in shard order, as one.
pub fn combine(parts: Vec<ScenarioResult>) -> Result<ScenarioResult, CombineError> {
    let started_at = parts.iter().map(|p| p.started_at).min().unwrap_or_else(Utc::now);
    let offsets: Vec<f64> = parts.iter().map(|p| offset_ms(started_at, p.started_at)).collect();
    let elapsed_ms = (parts.iter().zip(&offsets))
        .map(|(p, o)| o + p.elapsed_ms)
        .fold(0.0, f64::max);
    let (scenario, path) = (parts[0].name.clone(), parts[0].path.clone());
    let figures: Vec<Part<'_>> = (parts.iter().zip(&offsets))
        .map(|(p, &offset_ms)| Part {
            metrics: &p.metrics,
            offset_ms,
        })
        .collect();
    let metrics = metrics::combine(&figures).map_err(|problem| CombineError::Figures {
        scenario: scenario.clone(),
        problem,
    })?;
    let thresholds = rejudge(&parts[0].thresholds, &metrics);
    let (thresholds, breached) = judge_at_end(&thresholds, &metrics, None);
    let error = own_errors(&parts).or(breached);
    let timeline = timeline(&parts, &offsets);
    let interrupted = parts.iter().any(|p| p.status == Status::Interrupted);
    let mut ran = gathered(parts, &offsets);
    for group in &mut ran.arrivals {
        start_lateness(group, &metrics);
    }
    let passed = error.is_none()
        && ran.clients.iter().all(|c| c.status.passed())
        && ran.arrivals.iter().all(|a| a.status.passed());
    Ok(ScenarioResult {
        name: scenario,
        path,
        status: match (interrupted, passed) {
            (true, _) => Status::Interrupted,
            (false, true) => Status::Passed,
            (false, false) => Status::Failed,
        },
        error,
        started_at,
        elapsed_ms,
        assertions_run: ran.assertions_run,
        before: ran.before,
        clients: ran.clients,
        arrivals: ran.arrivals,
        after: ran.after,
        // As a run writes it: the percentiles, the histograms being in `metrics`.
        latency: (metrics.steps.iter())
            .filter_map(|(name, step)| {
                let latency = step.latency.clone()?;
                Some((
                    name.clone(),
                    Latency {
                        histogram: None,
                        ..latency
                    },
                ))
            })
            .collect(),
        metrics,
        thresholds,
        timeline,
        shard: None,
    })
}

/// What the shards' clients and phases did, gathered.
struct Gathered {
    before: Vec<StepResult>,
    clients: Vec<ClientResult>,
    arrivals: Vec<ArrivalsResult>,
    after: Vec<StepResult>,
    assertions_run: u64,
}

/// Every shard's phases, clients and arrival groups, on the merged time axis: clients by their
/// index in the whole run, arrival instances by id.
fn gathered(parts: Vec<ScenarioResult>, offsets: &[f64]) -> Gathered {
    let mut ran = Gathered {
        before: Vec::new(),
        clients: Vec::new(),
        arrivals: Vec::new(),
        after: Vec::new(),
        assertions_run: 0,
    };
    for (part, &offset) in parts.into_iter().zip(offsets) {
        ran.assertions_run += part.assertions_run;
        ran.before.extend(part.before);
        ran.after.extend(part.after);
        ran.clients.extend(part.clients.into_iter().map(|mut c| {
            c.start_ms += offset;
            c
        }));
        for group in part.arrivals {
            add_arrivals(&mut ran.arrivals, group, offset);
        }
    }
    ran.clients.sort_by_key(|c| c.index);
    for group in &mut ran.arrivals {
        group.instances.sort_by_key(|c| c.client_id);
    }
    ran
}

/// An arrival group's start lateness from the merged metrics: the same samples, whose histograms
/// merged exactly.
fn start_lateness(group: &mut ArrivalsResult, metrics: &MetricsReport) {
    let lateness = (metrics.groups.get(&group.group)).and_then(|g| g.arrivals.as_ref()?.lateness.as_ref());
    if let Some(l) = lateness {
        group.lateness_ms = Some(Spread {
            p50: l.p50_ms,
            p99: l.p99_ms,
            max: l.max_ms,
        });
    }
}

fn offset_ms(first: DateTime<Utc>, start: DateTime<Utc>) -> f64 {
    (start - first).num_microseconds().unwrap_or(0) as f64 / 1000.0
}

/// The shards' own errors, each naming its shard, but those of thresholds judged at the end,
/// which are judged again on the merged figures: a shard's `requests >= 300` may fail on its
/// third of the run and hold on the whole. A breach that stopped a shard (`breached at`)
/// stands: it changed what ran.
fn own_errors(parts: &[ScenarioResult]) -> Option<String> {
    let judged_at_end = |e: &str| {
        (e.starts_with("threshold `") && !e.contains("` breached at ")) || e.contains(" thresholds breached: ")
    };
    let errors: Vec<String> = (parts.iter())
        .filter_map(|p| {
            let error = p.error.as_deref().filter(|e| !judged_at_end(e))?;
            Some(format!("shard {}: {error}", p.shard.unwrap_or_default()))
        })
        .collect();
    (!errors.is_empty()).then(|| errors.join("; "))
}

/// The thresholds as the shards judged them, read back into plans to judge on `metrics`.
fn rejudge(results: &[ThresholdResult], metrics: &MetricsReport) -> Vec<ThresholdPlan> {
    results.iter().filter_map(|result| plan_of(result, metrics)).collect()
}

/// A threshold's plan from its result: the metric split into its subject and measure as the
/// compiler did (the subject the metrics hold, of the unit the result has), the limit read again.
fn plan_of(result: &ThresholdResult, metrics: &MetricsReport) -> Option<ThresholdPlan> {
    let present = |subject: &str, of: Of| match of {
        Of::Step(_) => metrics.steps.contains_key(subject),
        Of::Group(_) => metrics.groups.contains_key(subject),
        Of::Mcp => subject == MCP_SUBJECT,
    };
    let candidates: Vec<_> = splits(&result.metric).filter(|(_, e)| e.unit == result.unit).collect();
    let (subject, entry) = (candidates.iter())
        .find(|(subject, entry)| present(subject, entry.of))
        .or(candidates.first())?;
    Some(ThresholdPlan {
        metric: result.metric.clone(),
        subject: subject.to_string(),
        measure: entry.measure,
        unit: result.unit,
        limit: Limit::parse(&result.limit, result.unit, &result.metric).ok()?,
        abort: None,
    })
}

/// An arrival group's part added to the group's merged result: counts summed, the series
/// aligned, the instances' times the worst of the parts' (no histogram is kept of them; the
/// start lateness is read from the merged metrics after).
fn add_arrivals(merged: &mut Vec<ArrivalsResult>, mut part: ArrivalsResult, offset_ms: f64) {
    for instance in &mut part.instances {
        instance.start_ms += offset_ms;
    }
    let shift = metrics::seconds(offset_ms);
    for point in &mut part.series {
        point.second += shift;
    }
    let Some(group) = merged.iter_mut().find(|g| g.group == part.group) else {
        merged.push(part);
        return;
    };
    group.status = worst(group.status, part.status);
    for (sum, add) in [
        (&mut group.scheduled, part.scheduled),
        (&mut group.started, part.started),
        (&mut group.dropped, part.dropped),
        (&mut group.unreached, part.unreached),
        (&mut group.passed, part.passed),
        (&mut group.failed, part.failed),
        (&mut group.interrupted, part.interrupted),
        (&mut group.max_active, part.max_active),
        (&mut group.peak_active, part.peak_active),
        (&mut group.kept, part.kept),
        (&mut group.omitted, part.omitted),
    ] {
        *sum += add;
    }
    group.elapsed_ms = metrics::worst_spread(group.elapsed_ms, part.elapsed_ms);
    group.error = group.error.take().or(part.error);
    for point in part.series {
        match group.series.iter_mut().find(|p| p.second == point.second) {
            Some(same) => {
                same.started += point.started;
                same.dropped += point.dropped;
            }
            None => group.series.push(point),
        }
    }
    group.series.sort_by_key(|p| p.second);
    group.instances.extend(part.instances);
}

fn worst(a: Status, b: Status) -> Status {
    match (a, b) {
        (Status::Interrupted, _) | (_, Status::Interrupted) => Status::Interrupted,
        (Status::Failed, _) | (_, Status::Failed) => Status::Failed,
        _ => Status::Passed,
    }
}

/// The shards' lanes on one time axis, numbered again in the order they opened.
fn timeline(parts: &[ScenarioResult], offsets: &[f64]) -> TimelineReport {
    let mut lanes: Vec<Lane> = Vec::new();
    for (part, &offset) in parts.iter().zip(offsets) {
        lanes.extend(part.timeline.lanes.iter().cloned().map(|mut lane| {
            lane.opened_ms += offset;
            lane.ended_ms = lane.ended_ms.map(|ms| ms + offset);
            for mark in &mut lane.marks {
                mark.ms += offset;
            }
            lane
        }));
    }
    lanes.sort_by(|a, b| a.opened_ms.total_cmp(&b.opened_ms));
    for (n, lane) in lanes.iter_mut().enumerate() {
        lane.n = n as u64;
    }
    TimelineReport {
        sessions: parts.iter().map(|p| p.timeline.sessions).sum(),
        every: parts.iter().map(|p| p.timeline.every).max().unwrap_or(1),
        lanes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::Shard;
    use crate::report::fixtures::scenario;

    fn part(index: u64, error: Option<&str>) -> ScenarioResult {
        let mut result = scenario("s", Vec::new());
        result.shard = Some(Shard { index, count: 3 });
        result.error = error.map(Into::into);
        result
    }

    #[test]
    fn a_shards_own_errors_stay_but_those_of_thresholds_judged_at_its_end() {
        let parts = [
            part(0, Some("threshold `echo.requests` breached: value 10 (limit == 30)")),
            part(1, Some("2 thresholds breached: `a`, `b`")),
            part(2, None),
        ];
        assert_eq!(own_errors(&parts), None, "judged again on the merged figures");
        let parts = [
            part(
                0,
                Some("threshold `echo.latency.p99` breached at 3s: value 900ms (limit < 50ms)"),
            ),
            part(1, Some("after: step `count rows` (s.yaml:9:7): expected 30, found 10")),
        ];
        assert_eq!(
            own_errors(&parts).unwrap(),
            "shard 0/3: threshold `echo.latency.p99` breached at 3s: value 900ms (limit < 50ms); shard 1/3: after: step `count rows` (s.yaml:9:7): expected 30, found 10"
        );
    }
}
