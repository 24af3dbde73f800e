//! The console summary printed after scenarios run.

use std::fmt::Write;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use crate::count::thousands;
use crate::exec::{ArrivalsResult, ClientResult, ScenarioResult, Status, StepResult};
use crate::report::console::shown;
use crate::report::thresholds::thresholds_table;

/// Failed clients listed by name before the rest are counted.
pub const MAX_LISTED_FAILURES: usize = 10;

/// Distinct failure reasons listed before the rest are counted.
pub const MAX_LISTED_REASONS: usize = 20;

/// One scenario's summary. The first line is `<name>: <passed>/<total> passed`, counting client
/// instances (a scenario without clients counts as one: its `before:`/`after:` steps). Then, one
/// indented line each: the failed clients (see [`failures`]), every failed `before:`/`after:`
/// step, and the scenario's own error; then its thresholds table, if it has thresholds.
/// The text ends with a newline.
pub fn scenario_summary(result: &ScenarioResult) -> String {
    let (passed, total) = units(result);
    // Clients can all pass while the scenario fails (`after:`, no assertion ran): say so.
    let verdict = match result.status {
        Status::Failed if passed == total => ", FAILED",
        _ => "",
    };
    // Names on one line, escaped; the console masks and escapes the rest when it prints.
    let mut out = format!("{}: {passed}/{total} passed{verdict}\n", shown(&result.name));

    for arrivals in &result.arrivals {
        arrivals_line(&mut out, arrivals);
    }
    failures(&mut out, result);

    let mut phase_failed = false;
    for (phase, steps) in [("before", &result.before), ("after", &result.after)] {
        for step in steps.iter().filter(|s| !s.status.passed()) {
            line(
                &mut out,
                &format!("{phase} \"{}\"", shown(&step.name)),
                step_reason(step),
            );
            phase_failed = true;
        }
    }

    match (&result.error, result.status) {
        // A failed phase step already says why.
        (Some(_), _) if phase_failed => {}
        (Some(error), _) => line(&mut out, "error", error),
        (None, Status::Interrupted) => out.push_str("  interrupted\n"),
        (None, Status::Passed | Status::Failed) => {}
    }
    out.push_str(&thresholds_table(&result.thresholds));
    out
}

/// The failed clients: up to 10, one line each (`  <group> #<id>: <error>`). More than that, one
/// line per distinct reason, in the order they first occur, naming the first client and how many
/// more failed the same way (`  load #1 and 41 more: <error>`), so that one different failure
/// cannot hide among many alike; past 20 reasons, `  … and N more clients, for M other reasons`.
fn failures(out: &mut String, result: &ScenarioResult) {
    let kept = result.arrivals.iter().flat_map(|a| &a.instances);
    let failed: Vec<_> = (result.clients.iter().chain(kept))
        .filter(|c| !c.status.passed())
        .collect();
    fn reason(client: &ClientResult) -> &str {
        client.error.as_deref().unwrap_or(status_word(client.status))
    }
    let who = |client: &ClientResult| format!("{} #{}", shown(&client.group), client.client_id);
    if failed.len() <= MAX_LISTED_FAILURES {
        for client in failed {
            line(out, &who(client), reason(client));
        }
        return;
    }
    // Each reason with its first client and how many failed that way.
    let mut reasons: Vec<(&str, &ClientResult, usize)> = Vec::new();
    for client in failed {
        match reasons.iter_mut().find(|(r, _, _)| *r == reason(client)) {
            Some((_, _, n)) => *n += 1,
            None => reasons.push((reason(client), client, 1)),
        }
    }
    for (text, first, n) in reasons.iter().take(MAX_LISTED_REASONS) {
        let label = match n {
            1 => who(first),
            n => format!("{} and {} more", who(first), n - 1),
        };
        line(out, &label, text);
    }
    if reasons.len() > MAX_LISTED_REASONS {
        let rest = &reasons[MAX_LISTED_REASONS..];
        let clients: usize = rest.iter().map(|(_, _, n)| n).sum();
        let _ = writeln!(
            out,
            "  … and {clients} more client{}, for {} other reason{}",
            if clients == 1 { "" } else { "s" },
            rest.len(),
            if rest.len() == 1 { "" } else { "s" }
        );
    }
}

