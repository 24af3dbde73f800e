//! One scenario after another, or all at once: the batches a suite runs in.

/// `--fail-fast` only means something one after another: at once, every scenario has started
/// before any fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schedule {
    OneAfterAnother { fail_fast: bool },
    AllAtOnce,
}

impl Schedule {
    /// The batches, in order: the scenarios of one run at the same time.
    pub(super) fn batches<T>(self, scenarios: impl Iterator<Item = T>) -> Vec<Vec<T>> {
        match self {
            Schedule::AllAtOnce => vec![scenarios.collect()],
            Schedule::OneAfterAnother { .. } => scenarios.map(|one| vec![one]).collect(),
        }
    }

    /// Whether a batch in which a scenario `failed` ends the run.
    pub(super) fn stops_after(self, failed: bool) -> bool {
        failed && self == Schedule::OneAfterAnother { fail_fast: true }
    }
}
