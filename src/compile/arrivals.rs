//! `arrivals:` → [`ArrivalsPlan`]: the rate and its stages checked and fixed before the run, so
//! the schedule is known (and shown by `runner plan`) before the first arrival.

use std::time::Duration;

use super::Compiler;
use super::durations::Zero;
use super::scope::Scope;
use super::templates::is_template;
use crate::plan::{ArrivalsPlan, DurationPlan, Stage, ValuePlan, parse_rate};
use crate::source::Pos;
use crate::spec::{Arrivals, ClientGroup, DurationText, RateText, Spanned, Stage as StageSpec};

/// Instances of an arrival group running at once, unless `max_active` says otherwise: enough
/// for a thousand arrivals a second of one-second sessions, and a bound on the sockets and memory
/// a slow server can make the runner hold.
pub const MAX_ACTIVE: u64 = 1000;

impl Compiler<'_> {
    /// The schedule of an arrival group, or `None` (every problem reported) when it has none or
    /// it is wrong.
    pub(super) fn arrivals(&mut self, group: &ClientGroup) -> Option<ArrivalsPlan> {
        let arrivals = group.arrivals.as_ref()?;
        if group.count.is_some() {
            self.error(
                arrivals.at,
                "a group starts either a `count` of instances or `arrivals`, not both",
            )
            .help("remove `count`, or move the arrivals into a group of their own");
        }
        if let Some(ramp) = &group.ramp_up {
            self.error(
                ramp.0.at,
                "`ramp_up` spreads the starts of a `count`; arrivals ramp their rate",
            )
            .width(ramp.0.value.len())
            .help("ramp with a stage: `stages: [ { to: 50/s, over: 30s }, { hold: 2m } ]`");
        }
        let stages = self.stages(&arrivals.value, arrivals.at)?;
        let max_active = self.fixed_count(arrivals.value.max_active.as_ref(), MAX_ACTIVE);
        let plan = ArrivalsPlan { stages, max_active };
        if plan.scheduled() == 0 {
            self.error(arrivals.at, "this schedule starts no arrival: its rate is 0 throughout");
            return None;
        }
        Some(plan)
    }

    /// The stages `rate`/`for` or `stages:` describe.
    fn stages(&mut self, arrivals: &Arrivals, at: Pos) -> Option<Vec<Stage>> {
        let rate = arrivals.rate.as_ref().map(|r| self.fixed_rate(r));
        match (&arrivals.for_, &arrivals.stages) {
            (Some(span), None) => {
                let Some(rate) = rate else {
                    self.error(span.0.at, "`for:` holds a `rate`, and this group has none")
                        .width(span.0.value.len())
                        .help("add `rate: 50/s` (arrivals per second)");
                    return None;
                };
                let over = self.positive(span)?;
                let rate = rate?;
                Some(vec![Stage {
                    from: rate,
                    to: rate,
                    over,
                }])
            }
            (None, Some(stages)) => {
                if stages.value.is_empty() {
                    self.error(stages.at, "`stages:` is empty")
                        .help("a stage is `{ to: 50/s, over: 30s }` or `{ hold: 2m }`");
                    return None;
                }
                let start = rate.unwrap_or(Some(0.0))?;
                self.staged(start, &stages.value)
            }
            (Some(span), Some(_)) => {
                self.error(
                    span.0.at,
                    "`for:` holds a constant `rate`; with `stages:`, hold it with a stage",
                )
                .width(span.0.value.len())
                .help("replace `for:` with a last stage `{ hold: … }`");
                None
            }
            (None, None) => {
                let message = match arrivals.rate {
                    Some(_) => "`rate` needs `for:`, how long it is held",
                    None => "`arrivals` needs a `rate` and `for:`, or `stages:`",
                };
                self.error(at, message)
                    .help("for example `arrivals: { rate: 50/s, for: 2m }`");
                None
            }
        }
    }

    /// Each stage from the rate the one before it reached; `None` once any is wrong, after all
    /// have been checked.
    fn staged(&mut self, start: f64, stages: &[Spanned<StageSpec>]) -> Option<Vec<Stage>> {
        let mut from = start;
        let mut planned = Some(Vec::with_capacity(stages.len()));
        for stage in stages {
            let next = self.stage(from, stage);
            match (next, &mut planned) {
                (Some(next), Some(planned)) => {
                    from = next.to;
                    planned.push(next);
                }
                _ => planned = None,
            }
        }
        planned
    }

    fn stage(&mut self, from: f64, stage: &Spanned<StageSpec>) -> Option<Stage> {
        let StageSpec { to, over, hold } = &stage.value;
        match (to, over, hold) {
            (Some(to), Some(over), None) => {
                let to = self.fixed_rate(to);
                let over = self.positive(over)?;
                Some(Stage { from, to: to?, over })
            }
            (None, None, Some(hold)) => Some(Stage {
                from,
                to: from,
                over: self.positive(hold)?,
            }),
            (Some(_), None, None) => {
                self.bad_stage(stage, "a stage with `to:` needs `over:`, how long the change takes")
            }
            (None, Some(_), None) => self.bad_stage(stage, "a stage with `over:` needs `to:`, the rate it goes to"),
            (None, None, None) => self.bad_stage(stage, "this stage is empty"),
            (_, _, Some(_)) => self.bad_stage(stage, "a stage either holds its rate or changes it, not both"),
        }
    }

    fn bad_stage(&mut self, stage: &Spanned<StageSpec>, message: &str) -> Option<Stage> {
        self.error(stage.at, message)
            .help("a stage is `{ to: 50/s, over: 30s }` or `{ hold: 2m }`");
        None
    }

    /// A duration known before the run and longer than zero.
    fn positive(&mut self, d: &DurationText) -> Option<Duration> {
        match self.duration(d, &Scope::fixed(self.var_names()), Zero::Refused)? {
            DurationPlan::Fixed(d) => Some(d),
            DurationPlan::Template(_) => None,
        }
    }

    /// A rate known before the run: as written, or its template rendered from `vars` and `env`.
    fn fixed_rate(&mut self, rate: &RateText) -> Option<f64> {
        let text = &rate.0;
        let rendered = match is_template(&text.value) {
            false => text.value.clone(),
            true => {
                let compiled = self.template(text, &Scope::fixed(self.var_names()))?;
                match self.render_fixed(&ValuePlan::Template(compiled.template), text.at)? {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                }
            }
        };
        match parse_rate(&rendered) {
            Ok(rate) => Some(rate),
            Err(e) => {
                let message = match is_template(&text.value) {
                    true => format!("this template renders `{rendered}`: {e}"),
                    false => e.to_string(),
                };
                self.error(text.at, message).width(text.value.len()).help(e.help);
                None
            }
        }
    }
}