/// `  visitors: 2,000 arrivals, 1,990 started, 10 dropped; 1,989 passed, 1 failed; start lateness
/// p99 0.4ms`, and what a stop left unreached.
fn arrivals_line(out: &mut String, arrivals: &ArrivalsResult) {
    let n = thousands;
    let _ = write!(
        out,
        "  {}: {} arrivals, {} started, {} dropped; {} passed, {} failed",
        shown(&arrivals.group),
        n(arrivals.scheduled),
        n(arrivals.started),
        n(arrivals.dropped),
        n(arrivals.passed),
        n(arrivals.failed),
    );
    if arrivals.interrupted > 0 || arrivals.unreached > 0 {
        let _ = write!(
            out,
            ", {} interrupted, {} not reached",
            n(arrivals.interrupted),
            n(arrivals.unreached)
        );
    }
    if let Some(lateness) = arrivals.lateness_ms {
        let _ = write!(out, "; start lateness p99 {:.2}ms", lateness.p99);
    }
    out.push('\n');
}

/// The whole run in one line: `run: <passed>/<total> scenarios passed, <p>/<t> client runs
/// passed, <elapsed>`, the elapsed time being wall time from the first start to the last end.
/// The text ends with a newline.
pub fn run_summary(results: &[ScenarioResult]) -> String {
    let scenarios_passed = results.iter().filter(|r| r.status.passed()).count();
    let (clients_passed, clients) = results
        .iter()
        .map(ScenarioResult::client_counts)
        .fold((0, 0), |(p, t), (rp, rt)| (p + rp, t + rt));
    format!(
        "run: {scenarios_passed}/{} scenarios passed, {clients_passed}/{clients} client runs passed, {}\n",
        results.len(),
        format_elapsed(wall_time(results))
    )
}

/// A duration for people: `350ms`, `12.3s`, `6m 2s`, `1h 30m 0s`.
pub fn format_elapsed(elapsed: Duration) -> String {
    let ms = elapsed.as_millis();
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let tenths = (ms + 50) / 100;
    if tenths < 600 {
        return format!("{}.{}s", tenths / 10, tenths % 10);
    }
    let secs = (ms + 500) / 1000;
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 {
        format!("{h}h {m}m {s}s")
    } else {
        format!("{m}m {s}s")
    }
}

/// Passed and total units of a scenario: its clients, or itself when it has none.
fn units(result: &ScenarioResult) -> (u64, u64) {
    match result.client_counts() {
        (_, 0) => (u64::from(result.status.passed()), 1),
        counts => counts,
    }
}

/// From the first scenario's start to the last one's end.
fn wall_time(results: &[ScenarioResult]) -> Duration {
    let end = |r: &ScenarioResult| -> DateTime<Utc> {
        r.started_at + TimeDelta::microseconds((r.elapsed_ms.max(0.0) * 1000.0).round() as i64)
    };
    let first = results.iter().map(|r| r.started_at).min();
    let last = results.iter().map(end).max();
    match (first, last) {
        (Some(first), Some(last)) => (last - first).to_std().unwrap_or_default(),
        _ => Duration::ZERO,
    }
}

fn status_word(status: Status) -> &'static str {
    match status {
        Status::Passed => "passed",
        Status::Failed => "failed",
        Status::Interrupted => "interrupted",
    }
}

/// A failed step's reason: its error, else its first failed assertion, else its status.
fn step_reason(step: &StepResult) -> &str {
    if let Some(error) = &step.error {
        return error;
    }
    if let Some(assertion) = step.assertions.iter().find(|a| !a.passed) {
        return assertion.message.as_deref().unwrap_or(&assertion.assertion);
    }
    status_word(step.status)
}

