//! Step latencies per step name, in fixed-memory HDR histograms.
//!
//! Every client instance keeps its own [`LatencyRecorder`] (no locks on the hot path); the
//! executor merges them at the end. A recorder must stay small, because 10,000 clients each hold
//! one. So it creates nothing before a step name's first sample, and it keeps a step's first
//! samples as a plain list (4 bytes each, at most 1,024 of them): a client that sends a handful
//! of requests per step costs a few hundred bytes. Past that, the samples move into an HDR
//! histogram with two significant figures (1% resolution) that starts small and grows only as
//! far as the slowest sample needs, up to one hour: about 14 KB for a step whose samples stay
//! under a second, 27 KB at most — and never more, however long the run.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;

use super::result::Latency;

/// The slowest sample kept, in microseconds (one hour); slower ones count as an hour.
pub const MAX_MICROS: u64 = 3_600_000_000;

/// Significant figures kept: 2 gives 1% resolution at a fraction of the memory of 3.
const SIGFIG: u8 = 2;

/// A step keeps up to this many samples as a list before it moves them into a histogram.
const LIST_LIMIT: usize = 1024;

/// Latencies of steps by step name, at microsecond precision.
#[derive(Debug, Clone, Default)]
pub struct LatencyRecorder {
    /// Sorted by name: a client runs a handful of step names, so a sorted vector is smaller than a
    /// map and as fast to search.
    steps: Vec<(Box<str>, Samples)>,
}

/// One step's samples: few as a list of microseconds, as recorded (an hour fits in a `u32`);
/// many in a histogram, which then holds them all and the list is empty.
#[derive(Debug, Clone, Default)]
pub(super) struct Samples {
    pub(super) list: Vec<u32>,
    pub(super) histogram: Option<Box<Histogram<u64>>>,
}

impl LatencyRecorder {
    /// An empty recorder; it allocates nothing until the first sample.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one sample of `step`. Durations over an hour count as an hour.
    pub fn record(&mut self, step: &str, elapsed: Duration) {
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(MAX_MICROS).min(MAX_MICROS);
        self.samples_mut(step).record(micros);
    }

    /// Adds every sample of `other` to this recorder (per-client recorders merged at the end).
    pub fn merge(&mut self, other: &LatencyRecorder) {
        for (step, theirs) in &other.steps {
            if theirs.is_empty() {
                continue;
            }
            let ours = self.samples_mut(step);
            theirs.list.iter().for_each(|&micros| ours.record(u64::from(micros)));
            if let Some(theirs) = &theirs.histogram {
                let ours = ours.histogram_mut();
                if ours.add(&**theirs).is_err() {
                    // Not reachable with histograms made here (same precision, auto-resizing,
                    // same maximum); should it happen, keep the samples at equivalent values.
                    for value in theirs.iter_recorded() {
                        ours.saturating_record_n(value.value_iterated_to(), value.count_at_value());
                    }
                }
            }
        }
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.steps.iter().all(|(_, samples)| samples.is_empty())
    }

    /// Percentiles per step name, in milliseconds.
    pub fn summary(&self) -> BTreeMap<String, Latency> {
        self.steps
            .iter()
            .filter(|(_, samples)| !samples.is_empty())
            .map(|(step, samples)| {
                let owned;
                let h = match &samples.histogram {
                    Some(h) => &**h,
                    None => {
                        owned = list_histogram(&samples.list);
                        &owned
                    }
                };
                let latency = Latency {
                    count: h.len(),
                    min_ms: millis(h.min()),
                    p50_ms: millis(h.value_at_quantile(0.50)),
                    p90_ms: millis(h.value_at_quantile(0.90)),
                    p99_ms: millis(h.value_at_quantile(0.99)),
                    max_ms: millis(h.max()),
                };
                (step.to_string(), latency)
            })
            .collect()
    }

