//! The shards' metrics as one: counts summed, latencies merged exactly by their histograms
//! (HdrHistogram's own addition, so percentiles are those of every sample, not averages of the
//! shards'), series aligned by wall clock to the second. A second's percentiles, which
//! `report.json` keeps no histogram of, merge to the worst of the shards': a bound, said so in
//! the docs.

use std::collections::BTreeMap;

use crate::exec::{
    GroupMetrics, Latency, MetricsReport, Point, SessionMetrics, SessionPoint, Spread, StepMetrics, decoded_histogram,
    latency_with,
};

/// One shard's metrics, and how long after the first shard it started.
pub struct Part<'r> {
    pub metrics: &'r MetricsReport,
    pub offset_ms: f64,
}

/// Whole seconds of an offset, to shift a per-second series by.
pub fn seconds(offset_ms: f64) -> u64 {
    (offset_ms / 1000.0).round().max(0.0) as u64
}

/// The merged metrics; an error names a figure that cannot be merged.
pub fn combine(parts: &[Part<'_>]) -> Result<MetricsReport, String> {
    let mut names: Vec<&String> = parts.iter().flat_map(|p| p.metrics.steps.keys()).collect();
    names.sort();
    names.dedup();
    let steps = (names.into_iter())
        .map(|name| {
            let of = parts
                .iter()
                .filter_map(|p| Some((p.metrics.steps.get(name)?, p.offset_ms)));
            Ok((
                name.clone(),
                step(&of.collect::<Vec<_>>()).map_err(|e| format!("step `{name}`: {e}"))?,
            ))
        })
        .collect::<Result<_, String>>()?;
    let totals: Vec<_> = parts.iter().map(|p| (&p.metrics.total, p.offset_ms)).collect();
    Ok(MetricsReport {
        total: step(&totals)?,
        steps,
        groups: groups(parts)?,
        sessions: sessions(parts)?,
    })
}

fn step(parts: &[(&StepMetrics, f64)]) -> Result<StepMetrics, String> {
    let mut merged = StepMetrics::default();
    for &(part, offset) in parts {
        merged.requests += part.requests;
        merged.passed += part.passed;
        merged.failed += part.failed;
        add_counts(&mut merged.failures, &part.failures);
        add_counts(&mut merged.statuses, &part.statuses);
        add_counts(&mut merged.verdicts, &part.verdicts);
        add_points(&mut merged.series, &part.series, seconds(offset));
        if part.latency.as_ref().is_some_and(|l| l.histogram.is_none()) {
            return Err("a shard's report.json keeps no latency histogram (it was written by an older runner): run the shards again".into());
        }
        merged.latency = merged_latency(merged.latency.take(), part.latency.clone())?;
        merged.lateness = merged_latency(merged.lateness.take(), part.lateness.clone())?;
    }
    Ok(merged)
}

fn add_counts<K: Ord + Clone>(sum: &mut BTreeMap<K, u64>, part: &BTreeMap<K, u64>) {
    for (key, n) in part {
        *sum.entry(key.clone()).or_default() += n;
    }
}

/// A shard's per-second points added at their wall-clock second: requests and errors summed, the
/// second's percentiles the worst of the shards'.
fn add_points(sum: &mut Vec<Point>, part: &[Point], shift: u64) {
    for point in part {
        let second = point.second + shift;
        match sum.binary_search_by_key(&second, |p| p.second) {
            Ok(i) => {
                let same = &mut sum[i];
                same.requests += point.requests;
                same.errors += point.errors;
                same.p50_ms = highest(same.p50_ms, point.p50_ms);
                same.p99_ms = highest(same.p99_ms, point.p99_ms);
            }
            Err(i) => sum.insert(
                i,
                Point {
                    second,
                    ..point.clone()
                },
            ),
        }
    }
}

fn highest(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// Two latencies as one: exactly when both keep their histogram (their sum, read again), else
/// bounded: every count, the lowest minimum and the highest of the rest.
fn merged_latency(a: Option<Latency>, b: Option<Latency>) -> Result<Option<Latency>, String> {
    let (a, b) = match (a, b) {
        (Some(a), Some(b)) => (a, b),
        (a, b) => return Ok(a.or(b)),
    };
    let decode = |text: &str| decoded_histogram(text).ok_or("a shard's histogram is not one HdrHistogram reads");
    if let (Some(x), Some(y)) = (a.histogram.as_deref(), b.histogram.as_deref()) {
        let mut sum = decode(x)?;
        sum.add(decode(y)?)
            .map_err(|e| format!("the histograms do not add up: {e}"))?;
        return Ok(latency_with(&sum, true));
    }
    Ok(Some(Latency {
        count: a.count + b.count,
        min_ms: a.min_ms.min(b.min_ms),
        p50_ms: a.p50_ms.max(b.p50_ms),
        p90_ms: a.p90_ms.max(b.p90_ms),
        p99_ms: a.p99_ms.max(b.p99_ms),
        max_ms: a.max_ms.max(b.max_ms),
        histogram: None,
    }))
}

/// An arrival group's spread of instance times, which is kept as three percentiles only: the
/// highest of each.
pub fn worst_spread(a: Option<Spread>, b: Option<Spread>) -> Option<Spread> {
    match (a, b) {
        (Some(a), Some(b)) => Some(Spread {
            p50: a.p50.max(b.p50),
            p99: a.p99.max(b.p99),
            max: a.max.max(b.max),
        }),
        (a, b) => a.or(b),
    }
}

fn groups(parts: &[Part<'_>]) -> Result<BTreeMap<String, GroupMetrics>, String> {
    let mut merged: BTreeMap<String, GroupMetrics> = BTreeMap::new();
    for (name, group) in parts.iter().flat_map(|p| &p.metrics.groups) {
        let Some(sum) = merged.get_mut(name) else {
            merged.insert(name.clone(), group.clone());
            continue;
        };
        sum.passed += group.passed;
        sum.failed += group.failed;
        if let (Some(sum), Some(part)) = (&mut sum.arrivals, &group.arrivals) {
            sum.scheduled += part.scheduled;
            sum.started += part.started;
            sum.dropped += part.dropped;
            sum.lateness = merged_latency(sum.lateness.take(), part.lateness.clone())?;
        }
    }
    Ok(merged)
}

/// Session counts summed; the series aligned, with each second's active sessions the sum of
/// every shard's at that second, and the peak the most of those (or of a shard's own peak,
/// which a second's end may not show).
fn sessions(parts: &[Part<'_>]) -> Result<SessionMetrics, String> {
    let mut merged = SessionMetrics::default();
    for part in parts {
        let s = &part.metrics.sessions;
        for (sum, add) in [
            (&mut merged.opened, s.opened),
            (&mut merged.expired, s.expired),
            (&mut merged.rejected, s.rejected),
            (&mut merged.reinitialized, s.reinitialized),
            (&mut merged.closed, s.closed),
            (&mut merged.termination_refused, s.termination_refused),
            (&mut merged.left_open, s.left_open),
            (&mut merged.active, s.active),
        ] {
            *sum += add;
        }
        merged.peak_active = merged.peak_active.max(s.peak_active);
        merged.idle_to_expiry = merged_latency(merged.idle_to_expiry.take(), s.idle_to_expiry.clone())?;
    }
    let shifted: Vec<Vec<SessionPoint>> = (parts.iter())
        .map(|p| {
            let shift = seconds(p.offset_ms);
            let points = p.metrics.sessions.series.iter();
            points
                .map(|s| SessionPoint {
                    second: s.second + shift,
                    ..s.clone()
                })
                .collect()
        })
        .collect();
    let mut seconds: Vec<u64> = shifted.iter().flatten().map(|p| p.second).collect();
    seconds.sort_unstable();
    seconds.dedup();
    for second in seconds {
        let mut point = SessionPoint {
            second,
            opened: 0,
            ended: 0,
            active: 0,
        };
        for series in &shifted {
            let last = series.iter().take_while(|p| p.second <= second).last();
            if let Some(last) = last {
                point.active += last.active;
                if last.second == second {
                    point.opened += last.opened;
                    point.ended += last.ended;
                }
            }
        }
        merged.peak_active = merged.peak_active.max(point.active);
        merged.series.push(point);
    }
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use hdrhistogram::Histogram;

    use super::*;

    fn step_of(micros: &[u64], series: Vec<Point>) -> StepMetrics {
        let mut histogram = Histogram::<u64>::new(2).unwrap();
        for &m in micros {
            histogram.record(m).unwrap();
        }
        StepMetrics {
            requests: micros.len() as u64,
            passed: micros.len() as u64,
            failures: BTreeMap::from([(Cow::Borrowed("timeout"), 1)]),
            latency: latency_with(&histogram, true),
            series,
            ..StepMetrics::default()
        }
    }

    fn point(second: u64, requests: u64, p99: f64) -> Point {
        Point {
            second,
            requests,
            errors: 0,
            p50_ms: Some(p99 / 2.0),
            p99_ms: Some(p99),
        }
    }

    #[test]
    fn histograms_add_exactly_and_series_align_by_wall_clock() {
        let fast = step_of(&[1_000; 99], vec![point(0, 99, 1.0)]);
        let slow = step_of(&[100_000], vec![point(0, 1, 100.0)]);
        let merged = step(&[(&fast, 0.0), (&slow, 1_400.0)]).unwrap();
        assert_eq!((merged.requests, merged.failures["timeout"]), (100, 2));
        let latency = merged.latency.unwrap();
        // 99 of 100 took 1 ms: the merged p99 is 1 ms, not an average of 1 and 100.
        assert!((latency.p99_ms - 1.0).abs() < 0.01, "{latency:?}");
        assert!((latency.max_ms - 100.0).abs() < 1.0, "{latency:?}");
        let seconds: Vec<_> = merged.series.iter().map(|p| (p.second, p.requests)).collect();
        assert_eq!(seconds, [(0, 99), (1, 1)], "the second shard started 1.4 s later");
    }

    #[test]
    fn a_part_without_a_histogram_cannot_merge() {
        let mut old = step_of(&[1_000], Vec::new());
        old.latency.as_mut().unwrap().histogram = None;
        let error = step(&[(&old, 0.0)]).unwrap_err();
        assert!(error.contains("older runner"), "{error}");
    }

    #[test]
    fn active_sessions_add_up_second_by_second() {
        let report = |series: Vec<SessionPoint>, peak| MetricsReport {
            sessions: SessionMetrics {
                opened: 2,
                peak_active: peak,
                series,
                ..SessionMetrics::default()
            },
            ..MetricsReport::default()
        };
        let at = |second, opened, ended, active| SessionPoint {
            second,
            opened,
            ended,
            active,
        };
        let a = report(vec![at(0, 2, 0, 2), at(3, 0, 2, 0)], 2);
        let b = report(vec![at(0, 2, 0, 2), at(2, 0, 2, 0)], 2);
        let parts = [
            Part {
                metrics: &a,
                offset_ms: 0.0,
            },
            Part {
                metrics: &b,
                offset_ms: 1_000.0,
            },
        ];
        let merged = sessions(&parts).unwrap();
        let points: Vec<_> = (merged.series.iter())
            .map(|p| (p.second, p.opened, p.ended, p.active))
            .collect();
        assert_eq!(points, [(0, 2, 0, 2), (1, 2, 0, 4), (3, 0, 4, 0)]);
        assert_eq!((merged.opened, merged.peak_active), (4, 4));
    }
}
