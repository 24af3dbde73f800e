//! An arrival group's schedule: stages of rates, each constant or changing linearly, and the
//! start time of every arrival on them, computed from the scenario's start (open model).

use std::time::Duration;

use serde::Serialize;

use super::humantime_serde_compat;
use crate::duration_text::format_duration;

/// How an arrival group starts its instances.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArrivalsPlan {
    /// The stages, in order.
    pub stages: Vec<Stage>,
    /// Instances running at once beyond which an arrival is dropped.
    pub max_active: u64,
}

/// A stretch of the schedule whose rate goes from `from` to `to` (arrivals per second)
/// linearly over `over`; constant when the two are equal.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stage {
    pub from: f64,
    pub to: f64,
    #[serde(with = "humantime_serde_compat")]
    pub over: Duration,
}

impl Stage {
    /// Arrivals due from the stage's start to `t` seconds into it: the integral of its rate.
    fn due_by(&self, t: f64) -> f64 {
        let span = self.over.as_secs_f64();
        self.from * t + (self.to - self.from) * t * t / (2.0 * span)
    }

    /// The rate `t` seconds into the stage.
    fn rate_at(&self, t: f64) -> f64 {
        self.from + (self.to - self.from) * t / self.over.as_secs_f64()
    }

    /// Arrivals due over the whole stage.
    fn total(&self) -> f64 {
        self.due_by(self.over.as_secs_f64())
    }

    /// The time into the stage at which `m` arrivals are due (`due_by(t) == m`), for `m` within
    /// the stage. The root of the quadratic, written so that it neither cancels nor divides by
    /// zero when the rate is constant or starts at zero.
    fn time_of(&self, m: f64) -> f64 {
        if m <= 0.0 {
            return 0.0;
        }
        let slope = (self.to - self.from) / self.over.as_secs_f64();
        let root = (self.from * self.from + 2.0 * slope * m).max(0.0).sqrt();
        2.0 * m / (self.from + root)
    }
}

/// The cumulative count within which float error is taken for an exact whole number: without
/// it, 200/s for 10s could schedule a 2,001st arrival at 9.999999 s.
const EPSILON: f64 = 1e-9;

impl ArrivalsPlan {
    /// How long the schedule lasts.
    pub fn span(&self) -> Duration {
        self.stages.iter().map(|s| s.over).sum()
    }

    /// How many arrivals the schedule holds: arrival `k` (from 0) is due when `k` arrivals are
    /// due, so a whole number `n` of them due over the span starts `n`, and `n + 0.5` starts
    /// `n + 1`.
    pub fn scheduled(&self) -> u64 {
        let total: f64 = self.stages.iter().map(Stage::total).sum();
        (total - EPSILON).ceil().max(0.0) as u64
    }

    /// The rate the schedule asks for at `t` from its start; 0 once it has ended.
    pub fn rate_at(&self, t: Duration) -> f64 {
        let mut start = Duration::ZERO;
        for stage in &self.stages {
            if t < start + stage.over {
                return stage.rate_at((t - start).as_secs_f64());
            }
            start += stage.over;
        }
        0.0
    }

    /// The schedule in a line: `50/s for 2m`, `0/s → 50/s over 30s, 50/s for 2m`.
    pub fn describe(&self) -> String {
        let stages = self.stages.iter().map(|s| match s.from == s.to {
            true => format!("{} for {}", rate_text(s.to), format_duration(s.over)),
            false => format!(
                "{} → {} over {}",
                rate_text(s.from),
                rate_text(s.to),
                format_duration(s.over)
            ),
        });
        stages.collect::<Vec<_>>().join(", ")
    }

    /// Every arrival's start, as time from the schedule's start, in order.
    pub fn schedule(&self) -> impl Iterator<Item = Duration> + '_ {
        let mut stages = self.stages.iter();
        let mut stage = stages.next();
        // Arrivals due before the current stage, and when it starts.
        let (mut before, mut start) = (0.0, 0.0);
        let mut next = 0u64;
        let scheduled = self.scheduled();
        std::iter::from_fn(move || {
            // The count is the one `scheduled` gives, whatever float error the stages sum.
            if next >= scheduled {
                return None;
            }
            loop {
                let current = stage?;
                let m = next as f64 - before;
                if m < current.total() - EPSILON {
                    next += 1;
                    return Some(Duration::from_secs_f64(start + current.time_of(m)));
                }
                before += current.total();
                start += current.over.as_secs_f64();
                stage = stages.next();
            }
        })
    }
}

