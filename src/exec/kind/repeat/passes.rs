//! A loop's passes as its result keeps them. Every pass is counted and its duration and
//! lateness go into fixed-size samples; under `--record bounded` only the passes a reader needs
//! stay in full ([`Kept`]): the failed or interrupted ones, up to a hundred (a failure is always
//! readable), the first few (how the loop started) and the last (how it ended).

use std::time::Duration;

use crate::exec::latency::{Samples, micros};
use crate::exec::record::{Kept, Record};
use crate::exec::result::{Iteration, Passes, Status};

/// One loop's passes so far.
pub(super) struct Tally {
    kept: Kept<Iteration>,
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
            kept: Kept::new(record),
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
        let (ordinal, passed) = (pass.iteration, pass.status.passed());
        self.kept.add(pass, ordinal, passed);
    }

    /// The passes kept in full, in order, and the aggregate of all of them.
    pub(super) fn finish(self) -> (Vec<Iteration>, Passes) {
        let kept = self.kept.finish();
        let total = self.passed + self.failed + self.interrupted;
        let passes = Passes {
            total,
            passed: self.passed,
            failed: self.failed,
            interrupted: self.interrupted,
            kept: kept.len() as u64,
            omitted: total - kept.len() as u64,
            lateness_ms: self.lateness.spread(),
            elapsed_ms: self.elapsed.spread(),
        };
        (kept, passes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::record::{FAILED_KEPT, FIRST_KEPT};

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
            assert!(tally.kept.held() as u64 <= FIRST_KEPT + 1);
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
