//! `thresholds:`: each metric name resolved against the file's steps and client groups through
//! the catalogue, each limit rendered from `vars` and read in the metric's unit.

use std::time::Duration;

use super::Compiler;
use super::durations::Zero;
use crate::plan::metric::{CATALOGUE, Entry, Groups, MCP_SUBJECT, Of, Steps, splits};
use crate::plan::step::Repeat;
use crate::plan::{Action, GroupPlan, Instances, Limit, StepPlan, ThresholdPlan};
use crate::spec::{Spanned, Threshold};

/// Whether a step is one that a step metric of `steps` is measured on.
fn measures(step: &StepPlan, steps: Steps) -> bool {
    let kind = step.action.kind();
    match steps {
        Steps::Sending => kind.row().has_result,
        Steps::Leaf => !kind.nests(),
        Steps::FixedRate => matches!(&step.action, Action::Repeat(Repeat { repeat, .. }) if repeat.every.is_some()),
    }
}

/// Whether a client group is one that a group metric of `groups` is measured on.
fn counts(group: &GroupPlan, groups: Groups) -> bool {
    match groups {
        Groups::Any => true,
        Groups::Arrivals => matches!(group.instances, Instances::Arrivals(_)),
    }
}

/// Why no subject of a name fits a metric, and where to look instead.
fn misfit(of: Of, subject: &str, metric: &str) -> (String, &'static str) {
    match of {
        Of::Step(Steps::Sending) => (
            format!("step `{subject}` sends no request, so it has no `{metric}`"),
            "latency and requests are measured on the steps that send: MCP steps (but `forget`), `http` and `sql`",
        ),
        Of::Step(Steps::Leaf) => (
            format!("`{subject}` is a `repeat` or a `group`, so it has no `{metric}`: its nested steps pass or fail"),
            "name a step inside it",
        ),
        Of::Step(Steps::FixedRate) => (
            format!("`{subject}` is not a `repeat` with `every`, so it has no `{metric}`"),
            "lateness is measured on fixed-rate loops: `repeat: { every: 1s, for: 1m }`",
        ),
        Of::Group(_) => (
            format!("client group `{subject}` runs a `count` of clients, so it has no `{metric}`"),
            "arrival counts and lateness are measured on groups with `arrivals:`",
        ),
        Of::Mcp => (
            format!("`{subject}.{metric}` is not a metric"),
            "the MCP session metrics are named `mcp.sessions.…`",
        ),
    }
}

/// Every step, nested ones included.
fn all_steps<'p>(steps: impl IntoIterator<Item = &'p StepPlan>) -> Vec<&'p StepPlan> {
    let mut all = Vec::new();
    let mut pending: Vec<&StepPlan> = steps.into_iter().collect();
    while let Some(step) = pending.pop() {
        all.push(step);
        pending.extend(step.nested());
    }
    all
}

