//! A loop's passes as its result keeps them. Every pass is counted and its duration and
//! lateness go into fixed-size samples; under `--record bounded` only the passes a reader needs
//! stay in full: the failed or interrupted ones, up to a hundred (a failure is always readable),
//! the first few (how the loop started) and the last (how it ended). The last is not known until
//! the loop ends, so the newest pass not otherwise kept is held until a newer one replaces it:
//! one extra at most.

use std::time::Duration;

use crate::exec::latency::{Samples, micros, millis};
use crate::exec::record::Record;
use crate::exec::result::{Iteration, Passes, Spread, Status};

/// Under `--record bounded`, the passes kept in full from the start, whatever their outcome.
pub(super) const FIRST_KEPT: u64 = 10;

/// Under `--record bounded`, the failed (or interrupted) passes kept in full after the first
/// ones. A soak whose server went away fails every pass from then on; a hundred of them say what
/// happened, and a million would not fit in memory.
pub(super) const FAILED_KEPT: u64 = 100;

/// One loop's passes so far.
pub(super) struct Tally {
    record: Record,
    kept: Vec<Iteration>,
    /// The newest passed pass past the first ones, while no newer pass came.
    latest: Option<Iteration>,
    /// Failed passes kept after the first ones.
    failures_kept: u64,
    passed: u64,
    failed: u64,
    interrupted: u64,
    /// Empty for a closed loop.
    lateness: Samples,
    elapsed: Samples,
}

impl Tally {
    pub(super) fn new(record: Record) -> Self {
        Self {
            record,
            kept: Vec::new(),
            latest: None,
            failures_kept: 0,
            passed: 0,
            failed: 0,
            interrupted: 0,
            lateness: Samples::default(),
            elapsed: Samples::default(),
        }
    }

    /// Counts a pass that started `lateness` after its slot (a fixed-rate loop) and took
    /// `elapsed`, and keeps it or lets it go.
    pub(super) fn add(&mut self, pass: Iteration, lateness: Option<Duration>, elapsed: Duration) {
        match pass.status {
            Status::Passed => self.passed += 1,
            Status::Failed => self.failed += 1,
            Status::Interrupted => self.interrupted += 1,
        }
        if let Some(lateness) = lateness {
            self.lateness.record(micros(lateness));
        }
        self.elapsed.record(micros(elapsed));
        let failure = !pass.status.passed() && pass.iteration > FIRST_KEPT;
        let keep =
            self.record == Record::All || pass.iteration <= FIRST_KEPT || (failure && self.failures_kept < FAILED_KEPT);
        if keep {
            self.failures_kept += u64::from(failure);
            // The held pass is no longer the newest, so it cannot be the last.
            self.latest = None;
            self.kept.push(pass);
        } else {
            self.latest = Some(pass);
        }
    }

    /// The passes kept in full, in order, and the aggregate of all of them.
    pub(super) fn finish(mut self) -> (Vec<Iteration>, Passes) {
        self.kept.extend(self.latest.take());
        let total = self.passed + self.failed + self.interrupted;
        let kept = self.kept.len() as u64;
        let passes = Passes {
            total,
            passed: self.passed,
            failed: self.failed,
            interrupted: self.interrupted,
            kept,
            omitted: total - kept,
            lateness_ms: spread(&self.lateness),
            elapsed_ms: spread(&self.elapsed),
        };
        (self.kept, passes)
    }
}

fn spread(samples: &Samples) -> Option<Spread> {
    if samples.is_empty() {
        return None;
    }
    let h = samples.histogram();
    Some(Spread {
        p50: millis(h.value_at_quantile(0.50)),
        p99: millis(h.value_at_quantile(0.99)),
        max: millis(h.max()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pass(iteration: u64, status: Status) -> Iteration {
        Iteration {
            iteration,
            lateness_ms: None,
            elapsed_ms: 0.0,
            status,
            steps: Vec::new(),
        }
    }

    fn numbers(kept: &[Iteration]) -> Vec<u64> {
        kept.iter().map(|i| i.iteration).collect()
    }

    #[test]
    fn a_long_loop_holds_a_fixed_number_of_passes() {
        let mut tally = Tally::new(Record::Bounded);
        for n in 1..=100_000 {
            tally.add(pass(n, Status::Passed), None, Duration::from_micros(n));
            assert!(tally.kept.len() as u64 <= FIRST_KEPT && tally.latest.is_some() == (n > FIRST_KEPT));
        }
        let (kept, passes) = tally.finish();
        assert_eq!(numbers(&kept), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 100_000]);
        assert_eq!(
            (passes.total, passes.passed, passes.kept, passes.omitted),
            (100_000, 100_000, 11, 99_989)
        );
        assert_eq!(passes.lateness_ms, None, "a closed loop has no schedule");
        let elapsed = passes.elapsed_ms.unwrap();
        assert!(
            (elapsed.p50 - 50.0).abs() <= 0.5 && (elapsed.max - 100.0).abs() <= 1.0,
            "{elapsed:?}"
        );
    }

    #[test]
    fn a_failed_last_pass_replaces_the_held_one() {
        let mut tally = Tally::new(Record::Bounded);
        for n in 1..=20 {
            let status = if n == 20 { Status::Interrupted } else { Status::Passed };
            tally.add(pass(n, status), Some(Duration::ZERO), Duration::ZERO);
        }
        let (kept, passes) = tally.finish();
        assert_eq!(numbers(&kept), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 20]);
        assert_eq!((passes.passed, passes.interrupted, passes.omitted), (19, 1, 9));
        assert!(passes.lateness_ms.is_some());
    }

    #[test]
    fn a_loop_that_keeps_failing_keeps_its_first_failures_and_the_last() {
        let mut tally = Tally::new(Record::Bounded);
        for n in 1..=10_000 {
            tally.add(pass(n, Status::Failed), None, Duration::ZERO);
        }
        let (kept, passes) = tally.finish();
        let expected: Vec<u64> = (1..=FIRST_KEPT + FAILED_KEPT).chain([10_000]).collect();
        assert_eq!(numbers(&kept), expected);
        assert_eq!((passes.failed, passes.kept, passes.omitted), (10_000, 111, 9_889));
    }

    #[test]
    fn a_loop_stopped_before_its_first_pass_has_no_percentiles() {
        let (kept, passes) = Tally::new(Record::Bounded).finish();
        assert!(kept.is_empty());
        assert_eq!((passes.total, passes.kept, passes.elapsed_ms), (0, 0, None));
    }
}
