//! `group`: a named block of steps, run in order like a client's own.

use super::{Nested, Ran};
use crate::exec::ctx::Ctx;
use crate::exec::result::StepResult;
use crate::plan::step::Group;

/// Runs the block; true when it failed only through steps that continue on failure.
pub async fn run(ctx: &mut Ctx<'_>, group: &Group, out: &mut StepResult) -> bool {
    let Ran {
        results,
        status,
        halted,
    } = ctx.steps(&group.steps).await;
    out.steps = results;
    out.status = status;
    out.error = StepResult::first_error(&out.steps);
    out.status.failed() && !halted
}
