//! `--record`: how much of many alike (a loop's passes, an arrival group's instances) the
//! results keep in full, and the rule that keeps them.

/// How much of a loop's passes, or of an arrival group's instances, the results keep in full.
/// Either way their aggregate counts every one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Record {
    /// The first 10, the first 100 failed or interrupted ones after those, and the last; the
    /// rest only in the aggregate, so a result file does not grow with the length of a run.
    #[default]
    Bounded,
    /// Every one (for short functional runs).
    All,
}

/// Under `--record bounded`, the ones kept in full from the start, whatever their outcome.
pub const FIRST_KEPT: u64 = 10;

/// Under `--record bounded`, the failed (or interrupted) ones kept in full after the first. A
/// soak whose server went away fails every pass from then on; a hundred of them say what
/// happened, and a million would not fit in memory.
pub const FAILED_KEPT: u64 = 100;

/// The items kept so far. The last is not known until the end, so the newest item not
/// otherwise kept is held until a newer one replaces it: one extra at most.
#[derive(Debug)]
pub struct Kept<T> {
    record: Record,
    kept: Vec<T>,
    /// The newest item past the first ones that passed, while no newer one came.
    latest: Option<T>,
    /// Failed items kept after the first ones.
    failures_kept: u64,
}

impl<T> Kept<T> {
    pub fn new(record: Record) -> Self {
        Self {
            record,
            kept: Vec::new(),
            latest: None,
            failures_kept: 0,
        }
    }

    /// Keeps the `ordinal`-th item (from 1), or holds it as the newest, or lets it go.
    pub fn add(&mut self, item: T, ordinal: u64, passed: bool) {
        let failure = !passed && ordinal > FIRST_KEPT;
        let keep = self.record == Record::All || ordinal <= FIRST_KEPT || (failure && self.failures_kept < FAILED_KEPT);
        if keep {
            self.failures_kept += u64::from(failure);
            // The held item is no longer the newest, so it cannot be the last.
            self.latest = None;
            self.kept.push(item);
        } else {
            self.latest = Some(item);
        }
    }

    /// How many are kept or held.
    #[cfg(test)]
    pub fn held(&self) -> usize {
        self.kept.len() + usize::from(self.latest.is_some())
    }

    /// The items kept, in the order they came, the last one included.
    pub fn finish(mut self) -> Vec<T> {
        self.kept.extend(self.latest.take());
        self.kept
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_passed_keep_the_first_and_the_last() {
        let mut kept = Kept::new(Record::Bounded);
        for n in 1..=100_000u64 {
            kept.add(n, n, true);
            assert!(kept.held() as u64 <= FIRST_KEPT + 1);
        }
        assert_eq!(kept.finish(), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 100_000]);
    }

    #[test]
    fn a_failure_last_replaces_the_held_one() {
        let mut kept = Kept::new(Record::Bounded);
        for n in 1..=20u64 {
            kept.add(n, n, n != 20);
        }
        assert_eq!(kept.finish(), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 20]);
    }

    #[test]
    fn failures_are_kept_up_to_their_limit_then_only_the_last() {
        let mut kept = Kept::new(Record::Bounded);
        for n in 1..=10_000u64 {
            kept.add(n, n, false);
        }
        let expected: Vec<u64> = (1..=FIRST_KEPT + FAILED_KEPT).chain([10_000]).collect();
        assert_eq!(kept.finish(), expected);
    }

    #[test]
    fn record_all_keeps_everything() {
        let mut kept = Kept::new(Record::All);
        for n in 1..=500u64 {
            kept.add(n, n, n % 2 == 0);
        }
        assert_eq!(kept.finish().len(), 500);
    }
}