    /// Bytes the recorder holds on the heap (approximately: the allocator adds its own).
    #[cfg(test)]
    fn heap_bytes(&self) -> usize {
        let entries = self.steps.capacity() * std::mem::size_of::<(Box<str>, Samples)>();
        let samples: usize = self
            .steps
            .iter()
            .map(|(name, samples)| {
                let histogram = samples.histogram.as_ref().map_or(0, |h| {
                    std::mem::size_of::<Histogram<u64>>() + h.distinct_values() * std::mem::size_of::<u64>()
                });
                name.len() + samples.list.capacity() * std::mem::size_of::<u32>() + histogram
            })
            .sum();
        entries + samples
    }

    fn samples_mut(&mut self, step: &str) -> &mut Samples {
        let index = match self.steps.binary_search_by(|(name, _)| (**name).cmp(step)) {
            Ok(index) => index,
            Err(index) => {
                self.steps.insert(index, (step.into(), Samples::default()));
                index
            }
        };
        &mut self.steps[index].1
    }
}

impl Samples {
    pub(super) fn is_empty(&self) -> bool {
        self.list.is_empty() && self.histogram.as_ref().is_none_or(|h| h.is_empty())
    }

    /// Records a sample of `micros` (at most [`MAX_MICROS`]).
    pub(super) fn record(&mut self, micros: u64) {
        if self.histogram.is_none() && self.list.len() < LIST_LIMIT {
            self.list.push(u32::try_from(micros).unwrap_or(u32::MAX));
            return;
        }
        let h = self.histogram_mut();
        // Auto-resizing up to an hour cannot fail; clamp rather than lose a sample regardless.
        if h.record(micros).is_err() {
            h.saturating_record(micros);
        }
    }

    /// The samples as a histogram, moving the list into one first.
    fn histogram_mut(&mut self) -> &mut Histogram<u64> {
        let list = &mut self.list;
        self.histogram
            .get_or_insert_with(|| Box::new(list_histogram(&std::mem::take(list))))
    }
}

/// An auto-resizing histogram that starts with the smallest counters array and grows to fit.
fn new_histogram() -> Histogram<u64> {
    Histogram::new(SIGFIG).expect("2 significant figures are valid")
}

/// A histogram of listed samples.
pub(super) fn list_histogram(list: &[u32]) -> Histogram<u64> {
    let mut h = new_histogram();
    for &micros in list {
        if h.record(u64::from(micros)).is_err() {
            h.saturating_record(u64::from(micros));
        }
    }
    h
}

