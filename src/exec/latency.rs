//! Durations in fixed memory: HDR histograms with two significant figures (1% resolution), and
//! `Samples`, which starts as a plain list for the many holders that see only a few samples.
//!
//! A histogram starts small and grows only as far as its slowest sample needs, up to one hour:
//! about 14 KB for samples under a second, 27 KB at most, however many samples. `Samples` keeps
//! its first 1,024 samples as a list (4 bytes each), so a loop of a few passes costs a few
//! hundred bytes, and moves them into a histogram past that.

use std::borrow::Cow;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};

use super::result::{Latency, Spread};

/// The slowest sample kept, in microseconds (one hour); slower ones count as an hour.
pub const MAX_MICROS: u64 = 3_600_000_000;

/// Significant figures kept: 2 gives 1% resolution at a fraction of the memory of 3.
const SIGFIG: u8 = 2;

/// `Samples` keeps up to this many samples as a list before it moves them into a histogram.
const LIST_LIMIT: usize = 1024;

/// Whole microseconds, at most [`MAX_MICROS`].
pub fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(MAX_MICROS).min(MAX_MICROS)
}

/// Microseconds as milliseconds.
pub fn millis(micros: u64) -> f64 {
    micros as f64 / 1000.0
}

/// An auto-resizing histogram that starts with the smallest counters array and grows to fit.
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new(SIGFIG).expect("2 significant figures are valid")
}

/// Records `micros` (at most [`MAX_MICROS`]).
pub fn record(h: &mut Histogram<u64>, micros: u64) {
    // Auto-resizing up to an hour cannot fail; clamp rather than lose a sample regardless.
    if h.record(micros).is_err() {
        h.saturating_record(micros);
    }
}

/// A histogram in HdrHistogram's compressed V2 format, as base64: what `report.json` keeps, which
/// HdrHistogram's own tools read too.
pub fn encoded(h: &Histogram<u64>) -> String {
    let mut bytes = Vec::new();
    // Into memory, from a histogram this module made: neither can fail.
    let _ = V2DeflateSerializer::new().serialize(h, &mut bytes);
    BASE64.encode(bytes)
}

/// A histogram [`encoded`] (or written by any HdrHistogram), resizing as [`new_histogram`]'s do so
/// that others add to it; none when `text` is not one.
pub fn decoded(text: &str) -> Option<Histogram<u64>> {
    let bytes = BASE64.decode(text).ok()?;
    let mut histogram: Histogram<u64> = Deserializer::new().deserialize(&mut bytes.as_slice()).ok()?;
    histogram.auto(true);
    Some(histogram)
}

/// The percentiles of a histogram, in milliseconds; none for an empty one.
pub fn latency(h: &Histogram<u64>) -> Option<Latency> {
    latency_with(h, false)
}

/// The percentiles of a histogram, and with `whole` the histogram itself ([`encoded`]).
pub fn latency_with(h: &Histogram<u64>, whole: bool) -> Option<Latency> {
    (!h.is_empty()).then(|| Latency {
        count: h.len(),
        min_ms: millis(h.min()),
        p50_ms: millis(h.value_at_quantile(0.50)),
        p90_ms: millis(h.value_at_quantile(0.90)),
        p99_ms: millis(h.value_at_quantile(0.99)),
        max_ms: millis(h.max()),
        histogram: whole.then(|| encoded(h)),
    })
}

/// Samples in microseconds: few as a list, as recorded (an hour fits in a `u32`); many in a
/// histogram, which then holds them all and the list is empty.
#[derive(Debug, Clone, Default)]
pub struct Samples {
    list: Vec<u32>,
    histogram: Option<Box<Histogram<u64>>>,
}

impl Samples {
    pub fn is_empty(&self) -> bool {
        self.list.is_empty() && self.histogram.as_ref().is_none_or(|h| h.is_empty())
    }

    /// Records a sample of `micros` (at most [`MAX_MICROS`]).
    pub fn record(&mut self, micros: u64) {
        if self.histogram.is_none() && self.list.len() < LIST_LIMIT {
            self.list.push(u32::try_from(micros).unwrap_or(u32::MAX));
            return;
        }
        let list = &mut self.list;
        let h = (self.histogram).get_or_insert_with(|| Box::new(list_histogram(&std::mem::take(list))));
        record(h, micros);
    }

