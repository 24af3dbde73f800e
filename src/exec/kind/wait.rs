//! `wait`: sleep.

use super::{Attempt, Leaf, Outcome};
use crate::exec::ctx::Ctx;
use crate::exec::error::StepError;
use crate::plan::step::Wait;

impl Leaf for Wait {
    async fn run(&self, ctx: &mut Ctx<'_>, _: &Attempt<'_>) -> Result<Outcome, StepError> {
        tokio::time::sleep(ctx.duration(&self.duration)?).await;
        Ok(Outcome::Done)
    }
}
