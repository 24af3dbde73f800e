//! Per-second series that grow as a run goes: points in order of their second, the last one
//! being filled.

/// What a series' point knows of itself.
pub trait Second {
    /// Seconds from the scenario's start.
    fn second(&self) -> u64;
}

/// The point of `second`: the last one, or `new` pushed after it. Seconds only move forward, so
/// a series never looks further back than its last point.
pub fn point_at<P: Second>(series: &mut Vec<P>, second: u64, new: impl FnOnce() -> P) -> &mut P {
    if series.last().is_none_or(|p| p.second() != second) {
        series.push(new());
    }
    let last = series.len() - 1;
    &mut series[last]
}
