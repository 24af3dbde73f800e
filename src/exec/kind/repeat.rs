//! `repeat`: closed loops (the next pass starts when the last ends) and fixed-rate loops, whose
//! passes start on absolute deadlines so a slow pass does not shift the next; each pass's
//! lateness is recorded. What the result keeps of the passes is [`passes`]' business.

mod passes;

use std::time::Duration;

use tokio::time::Instant;

use super::{Nested, Ran};
use crate::count::count_within_limit;
use crate::duration_text::millis;
use crate::exec::ctx::{Ctx, LoopPass};
use crate::exec::error::RenderError;
use crate::exec::result::{Iteration, Status, StepResult};
use crate::exec::timer;
use crate::plan::step::Repeat;
use crate::plan::{RepeatPlan, Resolved, ValuePlan};
use passes::Tally;

/// When a loop stops.
struct Bounds {
    times: Option<u64>,
    span: Option<Duration>,
    every: Option<Duration>,
}

/// Runs the loop; true when it failed only through steps that continue on failure. A bound that
/// does not render is the step's failure, returned for the runner to word.
pub async fn run(ctx: &mut Ctx<'_>, repeat: &Repeat, out: &mut StepResult) -> Result<bool, RenderError> {
    let bounds = bounds(ctx, &repeat.repeat)?;
    let mut halted = false;
    let outer = ctx.pass();
    let of = bounds.passes();
    let start = Instant::now();
    let mut tally = Tally::new(ctx.shared.record);
    for n in 1.. {
        if bounds.times.is_some_and(|t| n > t) {
            break;
        }
        // A pass is due at its own slot on a fixed-rate loop, or when the last one ended.
        let slot = u32::try_from(n - 1).unwrap_or(u32::MAX);
        let due = bounds
            .every
            .map_or_else(Instant::now, |every| start + every.saturating_mul(slot));
        if bounds.span.is_some_and(|span| due - start >= span) {
            break;
        }
        if bounds.every.is_some() {
            tokio::select! {
                () = timer::sleep_until(due) => {}
                () = ctx.shared.cancel.cancelled() => {
                    out.status = Status::Interrupted;
                    break;
                }
            }
        }
        let began = Instant::now();
        let lateness = bounds.every.map(|_| began - due);
        if let Some(lateness) = lateness {
            ctx.shared.metrics.late(&out.name, lateness);
        }
        ctx.set_pass(Some(LoopPass {
            n,
            of,
            until: bounds.span.map(|span| start + span),
        }));
        let Ran {
            results,
            status,
            halted: stopped,
        } = ctx.steps(&repeat.steps).await;
        let elapsed = began.elapsed();
        let pass = Iteration {
            iteration: n,
            lateness_ms: lateness.map(millis),
            elapsed_ms: millis(elapsed),
            status,
            steps: results,
        };
        tally.add(pass, lateness, elapsed);
        if status != Status::Passed && out.status != Status::Interrupted {
            out.status = status;
        }
        if stopped {
            halted = true;
            break;
        }
    }
    ctx.set_pass(outer);
    let (kept, passes) = tally.finish();
    out.iterations = kept;
    out.passes = Some(passes);
    // The newest failure kept: the last pass's when it failed.
    if out.status.failed() {
        out.error = (out.iterations.iter().rev()).find_map(|i| StepResult::first_error(&i.steps));
    }
    Ok(out.status.failed() && !halted)
}

impl Bounds {
    /// The passes the loop makes, when its bounds say: its `times`, or the slots a fixed-rate
    /// loop's span holds, whichever is fewer; a closed loop's span says nothing of its passes.
    fn passes(&self) -> Option<u64> {
        let slots = match (self.span, self.every) {
            (Some(span), Some(every)) => Some(span.as_nanos().div_ceil(every.as_nanos())),
            _ => None,
        };
        let slots = slots.map(|n| u64::try_from(n).unwrap_or(u64::MAX));
        match (self.times, slots) {
            (Some(times), Some(slots)) => Some(times.min(slots)),
            (times, slots) => times.or(slots),
        }
    }
}

fn bounds(ctx: &Ctx<'_>, repeat: &RepeatPlan) -> Result<Bounds, RenderError> {
    let times = match &repeat.times {
        None => None,
        Some(Resolved::Fixed(n)) => Some(*n),
        Some(Resolved::Template(t)) => {
            let value = ctx.render(&ValuePlan::Template(t.clone()))?;
            let n = match &value {
                serde_json::Value::String(s) => s.trim().parse::<u64>().ok(),
                other => other.as_u64(),
            };
            let n = n.ok_or_else(|| RenderError::NotACount {
                template: t.source.clone(),
                value: value.clone(),
            })?;
            Some(count_within_limit(n).map_err(|source| RenderError::Count {
                template: t.source.clone(),
                source,
            })?)
        }
    };
    let span = repeat.for_.as_ref().map(|d| ctx.duration(d)).transpose()?;
    let every = repeat.every.as_ref().map(|d| ctx.duration(d)).transpose()?;
    if every.is_some_and(|e| e.is_zero()) {
        return Err(RenderError::ZeroEvery);
    }
    Ok(Bounds { times, span, every })
}