    /// Every sample in a histogram: the one held, or one made of the list.
    pub fn histogram(&self) -> Cow<'_, Histogram<u64>> {
        match &self.histogram {
            Some(h) => Cow::Borrowed(&**h),
            None => Cow::Owned(list_histogram(&self.list)),
        }
    }

    /// The median, 99th percentile and most, in milliseconds; `None` without a sample.
    pub fn spread(&self) -> Option<Spread> {
        if self.is_empty() {
            return None;
        }
        let h = self.histogram();
        Some(Spread {
            p50: millis(h.value_at_quantile(0.50)),
            p99: millis(h.value_at_quantile(0.99)),
            max: millis(h.max()),
        })
    }

    /// Bytes held on the heap (approximately: the allocator adds its own).
    #[cfg(test)]
    pub fn heap_bytes(&self) -> usize {
        let histogram = self.histogram.as_ref().map_or(0, |h| {
            std::mem::size_of::<Histogram<u64>>() + h.distinct_values() * std::mem::size_of::<u64>()
        });
        self.list.capacity() * std::mem::size_of::<u32>() + histogram
    }
}

fn list_histogram(list: &[u32]) -> Histogram<u64> {
    let mut h = new_histogram();
    for &micros in list {
        record(&mut h, u64::from(micros));
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(samples: &Samples) -> Latency {
        latency(&samples.histogram()).unwrap()
    }

    /// Within the histogram's 1% resolution.
    fn close(actual: f64, expected: f64) -> bool {
        (actual - expected).abs() <= expected * 0.01 + 0.001
    }

    #[test]
    fn percentiles_at_microsecond_precision() {
        let mut samples = Samples::default();
        for n in 1..=100 {
            samples.record(micros(Duration::from_millis(n)));
        }
        let latency = summary(&samples);
        assert_eq!(latency.count, 100);
        assert!(close(latency.min_ms, 1.0) && close(latency.p50_ms, 50.0), "{latency:?}");
        assert!(
            close(latency.p90_ms, 90.0) && close(latency.p99_ms, 99.0),
            "{latency:?}"
        );
        let mut fast = Samples::default();
        fast.record(1);
        fast.record(57);
        assert_eq!((summary(&fast).min_ms, summary(&fast).max_ms), (0.001, 0.057));
    }

    #[test]
    fn durations_over_an_hour_are_clamped() {
        assert_eq!(micros(Duration::from_secs(10 * 3600)), MAX_MICROS);
        assert_eq!(micros(Duration::MAX), MAX_MICROS);
        let mut h = new_histogram();
        record(&mut h, MAX_MICROS);
        assert!(close(latency(&h).unwrap().max_ms, 3_600_000.0));
        assert!(latency(&new_histogram()).is_none());
    }

    #[test]
    fn lists_and_histograms_give_the_same_percentiles() {
        let mut listed = Samples::default();
        let mut many = Samples::default();
        for n in 1..=1000 {
            listed.record(n * 37);
        }
        for _ in 0..3 {
            for n in 1..=1000 {
                many.record(n * 37);
            }
        }
        assert!(listed.histogram.is_none());
        assert!(many.histogram.is_some() && many.list.is_empty());
        let (a, b) = (summary(&listed), summary(&many));
        assert_eq!(
            (a.count * 3, a.min_ms, a.p50_ms, a.p90_ms, a.p99_ms, a.max_ms),
            (b.count, b.min_ms, b.p50_ms, b.p90_ms, b.p99_ms, b.max_ms)
        );
    }

    #[test]
    fn samples_stay_in_kilobytes() {
        let mut few = Samples::default();
        for n in [1, 5, 20, 150, 900] {
            few.record(n * 1000);
        }
        assert!(few.heap_bytes() < 256, "{} bytes for 5 samples", few.heap_bytes());
        let mut busy = Samples::default();
        for n in 0..100_000u64 {
            busy.record(100 + n * 9);
        }
        assert!(
            busy.heap_bytes() < 16 * 1024,
            "{} bytes under a second",
            busy.heap_bytes()
        );
        let mut worst = Samples::default();
        for _ in 0..=LIST_LIMIT {
            worst.record(MAX_MICROS);
        }
        assert!(
            worst.heap_bytes() < 28 * 1024,
            "{} bytes up to an hour",
            worst.heap_bytes()
        );
    }
}
