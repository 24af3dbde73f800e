//! `--record`: how much of a loop's passes the results keep in full.

/// How much of a loop's passes the results keep in full. Either way the loop's `passes`
/// aggregate counts every pass.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Record {
    /// The first 10 passes, the first 100 failed or interrupted ones after those, and the last;
    /// the rest only in the aggregate, so a result file does not grow with the length of a run.
    #[default]
    Bounded,
    /// Every pass (for short functional runs).
    All,
}
