//! The charts of `report.html` as shapes in pixels: the page's template draws them as inline SVG.
//! Each chart is a plot area with axes; the data maps onto it through a [`Scale`].

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::exec::{Point, SessionPoint};

/// The plot area of a small chart, in pixels; the axes' labels are drawn around it.
pub const PLOT_WIDTH: f64 = 420.0;
pub const PLOT_HEIGHT: f64 = 120.0;

/// Buckets of a latency histogram.
const BUCKETS: usize = 24;

/// A chart: lines, bars, and the ticks of both axes.
#[derive(Debug, Serialize)]
pub struct Chart {
    /// `latency`, `histogram`, `errors`, `sessions`: the style it is drawn in.
    pub class: &'static str,
    pub title: String,
    pub lines: Vec<Line>,
    pub bars: Vec<Bar>,
    pub x_ticks: Vec<Tick>,
    pub y_ticks: Vec<Tick>,
    /// What the axes count, for their captions.
    pub x_unit: &'static str,
    pub y_unit: &'static str,
}

/// A polyline, with a dot at each point when there are few.
#[derive(Debug, Serialize)]
pub struct Line {
    /// `p50`, `p99`, `active`: the style it is drawn in, and its name in the legend.
    pub class: &'static str,
    /// `x,y x,y …`
    pub points: String,
    pub dots: Vec<(Px, Px)>,
}

#[derive(Debug, Serialize)]
pub struct Bar {
    pub x: Px,
    pub y: Px,
    pub width: Px,
    pub height: Px,
    pub title: String,
}

/// A tick on an axis: where, and its label.
#[derive(Debug, Serialize)]
pub struct Tick {
    pub at: Px,
    pub label: String,
}

/// A position in pixels, written with one decimal: the page is made of many, and more digits
/// only weigh.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Px(pub f64);

impl Serialize for Px {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64((self.0 * 10.0).round() / 10.0)
    }
}

/// A linear map from a range of values onto a range of pixels.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    from: (f64, f64),
    to: (f64, f64),
}

impl Scale {
    pub fn new(from: (f64, f64), to: (f64, f64)) -> Self {
        // An empty range maps everything to its start rather than dividing by zero.
        let from = if from.1 > from.0 { from } else { (from.0, from.0 + 1.0) };
        Self { from, to }
    }

    pub fn at(&self, value: f64) -> Px {
        let share = (value - self.from.0) / (self.from.1 - self.from.0);
        Px(self.to.0 + share * (self.to.1 - self.to.0))
    }

    /// Ticks at whole numbers only, for an axis that counts.
    pub fn whole_ticks(&self, count: usize) -> Vec<Tick> {
        let mut ticks = self.ticks(count, |v| format!("{v}"));
        ticks.retain(|tick| !tick.label.contains('.'));
        ticks
    }

    /// About `count` round values across the range, at 1, 2 or 5 times a power of ten.
    pub fn ticks(&self, count: usize, label: impl Fn(f64) -> String) -> Vec<Tick> {
        let (low, high) = self.from;
        let rough = (high - low) / count.max(1) as f64;
        let power = 10f64.powf(rough.log10().floor());
        let step = [1.0, 2.0, 5.0, 10.0]
            .into_iter()
            .map(|m| m * power)
            .find(|s| *s >= rough);
        let step = step.unwrap_or(rough);
        let first = (low / step).ceil() as i64;
        let last = (high / step).floor() as i64;
        (first..=last)
            .map(|i| i as f64 * step)
            .map(|value| Tick {
                at: self.at(value),
                label: label(value),
            })
            .collect()
    }
}

/// The x axis of the per-second charts: the scenario's seconds, to the end of its last one.
fn seconds_axis(seconds: f64) -> Scale {
    Scale::new((0.0, seconds.ceil().max(1.0)), (0.0, PLOT_WIDTH))
}

fn y_axis(max: f64) -> Scale {
    Scale::new((0.0, max * 1.1), (PLOT_HEIGHT, 0.0))
}

/// Seconds as an axis reads them: `0`, `1.5s`, `90s`.
pub fn seconds_label(seconds: f64) -> String {
    match seconds {
        0.0 => "0".into(),
        s => format!("{}s", round(s)),
    }
}

