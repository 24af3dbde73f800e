//! Running steps: a list in order, and one step by its kind. `group` and `repeat` run their
//! nested steps; every other kind runs in [`attempt`](super::attempt)s.

use futures_util::future::BoxFuture;
use tokio::time::Instant;

use super::attempt;
use super::ctx::Ctx;
use super::event::Event;
use super::kind::{Nested, Ran, group, repeat};
use super::result::{Status, StepResult};
use crate::duration_text::millis;
use crate::plan::{Action, StepPlan};

impl Nested for Ctx<'_> {
    fn steps<'s>(&'s mut self, steps: &'s [StepPlan]) -> BoxFuture<'s, Ran> {
        Box::pin(run_list(self, steps, false))
    }
}

/// Runs a client's own steps in order; a failed step stops the list unless it continues on
/// failure.
pub async fn run_steps(ctx: &mut Ctx<'_>, steps: &[StepPlan]) -> Ran {
    run_list(ctx, steps, true).await
}

/// Runs steps in order; `own` when they are the client's list, whose position the progress
/// shows (a nested step shows the position of the step it is in).
async fn run_list(ctx: &mut Ctx<'_>, steps: &[StepPlan], own: bool) -> Ran {
    let mut ran = Ran {
        results: Vec::with_capacity(steps.len()),
        status: Status::Passed,
        halted: false,
    };
    for (index, step) in steps.iter().enumerate() {
        if own {
            ctx.set_step(index, steps.len());
        }
        let (result, contained) = run_step(ctx, step).await;
        let status = result.status;
        ran.results.push(result);
        match status {
            Status::Passed => {}
            Status::Interrupted => {
                ran.status = Status::Interrupted;
                ran.halted = true;
                return ran;
            }
            Status::Failed => {
                ran.status = Status::Failed;
                if !step.continue_on_failure && !contained {
                    ran.halted = true;
                    return ran;
                }
            }
        }
    }
    ran
}

/// Runs one step. The flag is true when the step failed only through nested steps that
/// continue on failure: the failure counts, but does not stop the enclosing list.
async fn run_step(ctx: &mut Ctx<'_>, step: &StepPlan) -> (StepResult, bool) {
    ctx.shared
        .emit(Event::StepStarted {
            actor: ctx.actor.clone(),
            step: step.name.as_str().into(),
            at: ctx.position(),
        })
        .await;
    let started = Instant::now();
    let mut out = StepResult::new(&step.name, step.action.kind(), step.at, millis(started - ctx.started));
    let contained = match &step.action {
        Action::Group(a) => group::run(ctx, a, &mut out).await,
        Action::Repeat(a) => match repeat::run(ctx, a, &mut out).await {
            Ok(contained) => contained,
            Err(e) => {
                out.fail(&ctx.place(step.at), e);
                false
            }
        },
        Action::Initialize(a) => attempt::run(ctx, step, a, &mut out).await,
        Action::Call(a) => attempt::run(ctx, step, a, &mut out).await,
        Action::Request(a) => attempt::run(ctx, step, a, &mut out).await,
        Action::Notify(a) => attempt::run(ctx, step, a, &mut out).await,
        Action::Close(a) => attempt::run(ctx, step, a, &mut out).await,
        Action::Forget(a) => attempt::run(ctx, step, a, &mut out).await,
        Action::Http(a) => attempt::run(ctx, step, a, &mut out).await,
        Action::Sql(a) => attempt::run(ctx, step, a, &mut out).await,
        Action::Wait(a) => attempt::run(ctx, step, a, &mut out).await,
        Action::Barrier(a) => attempt::run(ctx, step, a, &mut out).await,
        Action::Set(a) => attempt::run(ctx, step, a, &mut out).await,
        Action::Check(a) => attempt::run(ctx, step, a, &mut out).await,
    };
    if out.status.passed() {
        ctx.count_success(&step.name);
    }
    out.elapsed_ms = millis(started.elapsed());
    // A leaf's exchanges wait for this; a group's and a loop's were sent by their nested steps.
    ctx.step_ended(out.status).await;
    (out, contained)
}
