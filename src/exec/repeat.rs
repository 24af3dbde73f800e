//! `repeat`: closed loops (the next pass starts when the last ends) and fixed-rate loops, whose
//! passes start on absolute deadlines so a slow pass does not shift the next; each pass's
//! lateness is recorded.

use std::time::Duration;

use tokio::time::Instant;

use super::outcome::{Iteration, Status, StepResult};
use super::step::{Runner, first_error, ms};
use crate::plan::{RepeatPlan, Resolved, StepPlan, ValuePlan, count_within_limit};

/// When a loop stops.
struct Bounds {
    times: Option<u64>,
    span: Option<Duration>,
    every: Option<Duration>,
}

impl Runner<'_> {
    /// Runs the loop; true when it failed only through steps that continue on failure.
    pub(super) async fn repeat(&mut self, repeat: &RepeatPlan, body: &[StepPlan], out: &mut StepResult) -> bool {
        let bounds = match self.bounds(repeat) {
            Ok(b) => b,
            Err(e) => {
                self.fail(out, e);
                return false;
            }
        };
        let mut halted = false;
        let outer = self.state.iteration;
        let start = Instant::now();
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
                    () = tokio::time::sleep_until(due) => {}
                    () = self.shared.cancel.cancelled() => {
                        out.status = Status::Interrupted;
                        break;
                    }
                }
            }
            let began = Instant::now();
            self.state.iteration = Some(n);
            let (steps, status, stopped) = self.steps(body).await;
            out.iterations.push(Iteration {
                iteration: n,
                lateness_ms: bounds.every.map(|_| ms(began - due)),
                elapsed_ms: ms(began.elapsed()),
                status,
                steps,
            });
            if status != Status::Passed && out.status != Status::Interrupted {
                out.status = status;
            }
            if stopped {
                halted = true;
                break;
            }
        }
        self.state.iteration = outer;
        if out.status == Status::Failed {
            out.error = out.iterations.iter().rev().find_map(|i| first_error(&i.steps));
        }
        out.status == Status::Failed && !halted
    }

    fn bounds(&self, repeat: &RepeatPlan) -> Result<Bounds, String> {
        let times = match &repeat.times {
            None => None,
            Some(Resolved::Fixed(n)) => Some(*n),
            Some(Resolved::Template(t)) => {
                let value = self.state.render(self.shared, &ValuePlan::Template(t.clone()))?;
                let n = match &value {
                    serde_json::Value::String(s) => s.trim().parse::<u64>().ok(),
                    other => other.as_u64(),
                };
                let n = n.ok_or_else(|| format!("`times: {}` renders to {value}, not a whole number", t.source))?;
                Some(count_within_limit(n).map_err(|e| format!("`times: {}`: {e}", t.source))?)
            }
        };
        let span = repeat
            .for_
            .as_ref()
            .map(|d| self.state.duration(self.shared, d))
            .transpose()?;
        let every = repeat
            .every
            .as_ref()
            .map(|d| self.state.duration(self.shared, d))
            .transpose()?;
        if every.is_some_and(|e| e.is_zero()) {
            return Err("`every` renders to zero".into());
        }
        Ok(Bounds { times, span, every })
    }
}