/// Milliseconds as an axis or a table reads them: `0.42ms`, `12ms`, `1.5s`.
pub fn ms_label(ms: f64) -> String {
    match ms {
        0.0 => "0".into(),
        ms if ms >= 1000.0 => format!("{}s", round(ms / 1000.0)),
        ms => format!("{}ms", round(ms)),
    }
}

/// Three significant figures at most, without trailing zeros.
fn round(value: f64) -> String {
    let digits = if value >= 100.0 {
        0
    } else if value >= 10.0 {
        1
    } else {
        2
    };
    let text = format!("{value:.digits$}");
    match text.contains('.') {
        true => text.trim_end_matches('0').trim_end_matches('.').to_string(),
        false => text,
    }
}

fn line(class: &'static str, points: impl Iterator<Item = (Px, Px)>) -> Line {
    let points: Vec<(Px, Px)> = points.collect();
    let text = (points.iter())
        .map(|(x, y)| format!("{:.1},{:.1}", x.0, y.0))
        .collect::<Vec<_>>()
        .join(" ");
    // Dots make single seconds visible; past a few dozen they would only weigh.
    let dots = if points.len() <= 60 { points } else { Vec::new() };
    Line {
        class,
        points: text,
        dots,
    }
}

/// p50 and p99 of each second in which a request of the step was answered.
pub fn latency_over_time(series: &[Point], seconds: f64) -> Chart {
    let x = seconds_axis(seconds);
    let highest = series.iter().filter_map(|p| p.p99_ms).fold(0.0, f64::max);
    let y = y_axis(highest);
    // A point stands in the middle of its second.
    let at = |p: &Point, value: f64| (x.at(p.second as f64 + 0.5), y.at(value));
    let p50 = series.iter().filter_map(|p| Some(at(p, p.p50_ms?)));
    let p99 = series.iter().filter_map(|p| Some(at(p, p.p99_ms?)));
    Chart {
        class: "latency",
        title: "latency per second".into(),
        lines: vec![line("p50", p50), line("p99", p99)],
        bars: Vec::new(),
        x_ticks: x.ticks(6, seconds_label),
        y_ticks: y.ticks(4, ms_label),
        x_unit: "time",
        y_unit: "latency",
    }
}

/// The steps that failed in each second.
pub fn errors_over_time(series: &[Point], seconds: f64) -> Chart {
    let x = seconds_axis(seconds);
    let highest = series.iter().map(|p| p.errors).max().unwrap_or(0).max(1) as f64;
    let y = y_axis(highest);
    let width = Px((x.at(1.0).0 - x.at(0.0).0).max(1.0));
    let bars = (series.iter().filter(|p| p.errors > 0))
        .map(|p| Bar {
            x: x.at(p.second as f64),
            y: y.at(p.errors as f64),
            width,
            height: Px(PLOT_HEIGHT - y.at(p.errors as f64).0),
            title: format!("second {}: {} failed", p.second, p.errors),
        })
        .collect();
    Chart {
        class: "errors",
        title: "errors per second".into(),
        lines: Vec::new(),
        bars,
        x_ticks: x.ticks(6, seconds_label),
        y_ticks: y.whole_ticks(3),
        x_unit: "time",
        y_unit: "failed",
    }
}

/// How the latencies spread: the requests in each of [`BUCKETS`] buckets, equal in width on a
/// logarithmic axis from the fastest to the slowest (in microseconds, as recorded).
pub fn histogram(latency: &Histogram<u64>) -> Chart {
    let (low, high) = (latency.min().max(1) as f64, latency.max().max(1) as f64);
    let (log_low, log_high) = (low.ln(), (high * 1.01).ln());
    let x = Scale::new((log_low, log_high), (0.0, PLOT_WIDTH));
    let edge = |i: usize| (log_low + (log_high - log_low) * i as f64 / BUCKETS as f64).exp();
    // One pass over the recorded values, each into the bucket its logarithm falls in.
    let mut counts = [0u64; BUCKETS];
    for value in latency.iter_recorded() {
        let at = (value.value_iterated_to().max(1) as f64).ln();
        let bucket = ((at - log_low) / (log_high - log_low) * BUCKETS as f64).floor();
        counts[(bucket.max(0.0) as usize).min(BUCKETS - 1)] += value.count_at_value();
    }
    let highest = counts.iter().copied().max().unwrap_or(0).max(1) as f64;
    let y = y_axis(highest);
    let bars = (counts.iter().enumerate().filter(|(_, count)| **count > 0))
        .map(|(i, &count)| {
            let (from, to) = (edge(i), edge(i + 1));
            Bar {
                x: x.at(from.ln()),
                y: y.at(count as f64),
                width: Px((x.at(to.ln()).0 - x.at(from.ln()).0 - 1.0).max(1.0)),
                height: Px(PLOT_HEIGHT - y.at(count as f64).0),
                title: format!("{}–{}: {count}", ms_label(from / 1000.0), ms_label(to / 1000.0)),
            }
        })
        .collect();
    let ticks = [0, BUCKETS / 3, 2 * BUCKETS / 3, BUCKETS].map(|i| Tick {
        at: x.at(edge(i).ln()),
        label: ms_label(edge(i) / 1000.0),
    });
    Chart {
        class: "histogram",
        title: "latency histogram".into(),
        lines: Vec::new(),
        bars,
        x_ticks: ticks.into(),
        y_ticks: y.whole_ticks(3),
        x_unit: "latency",
        y_unit: "requests",
    }
}