/// Microseconds as milliseconds.
pub(super) fn millis(micros: u64) -> f64 {
    micros as f64 / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// Within the histogram's 1% resolution.
    fn close(actual: f64, expected: f64) -> bool {
        (actual - expected).abs() <= expected * 0.01 + 0.001
    }

    #[test]
    fn percentiles_of_one_step() {
        let mut recorder = LatencyRecorder::new();
        for n in 1..=100 {
            recorder.record("call heartbeat", ms(n));
        }
        let summary = recorder.summary();
        let latency = &summary["call heartbeat"];
        assert_eq!(latency.count, 100);
        assert!(close(latency.min_ms, 1.0), "{latency:?}");
        assert!(close(latency.p50_ms, 50.0), "{latency:?}");
        assert!(close(latency.p90_ms, 90.0), "{latency:?}");
        assert!(close(latency.p99_ms, 99.0), "{latency:?}");
        assert!(close(latency.max_ms, 100.0), "{latency:?}");
    }

    #[test]
    fn microsecond_precision_for_fast_steps() {
        let mut recorder = LatencyRecorder::new();
        recorder.record("ping", Duration::from_micros(1));
        recorder.record("ping", Duration::from_micros(57));
        let latency = &recorder.summary()["ping"];
        assert_eq!(latency.min_ms, 0.001);
        assert_eq!(latency.max_ms, 0.057);
    }

    #[test]
    fn merging_per_client_recorders() {
        let mut total = LatencyRecorder::new();
        let mut a = LatencyRecorder::new();
        let mut b = LatencyRecorder::new();
        for n in 1..=50 {
            a.record("get", ms(n));
        }
        for n in 51..=100 {
            b.record("get", ms(n));
        }
        b.record("post", ms(7));
        // b grew further than a: merging must resize.
        b.record("get", Duration::from_secs(30));
        total.merge(&a);
        total.merge(&b);
        total.merge(&LatencyRecorder::new());
        let summary = total.summary();
        assert_eq!(summary.keys().collect::<Vec<_>>(), ["get", "post"]);
        let get = &summary["get"];
        assert_eq!(get.count, 101);
        assert!(close(get.min_ms, 1.0), "{get:?}");
        assert!(close(get.p50_ms, 51.0), "{get:?}");
        assert!(close(get.max_ms, 30_000.0), "{get:?}");
        assert_eq!(summary["post"].count, 1);
        assert!(close(summary["post"].p99_ms, 7.0));
    }

    #[test]
    fn samples_over_an_hour_are_clamped() {
        let mut recorder = LatencyRecorder::new();
        recorder.record("wait forever", Duration::from_secs(10 * 3600));
        recorder.record("wait forever", Duration::MAX);
        let latency = &recorder.summary()["wait forever"];
        assert_eq!(latency.count, 2);
        assert!(close(latency.max_ms, 3_600_000.0), "{latency:?}");
    }

    #[test]
    fn empty_recorder_has_no_steps_and_no_memory() {
        let recorder = LatencyRecorder::new();
        assert!(recorder.is_empty());
        assert!(recorder.summary().is_empty());
        assert_eq!(recorder.heap_bytes(), 0);
    }

    #[test]
    fn a_client_recorder_stays_in_kilobytes() {
        // A few samples per step: a list, a few hundred bytes.
        let mut recorder = LatencyRecorder::new();
        for step in ["initialize", "call echo", "call heartbeat", "close"] {
            for n in [1, 5, 20, 150, 900] {
                recorder.record(step, ms(n));
            }
        }
        let bytes = recorder.heap_bytes();
        assert!(bytes < 1024, "{bytes} bytes for 4 steps of 5 samples");

        // Many samples under a second: a histogram, bounded however many.
        let mut busy = LatencyRecorder::new();
        for n in 0..100_000u64 {
            busy.record("call echo", Duration::from_micros(100 + n * 9));
        }
        let bytes = busy.heap_bytes();
        assert!(bytes < 16 * 1024, "{bytes} bytes for one busy step under a second");
        assert_eq!(busy.summary()["call echo"].count, 100_000);

        // The worst case, samples up to an hour, is bounded too.
        let mut worst = LatencyRecorder::new();
        for _ in 0..=LIST_LIMIT {
            worst.record("slow", Duration::from_secs(3600));
        }
        let bytes = worst.heap_bytes();
        assert!(bytes < 28 * 1024, "{bytes} bytes for one step of an hour");
    }

    #[test]
    fn lists_and_histograms_give_the_same_percentiles() {
        let mut listed = LatencyRecorder::new();
        let mut many = LatencyRecorder::new();
        for n in 1..=1000 {
            listed.record("s", Duration::from_micros(n * 37));
        }
        for _ in 0..3 {
            for n in 1..=1000 {
                many.record("s", Duration::from_micros(n * 37));
            }
        }
        assert!(listed.steps[0].1.histogram.is_none());
        assert!(many.steps[0].1.histogram.is_some() && many.steps[0].1.list.is_empty());
        let (a, b) = (&listed.summary()["s"], &many.summary()["s"]);
        assert_eq!(
            (a.count * 3, a.min_ms, a.p50_ms, a.p90_ms, a.p99_ms, a.max_ms),
            (b.count, b.min_ms, b.p50_ms, b.p90_ms, b.p99_ms, b.max_ms)
        );

        // Merging lists into a histogram and the reverse.
        let mut merged = listed.clone();
        merged.merge(&many);
        merged.merge(&listed);
        assert_eq!(merged.summary()["s"].count, 5000);
        let mut reverse = many.clone();
        reverse.merge(&listed);
        assert_eq!(reverse.summary()["s"].count, 4000);
    }
}
