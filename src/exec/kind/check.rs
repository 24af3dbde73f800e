//! `check`: a template on variables that must render true; it counts as an assertion.

use super::{Attempt, Leaf, Outcome};
use crate::assert;
use crate::exec::ctx::Ctx;
use crate::exec::error::StepError;
use crate::plan::step::Check;

impl Leaf for Check {
    async fn run(&self, ctx: &mut Ctx<'_>, _: &Attempt<'_>) -> Result<Outcome, StepError> {
        ctx.assertions_run += 1;
        let scope = ctx.context(None);
        match assert::predicate(&self.that, &ctx.shared.plan.templates, &scope) {
            Ok(true) => Ok(Outcome::Done),
            Ok(false) => Err(StepError::CheckFalse(self.that.source.clone())),
            Err(e) => Err(StepError::Check(e.to_string())),
        }
    }
}
