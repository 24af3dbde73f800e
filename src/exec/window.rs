//! The live part of a scenario's metrics: the last seconds of its requests, failed steps and
//! instance starts, in a ring of one-second slots, and its running instances. Memory is fixed:
//! one latency histogram per slot for the whole scenario (none per step), and a ring of counts
//! per client group.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;

use super::event::WINDOW;
use super::latency::{millis, new_histogram, record};

/// The complete seconds the figures span.
const SECONDS: u64 = WINDOW.as_secs();

/// Those seconds and the one being filled.
const SLOTS: usize = SECONDS as usize + 1;

/// The live figures as the metrics know them, `starts` per group by name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Recent {
    pub rate: f64,
    pub errors: u64,
    pub p99_ms: Option<f64>,
    pub active: u64,
    /// Instances started per second.
    pub starts: BTreeMap<String, f64>,
    /// Counted elsewhere in the metrics: the sessions held (when any was opened), and each
    /// arrival group's drops.
    pub sessions: Option<u64>,
    pub dropped: BTreeMap<String, u64>,
}

#[derive(Default)]
pub struct Window {
    requests: Ring<Second>,
    groups: BTreeMap<Box<str>, GroupWindow>,
}

/// One second of the scenario's requests and failed steps.
struct Second {
    latency: Histogram<u64>,
    errors: u64,
}

#[derive(Default)]
struct GroupWindow {
    active: u64,
    starts: Ring<u64>,
}

/// A value per second for the last [`SLOTS`] seconds, each slot reused when its second comes
/// round again.
struct Ring<T> {
    slots: [(u64, T); SLOTS],
}

impl Window {
    /// A request answered in `second` after `micros`.
    pub fn answered(&mut self, second: u64, micros: u64) {
        record(&mut self.requests.at(second).latency, micros);
    }

    /// A step failed in `second`.
    pub fn failed(&mut self, second: u64) {
        self.requests.at(second).errors += 1;
    }

    /// An instance of `group` started in `second`.
    pub fn started(&mut self, group: &str, second: u64) {
        let window = match self.groups.get_mut(group) {
            Some(window) => window,
            None => self.groups.entry(group.into()).or_default(),
        };
        window.active += 1;
        *window.starts.at(second) += 1;
    }

    /// An instance of `group` ended.
    pub fn ended(&mut self, group: &str) {
        if let Some(window) = self.groups.get_mut(group) {
            window.active = window.active.saturating_sub(1);
        }
    }

    /// The figures over the complete seconds before `second`: the last [`SECONDS`] of them, or
    /// the ones there are.
    pub fn recent(&self, second: u64) -> Recent {
        let span = second.clamp(1, SECONDS) as f64;
        let mut latency = new_histogram();
        let mut errors = 0;
        for slot in self.requests.complete(second) {
            // Auto-resizing histograms take any other's samples.
            let _ = latency.add(&slot.latency);
            errors += slot.errors;
        }
        let starts = (self.groups.iter())
            .map(|(group, w)| (group.to_string(), w.starts.complete(second).sum::<u64>() as f64 / span))
            .collect();
        Recent {
            rate: latency.len() as f64 / span,
            errors,
            p99_ms: (!latency.is_empty()).then(|| millis(latency.value_at_quantile(0.99))),
            active: self.groups.values().map(|w| w.active).sum(),
            starts,
            sessions: None,
            dropped: BTreeMap::new(),
        }
    }
}

impl Default for Second {
    fn default() -> Self {
        Self {
            latency: new_histogram(),
            errors: 0,
        }
    }
}

impl<T: Default> Default for Ring<T> {
    fn default() -> Self {
        Self {
            slots: std::array::from_fn(|_| (0, T::default())),
        }
    }
}

impl<T: Default> Ring<T> {
    /// The slot of `second`, emptied first if it held an older second.
    fn at(&mut self, second: u64) -> &mut T {
        let slot = &mut self.slots[(second % SLOTS as u64) as usize];
        if slot.0 != second {
            *slot = (second, T::default());
        }
        &mut slot.1
    }

    /// The slots of the complete seconds before `second` that the ring still holds.
    fn complete(&self, second: u64) -> impl Iterator<Item = &T> {
        (second.saturating_sub(SECONDS)..second).filter_map(|s| {
            let (held, value) = &self.slots[(s % SLOTS as u64) as usize];
            (*held == s).then_some(value)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_older_than_the_window_drop_out() {
        let mut window = Window::default();
        for _ in 0..10 {
            window.answered(0, 100_000);
        }
        window.failed(0);
        for second in 1..=5 {
            window.answered(second, 2_000);
        }
        // At 5s: seconds 0 to 4, the 10 slow requests and the failure among them.
        let at_5 = window.recent(5);
        assert_eq!((at_5.rate, at_5.errors), (14.0 / 5.0, 1));
        assert!((at_5.p99_ms.unwrap() - 100.0).abs() < 1.0, "{at_5:?}");
        // At 6s second 0 has left the window; second 5 counts now.
        let at_6 = window.recent(6);
        assert_eq!((at_6.rate, at_6.errors), (1.0, 0));
        assert!((at_6.p99_ms.unwrap() - 2.0).abs() < 0.05, "{at_6:?}");
        // Long quiet: nothing left, even in slots not yet reused.
        assert_eq!(window.recent(60), Recent::default());
    }

    #[test]
    fn the_second_being_filled_waits_and_the_start_counts_what_there_is() {
        let mut window = Window::default();
        window.answered(0, 1_000);
        window.answered(0, 1_000);
        assert_eq!(window.recent(0).rate, 0.0);
        assert_eq!(window.recent(1).rate, 2.0);
        window.answered(1, 1_000);
        assert_eq!(window.recent(2).rate, 1.5);
    }

    #[test]
    fn instances_count_while_they_run_and_starts_per_group() {
        let mut window = Window::default();
        for second in 0..3 {
            window.started("visitors", second);
            window.started("visitors", second);
        }
        window.started("keeper", 0);
        window.ended("visitors");
        window.ended("unknown");
        let recent = window.recent(3);
        assert_eq!(recent.active, 6);
        assert_eq!(recent.starts["visitors"], 2.0);
        assert_eq!(recent.starts["keeper"], 1.0 / 3.0);
        assert_eq!(window.recent(10).starts["visitors"], 0.0);
    }
}