impl Compiler<'_> {
    pub(super) fn thresholds<'p>(
        &mut self,
        steps: impl IntoIterator<Item = &'p StepPlan>,
        groups: &[GroupPlan],
    ) -> Vec<ThresholdPlan> {
        let steps = all_steps(steps);
        let spec = self.spec;
        let mut plans = Vec::new();
        for (metric, threshold) in spec.thresholds.iter() {
            let Some((subject, entry)) = self.resolve(metric, &steps, groups) else {
                continue;
            };
            if let Some(plan) = self.threshold(metric, subject, entry, threshold) {
                plans.push(plan);
            }
        }
        plans
    }

    /// The subject and catalogue entry `metric` names, or an error.
    fn resolve<'m>(
        &mut self,
        metric: &'m Spanned<String>,
        steps: &[&StepPlan],
        groups: &[GroupPlan],
    ) -> Option<(&'m str, &'static Entry)> {
        let name = metric.value.as_str();
        let width = name.len().max(1);
        let named = |subject: &str, of| match of {
            Of::Step(_) => steps.iter().any(|s| s.name == subject),
            Of::Group(_) => groups.iter().any(|g| g.name == subject),
            Of::Mcp => subject == MCP_SUBJECT,
        };
        let fits = |subject: &str, of| match of {
            Of::Step(kind) => steps.iter().any(|s| s.name == subject && measures(s, kind)),
            Of::Group(kind) => groups.iter().any(|g| g.name == subject && counts(g, kind)),
            Of::Mcp => true,
        };
        let found: Vec<_> = splits(name)
            .filter(|(subject, entry)| named(subject, entry.of))
            .collect();
        let fitting: Vec<_> = (found.iter().copied())
            .filter(|(subject, entry)| fits(subject, entry.of))
            .collect();
        // A subject of that name that is the wrong kind for the metric, when nothing else fits.
        let unfit = found.first().map(|(subject, entry)| (entry.of, *subject, entry.name));
        match (&fitting[..], unfit) {
            ([one], _) => Some(*one),
            ([first, second, ..], _) => {
                let of = |(subject, entry): (&str, &Entry)| match entry.of {
                    Of::Step(_) => format!("step `{subject}`'s"),
                    Of::Group(_) => format!("client group `{subject}`'s"),
                    Of::Mcp => "the MCP sessions'".to_string(),
                };
                self.error(
                    metric.at,
                    format!("`{name}` could be {} or {}", of(*first), of(*second)),
                )
                .width(width)
                .help("rename the step (`name:`) or the group, so that the metric names one of them");
                None
            }
            ([], Some((of, subject, metric_name))) => {
                let (message, help) = misfit(of, subject, metric_name);
                self.error(metric.at, message).width(width).help(help);
                None
            }
            ([], None) => {
                self.unknown_metric(metric, steps, groups);
                None
            }
        }
    }

    fn unknown_metric(&mut self, metric: &Spanned<String>, steps: &[&StepPlan], groups: &[GroupPlan]) {
        let name = metric.value.as_str();
        let mut known: Vec<String> = Vec::new();
        for entry in CATALOGUE {
            let subjects: Vec<&str> = match entry.of {
                Of::Step(kind) => (steps.iter())
                    .filter(|s| measures(s, kind))
                    .map(|s| s.name.as_str())
                    .collect(),
                Of::Group(kind) => (groups.iter())
                    .filter(|g| counts(g, kind))
                    .map(|g| g.name.as_str())
                    .collect(),
                Of::Mcp => vec![MCP_SUBJECT],
            };
            for subject in subjects {
                let full = format!("{subject}.{}", entry.name);
                if !known.contains(&full) {
                    known.push(full);
                }
            }
        }
        let mut metrics: Vec<&str> = Vec::new();
        for entry in CATALOGUE {
            if !metrics.contains(&entry.name) {
                metrics.push(entry.name);
            }
        }
        let form = format!(
            "a metric is a step's or a client group's name, or `mcp`, a dot and one of: {}",
            metrics.join(", ")
        );
        let help = crate::suggest::did_you_mean(name, known.iter().map(String::as_str)).unwrap_or(form);
        self.error(metric.at, format!("unknown metric `{name}`"))
            .width(name.len().max(1))
            .help(help);
    }

    /// How wide a string stands in the file: its quotes included, when it has them.
    fn written_width(&self, text: &Spanned<String>) -> usize {
        let rest = self.source.text.get(text.at.offset..).unwrap_or_default();
        let quoted = rest.starts_with(['"', '\'']);
        text.value.len() + if quoted { 2 } else { 0 }
    }

    fn threshold(
        &mut self,
        metric: &Spanned<String>,
        subject: &str,
        entry: &Entry,
        threshold: &Threshold,
    ) -> Option<ThresholdPlan> {
        let written = &threshold.limit;
        let (text, templated) = self.fixed_text(written)?;
        let limit = match Limit::parse(&text, entry.unit, &metric.value) {
            Ok(limit) => limit,
            Err(e) => {
                let width = self.written_width(written);
                let reported = self.error(written.at, e.message).width(width).help(e.help);
                if templated {
                    reported.label(format!("renders to `{}`", text.trim()));
                }
                return None;
            }
        };
        let aborts = threshold.abort.as_ref().is_some_and(|a| a.value);
        if let (Some(after), false) = (&threshold.after, aborts) {
            self.error(
                after.0.at,
                "`after` delays a threshold's abort, but this one does not abort",
            )
            .width(after.0.value.len())
            .help("add `abort: true`, or leave `after` out");
            return None;
        }
        let after = self.fixed_duration(threshold.after.as_ref(), Duration::ZERO, Zero::Allowed);
        Some(ThresholdPlan {
            metric: metric.value.clone(),
            subject: subject.to_string(),
            measure: entry.measure,
            unit: entry.unit,
            limit,
            abort: aborts.then_some(after),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::compile::tests::compile_text;
    use crate::plan::metric::{Measure, Sessions, Stat};
    use crate::plan::{Comparator, ThresholdPlan};

    const STEPS: &str = "connections:\n  s: { mcp: { url: http://127.0.0.1:1/mcp } }\nvars:\n  p99: 20ms\nclients:\n  load:\n    steps:\n      - initialize: {}\n      - name: call v1.2 echo\n        call: echo\n      - wait: 1s\n      - name: beat\n        repeat: { every: 1s, times: 2 }\n        steps:\n          - request: ping\n";

    fn compiled(thresholds: &str) -> Result<Vec<ThresholdPlan>, Vec<String>> {
        let text = format!("{STEPS}thresholds:\n{thresholds}");
        compile_text(&text).map(|plan| plan.thresholds).map_err(|diagnostics| {
            (diagnostics.iter())
                .map(|d| format!("{} | {}", d.message, d.help.as_deref().unwrap_or("")))
                .collect()
        })
    }

    #[test]
    fn names_with_dots_and_spaces_resolve_to_their_steps_and_groups() {
        let plans = compiled(
            "  call v1.2 echo.latency.p99: \"< {{ vars.p99 }}\"\n  wait 1s.passed: \">= 1\"\n  beat.lateness.max: { limit: \"< 5ms\", abort: true, after: 10s }\n  load.failed: \"== 0\"\n",
        )
        .unwrap();
        let read: Vec<_> = (plans.iter())
            .map(|p| {
                (
                    p.subject.as_str(),
                    p.measure,
                    p.limit.comparator,
                    p.limit.value,
                    p.abort,
                )
            })
            .collect();
        assert_eq!(
            read,
            [
                (
                    "call v1.2 echo",
                    Measure::Latency(Stat::P99),
                    Comparator::Below,
                    20.0,
                    None
                ),
                ("wait 1s", Measure::Passed, Comparator::AtLeast, 1.0, None),
                (
                    "beat",
                    Measure::Lateness(Stat::Max),
                    Comparator::Below,
                    5.0,
                    Some(Duration::from_secs(10))
                ),
                ("load", Measure::ClientsFailed, Comparator::Equal, 0.0, None),
            ]
        );
        assert_eq!(plans[0].limit.text, "< 20ms");
    }

    #[test]
    fn metrics_that_do_not_fit_their_step_are_refused() {
        let found =
            compiled("  wait 1s.latency.p99: \"< 1s\"\n  ping.lateness.p99: \"< 1s\"\n  beat.failed: \"== 0\"\n")
                .unwrap_err();
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(found[0].starts_with("step `wait 1s` sends no request"), "{found:?}");
        assert!(
            found[1].starts_with("`ping` is not a `repeat` with `every`"),
            "{found:?}"
        );
        assert!(found[2].starts_with("`beat` is a `repeat` or a `group`"), "{found:?}");
    }

    #[test]
    fn unknown_metrics_suggest_a_real_one() {
        let found = compiled("  call v1.2 echo.latency.p95: \"< 1s\"\n  mcp.sessions.expird: \"== 0\"\n").unwrap_err();
        assert_eq!(
            found,
            [
                "unknown metric `call v1.2 echo.latency.p95` | did you mean `call v1.2 echo.latency.p99`?",
                "unknown metric `mcp.sessions.expird` | did you mean `mcp.sessions.expired`?"
            ]
        );
    }

    #[test]
    fn session_metrics_belong_to_mcp_and_arrival_metrics_to_arrival_groups() {
        let plans =
            compiled("  mcp.sessions.expired: \"== 0\"\n  mcp.sessions.idle_to_expiry.p50: \"> 1s\"\n").unwrap();
        let read: Vec<_> = plans.iter().map(|p| (p.subject.as_str(), p.measure)).collect();
        assert_eq!(
            read,
            [
                ("mcp", Measure::Sessions(Sessions::Expired)),
                ("mcp", Measure::IdleToExpiry(Stat::P50))
            ]
        );
        let found = compiled("  load.dropped: \"== 0\"\n").unwrap_err();
        assert_eq!(
            found,
            [
                "client group `load` runs a `count` of clients, so it has no `dropped` | arrival counts and lateness are measured on groups with `arrivals:`"
            ]
        );
        let text = "clients:\n  visitors:\n    arrivals: { rate: 10/s, for: 1s }\n    steps:\n      - wait: 10ms\nthresholds:\n  visitors.dropped: \"== 0\"\n  visitors.lateness.p99: \"< 5ms\"\n  visitors.failed: \"== 0\"\n";
        let plan = compile_text(text).unwrap();
        let read: Vec<_> = plan.thresholds.iter().map(|p| p.measure).collect();
        assert_eq!(
            read,
            [
                Measure::Dropped,
                Measure::StartLateness(Stat::P99),
                Measure::ClientsFailed
            ]
        );
    }

    #[test]
    fn a_name_that_is_a_steps_and_a_groups_is_ambiguous() {
        let text = "clients:\n  beat:\n    steps:\n      - name: beat\n        wait: 1s\n      - check: \"{{ true }}\"\nthresholds:\n  beat.failed: \"== 0\"\n";
        let found = compile_text(text).unwrap_err();
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].message,
            "`beat.failed` could be step `beat`'s or client group `beat`'s"
        );
        // A `repeat` counts no failures of its own, so the group's are the only ones meant.
        let text = text.replace("wait: 1s", "repeat: { times: 1 }\n        steps: [ { wait: 1s } ]");
        let plan = compile_text(&text).unwrap();
        assert_eq!(plan.thresholds[0].measure, Measure::ClientsFailed);
    }

    #[test]
    fn after_needs_abort() {
        let found = compiled("  wait 1s.failed: { limit: \"== 0\", abort: false, after: 5s }\n").unwrap_err();
        assert!(found[0].starts_with("`after` delays a threshold's abort"), "{found:?}");
    }
}
