//! Durations in messages, the way scenarios write them: `2.999s`, `5m`, `1h 30m`, `250ms`.
//!
//! Every layer formats durations through here, so that a configured `30s` reads `30s` and a
//! measured remainder reads `2.999s` rather than `2s 999ms 999us 946ns`.

use std::time::Duration;

/// A duration to the millisecond (cut, not rounded: `2.9999s` did not reach `3s`), in the largest
/// units that fit: `0s`, `250ms`, `2.999s`, `5m`, `6m 2.5s`, `1h 30m`. Below a millisecond, whole
/// microseconds or nanoseconds (`40µs`), so a short duration never reads as zero.
pub fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms == 0 {
        return match (d.as_micros(), d.as_nanos()) {
            (_, 0) => "0s".into(),
            (0, ns) => format!("{ns}ns"),
            (us, _) => format!("{us}µs"),
        };
    }
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let (h, m) = (ms / 3_600_000, ms / 60_000 % 60);
    let (s, frac) = (ms / 1000 % 60, ms % 1000);
    let mut parts = Vec::new();
    if h > 0 {
        parts.push(format!("{h}h"));
    }
    if m > 0 {
        parts.push(format!("{m}m"));
    }
    match (s, frac) {
        (0, 0) => {}
        (s, 0) => parts.push(format!("{s}s")),
        (s, frac) => {
            let decimals = format!("{frac:03}");
            parts.push(format!("{s}.{}s", decimals.trim_end_matches('0')));
        }
    }
    parts.join(" ")
}

/// Milliseconds, fractional: how results and templates (`client.elapsed_ms`) give times.
pub fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_the_ones_scenarios_write() {
        let cases = [
            (Duration::ZERO, "0s"),
            (Duration::from_nanos(946), "946ns"),
            (Duration::from_micros(40), "40µs"),
            (Duration::from_millis(250), "250ms"),
            (Duration::from_secs(1), "1s"),
            (Duration::from_millis(1500), "1.5s"),
            (Duration::from_nanos(2_999_999_946), "2.999s"),
            (Duration::from_millis(3010), "3.01s"),
            (Duration::from_secs(30), "30s"),
            (Duration::from_secs(300), "5m"),
            (Duration::from_millis(362_500), "6m 2.5s"),
            (Duration::from_secs(5400), "1h 30m"),
            (Duration::from_secs(3601), "1h 1s"),
            (Duration::from_secs(90_000), "25h"),
        ];
        for (d, text) in cases {
            assert_eq!(format_duration(d), text, "{d:?}");
        }
    }

    #[test]
    fn what_it_prints_parses_back_to_the_same_duration() {
        for ms in [1, 999, 1000, 1001, 59_999, 60_000, 3_599_999, 3_600_000, 86_400_001] {
            let d = Duration::from_millis(ms);
            assert_eq!(crate::plan::parse_duration(&format_duration(d)).unwrap(), d, "{ms} ms");
        }
    }
}