/// A rate per second as scenarios write it: `50/s`, `0.5/s`.
pub fn rate_text(per_second: f64) -> String {
    format!("{}/s", (per_second * 1000.0).round() / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(from: f64, to: f64, over: u64) -> Stage {
        Stage {
            from,
            to,
            over: Duration::from_secs(over),
        }
    }

    fn plan(stages: Vec<Stage>) -> ArrivalsPlan {
        ArrivalsPlan { stages, max_active: 10 }
    }

    fn millis(plan: &ArrivalsPlan) -> Vec<u128> {
        plan.schedule().map(|d| d.as_millis()).collect()
    }

    #[test]
    fn a_constant_rate_starts_arrivals_evenly_from_zero() {
        let plan = plan(vec![stage(4.0, 4.0, 2)]);
        assert_eq!(millis(&plan), [0, 250, 500, 750, 1000, 1250, 1500, 1750]);
        assert_eq!(plan.scheduled(), 8);
        let plan = plan_of(200.0, 10);
        assert_eq!(plan.schedule().count(), 2000);
        assert_eq!(plan.scheduled(), 2000);
        assert!(plan.schedule().last().unwrap() < Duration::from_secs(10));
    }

    fn plan_of(rate: f64, secs: u64) -> ArrivalsPlan {
        plan(vec![stage(rate, rate, secs)])
    }

    #[test]
    fn a_fraction_of_an_arrival_due_starts_one_more() {
        let plan = plan_of(2.5, 1);
        assert_eq!(millis(&plan), [0, 400, 800]);
        assert_eq!(plan.scheduled(), 3);
    }

    #[test]
    fn a_ramp_from_zero_starts_arrivals_ever_closer() {
        // 0 to 10/s over 2 s: 10 arrivals, the k-th at sqrt(2k * 2 / 10) s.
        let plan = plan(vec![stage(0.0, 10.0, 2)]);
        let times = millis(&plan);
        assert_eq!(times.len(), 10);
        assert_eq!(plan.scheduled(), 10);
        for (k, t) in times.iter().enumerate() {
            let expected = (0.4 * k as f64).sqrt() * 1000.0;
            assert!((*t as f64 - expected).abs() < 1.0, "{k}: {t} vs {expected}");
        }
        assert!(times.windows(3).all(|w| w[2] - w[1] <= w[1] - w[0]));
    }

    #[test]
    fn a_ramp_down_spreads_arrivals_out_and_stages_follow_each_other() {
        // 10/s held 1 s, then down to 0 over 2 s: 10 + 10 arrivals.
        let plan = plan(vec![stage(10.0, 10.0, 1), stage(10.0, 0.0, 2)]);
        let times = millis(&plan);
        assert_eq!((times.len(), plan.scheduled()), (20, 20));
        assert_eq!(&times[..10], [0, 100, 200, 300, 400, 500, 600, 700, 800, 900]);
        assert_eq!(times[10], 1000);
        assert!(times.windows(2).all(|w| w[0] < w[1]));
        assert!(times[11..].windows(3).all(|w| w[2] - w[1] >= w[1] - w[0]));
        assert!(*times.last().unwrap() < 3000);
        assert_eq!(plan.span(), Duration::from_secs(3));
    }

    #[test]
    fn a_stage_at_zero_starts_nothing_and_takes_its_time() {
        let plan = plan(vec![stage(0.0, 0.0, 5), stage(1.0, 1.0, 2)]);
        assert_eq!(millis(&plan), [5000, 6000]);
        assert_eq!(plan_of(0.0, 5).scheduled(), 0);
    }

    #[test]
    fn the_rate_now_follows_the_stages_and_ends_at_zero() {
        let plan = plan(vec![stage(0.0, 10.0, 2), stage(10.0, 10.0, 1)]);
        let at = |ms| plan.rate_at(Duration::from_millis(ms));
        assert_eq!(
            (at(0), at(500), at(2000), at(2999), at(3000)),
            (0.0, 2.5, 10.0, 10.0, 0.0)
        );
    }

    #[test]
    fn an_hour_at_a_thousand_a_second_is_exact() {
        let plan = plan_of(1000.0, 3600);
        assert_eq!(plan.scheduled(), 3_600_000);
        let last = plan.schedule().last().unwrap();
        assert_eq!(last.as_micros(), 3_599_999_000);
    }
}
