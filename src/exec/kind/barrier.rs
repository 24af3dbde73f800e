//! `barrier`: wait until every party has arrived; a barrier that can no longer open releases
//! its waiters with the reason.

use std::time::Duration;

use super::{Attempt, Leaf, Outcome};
use crate::exec::barriers::Released;
use crate::exec::ctx::Ctx;
use crate::exec::error::StepError;
use crate::plan::step::Barrier;

/// How long a barrier waits when its step sets no `timeout`.
const BARRIER_TIMEOUT: Duration = Duration::from_secs(300);

impl Leaf for Barrier {
    async fn run(&self, ctx: &mut Ctx<'_>, attempt: &Attempt<'_>) -> Result<Outcome, StepError> {
        let limit = attempt.deadline.unwrap_or(BARRIER_TIMEOUT);
        let shared = ctx.shared;
        match shared.barriers.wait(&self.barrier, limit, &shared.cancel).await {
            Ok(()) => Ok(Outcome::Done),
            Err(Released::Interrupted) => Err(StepError::Interrupted),
            Err(Released::Broken(reason)) => Err(StepError::Barrier(reason)),
        }
    }
}