/// `  <label>: <text>`, later lines of `text` indented under it.
fn line(out: &mut String, label: &str, text: &str) {
    let mut lines = text.trim_end().lines();
    let _ = writeln!(out, "  {label}: {}", lines.next().unwrap_or(""));
    for more in lines {
        let _ = writeln!(out, "    {more}");
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::report::fixtures::{client, scenario, step};

    #[test]
    fn all_passed_is_one_line() {
        let result = scenario("heartbeat", vec![client(1, "keeper", Status::Passed, None)]);
        assert_eq!(scenario_summary(&result), "heartbeat: 1/1 passed\n");
    }

    #[test]
    fn failed_clients_are_listed_with_their_error() {
        let result = scenario(
            "lifecycle",
            vec![
                client(1, "workers", Status::Passed, None),
                client(
                    2,
                    "workers",
                    Status::Failed,
                    Some("step \"call echo\": expected 200, got 404"),
                ),
                client(3, "workers", Status::Interrupted, None),
                client(1, "keeper", Status::Failed, Some("first line\nsecond line\n")),
            ],
        );
        assert_eq!(
            scenario_summary(&result),
            "lifecycle: 1/4 passed\n\
             \x20 workers #2: step \"call echo\": expected 200, got 404\n\
             \x20 workers #3: interrupted\n\
             \x20 keeper #1: first line\n\
             \x20   second line\n"
        );
    }

    #[test]
    fn names_are_escaped_to_one_line() {
        let mut result = scenario(
            "evil\x1b[2J\nfake: 1/1 passed",
            vec![client(1, "g\u{202e}rp", Status::Failed, Some("boom"))],
        );
        result.before = vec![step("seed\r", Status::Failed, Some("no"))];
        assert_eq!(
            scenario_summary(&result),
            "evil\\u{1b}[2J\\u{a}fake: 1/1 passed: 0/1 passed\n\
             \x20 g\\u{202e}rp #1: boom\n\
             \x20 before \"seed\\u{d}\": no\n"
        );
    }

    #[test]
    fn many_failures_alike_take_one_line_with_their_count() {
        let clients = (1..=13)
            .map(|id| client(id, "load", Status::Failed, Some("timeout")))
            .collect();
        let text = scenario_summary(&scenario("load", clients));
        assert_eq!(text, "load: 0/13 passed\n  load #1 and 12 more: timeout\n");
    }

    #[test]
    fn one_different_failure_is_not_hidden_among_many_alike() {
        let mut clients: Vec<_> = (1..=42)
            .map(|id| client(id, "load", Status::Failed, Some("timed out after 30s")))
            .collect();
        clients.insert(20, client(43, "load", Status::Failed, Some("expected 200, got 500")));
        clients.push(client(1, "watcher", Status::Interrupted, None));
        let text = scenario_summary(&scenario("load", clients));
        assert_eq!(
            text,
            "load: 0/44 passed\n\
             \x20 load #1 and 41 more: timed out after 30s\n\
             \x20 load #43: expected 200, got 500\n\
             \x20 watcher #1: interrupted\n"
        );
    }

    #[test]
    fn past_twenty_reasons_the_rest_are_counted() {
        let clients = (1..=25)
            .map(|id| client(id, "load", Status::Failed, Some(&format!("reason {id}"))))
            .collect();
        let text = scenario_summary(&scenario("load", clients));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 22, "{text}");
        assert_eq!(lines[20], "  load #20: reason 20");
        assert_eq!(lines[21], "  … and 5 more clients, for 5 other reasons");
    }

    #[test]
    fn scenario_without_clients_counts_as_one() {
        let mut result = scenario("seed", Vec::new());
        assert_eq!(scenario_summary(&result), "seed: 1/1 passed\n");
        result.status = Status::Failed;
        result.before = vec![
            step("insert", Status::Passed, None),
            step("count rows", Status::Failed, Some("expected 3, got 2")),
        ];
        assert_eq!(
            scenario_summary(&result),
            "seed: 0/1 passed\n  before \"count rows\": expected 3, got 2\n"
        );
    }

    #[test]
    fn scenario_errors_and_interruptions_are_shown() {
        let mut result = scenario("quiet", vec![client(1, "c", Status::Passed, None)]);
        result.status = Status::Failed;
        result.error = Some("no assertion ran".into());
        result.after = vec![step("distinct ids", Status::Failed, None)];
        assert_eq!(
            scenario_summary(&result),
            "quiet: 1/1 passed, FAILED\n  after \"distinct ids\": failed\n"
        );
        result.after.clear();
        assert_eq!(
            scenario_summary(&result),
            "quiet: 1/1 passed, FAILED\n  error: no assertion ran\n"
        );
        result.error = None;
        result.status = Status::Interrupted;
        assert_eq!(scenario_summary(&result), "quiet: 1/1 passed\n  interrupted\n");
    }

    #[test]
    fn run_summary_counts_scenarios_clients_and_wall_time() {
        let mut a = scenario(
            "a",
            vec![
                client(1, "g", Status::Passed, None),
                client(2, "g", Status::Failed, Some("x")),
            ],
        );
        a.started_at = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
        a.elapsed_ms = 10_000.0;
        let mut b = scenario("b", vec![client(1, "g", Status::Passed, None)]);
        b.started_at = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 10).unwrap();
        b.elapsed_ms = 62_400.0;
        assert_eq!(
            run_summary(&[a, b]),
            "run: 1/2 scenarios passed, 2/3 client runs passed, 1m 12s\n"
        );
        assert_eq!(
            run_summary(&[]),
            "run: 0/0 scenarios passed, 0/0 client runs passed, 0ms\n"
        );
    }

    #[test]
    fn elapsed_times_read_well() {
        let cases = [
            (0, "0ms"),
            (350, "350ms"),
            (999, "999ms"),
            (1000, "1.0s"),
            (12_345, "12.3s"),
            (59_949, "59.9s"),
            (59_950, "1m 0s"),
            (362_000, "6m 2s"),
            (5_400_000, "1h 30m 0s"),
            (90_061_000, "25h 1m 1s"),
        ];
        for (ms, text) in cases {
            assert_eq!(format_elapsed(Duration::from_millis(ms)), text, "{ms} ms");
        }
    }
}