/// The sessions held at the end of each second in which one opened or ended.
pub fn sessions_over_time(series: &[SessionPoint], seconds: f64) -> Chart {
    let x = seconds_axis(seconds);
    let highest = series.iter().map(|p| p.active).max().unwrap_or(0).max(1) as f64;
    let y = y_axis(highest);
    // A step line: the count holds until the next point changes it.
    let mut points = Vec::with_capacity(series.len() * 2 + 1);
    let mut active = 0;
    for p in series {
        points.push((x.at(p.second as f64), y.at(active as f64)));
        active = p.active;
        points.push((x.at(p.second as f64), y.at(active as f64)));
    }
    points.push((x.at(seconds), y.at(active as f64)));
    Chart {
        class: "sessions",
        title: "sessions held".into(),
        lines: vec![line("active", points.into_iter())],
        bars: Vec::new(),
        x_ticks: x.ticks(6, seconds_label),
        y_ticks: y.whole_ticks(3),
        x_unit: "time",
        y_unit: "sessions",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scale_maps_values_onto_pixels_and_ticks_fall_on_round_values() {
        let scale = Scale::new((0.0, 50.0), (0.0, 500.0));
        assert_eq!(scale.at(25.0), Px(250.0));
        let labels: Vec<_> = scale
            .ticks(5, |v| format!("{v}"))
            .into_iter()
            .map(|t| t.label)
            .collect();
        assert_eq!(labels, ["0", "10", "20", "30", "40", "50"]);
        let flat = Scale::new((3.0, 3.0), (0.0, 100.0));
        assert_eq!(flat.at(3.0), Px(0.0), "an empty range does not divide by zero");
    }

    #[test]
    fn labels_read_as_people_write_durations() {
        let labels = [0.0, 0.426, 12.0, 250.0, 1500.0].map(ms_label);
        assert_eq!(labels, ["0", "0.43ms", "12ms", "250ms", "1.5s"]);
        assert_eq!(seconds_label(90.0), "90s");
    }

    #[test]
    fn the_histogram_counts_every_request_once() {
        let mut latency = Histogram::<u64>::new(2).unwrap();
        for micros in [900, 1_000, 1_100, 5_000, 5_000, 80_000] {
            latency.record(micros).unwrap();
        }
        let chart = histogram(&latency);
        let counted: u64 = (chart.bars.iter())
            .map(|bar| bar.title.rsplit(": ").next().unwrap().parse::<u64>().unwrap())
            .sum();
        assert_eq!(counted, 6);
        assert!(chart.bars.iter().all(|bar| bar.x.0 >= 0.0 && bar.x.0 < PLOT_WIDTH));
    }

    #[test]
    fn latency_lines_skip_quiet_seconds_and_errors_are_bars() {
        let point = |second, errors, p99: Option<f64>| Point {
            second,
            requests: 1,
            errors,
            p50_ms: p99.map(|v| v / 2.0),
            p99_ms: p99,
        };
        let series = [point(0, 0, Some(10.0)), point(1, 2, None), point(3, 1, Some(20.0))];
        let chart = latency_over_time(&series, 4.0);
        assert_eq!(chart.lines[1].points.split(' ').count(), 2);
        let errors = errors_over_time(&series, 4.0);
        let titles: Vec<_> = errors.bars.iter().map(|b| b.title.as_str()).collect();
        assert_eq!(titles, ["second 1: 2 failed", "second 3: 1 failed"]);
    }
}
