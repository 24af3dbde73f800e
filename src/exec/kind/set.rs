//! `set`: assign variables, in order, so that a value may read the ones before it.

use super::{Attempt, Leaf, Outcome};
use crate::exec::ctx::Ctx;
use crate::exec::error::StepError;
use crate::plan::step::Set;

impl Leaf for Set {
    async fn run(&self, ctx: &mut Ctx<'_>, _: &Attempt<'_>) -> Result<Outcome, StepError> {
        for (name, value) in &self.vars {
            let value = ctx.render(value).map_err(|source| StepError::Set {
                name: name.clone(),
                source,
            })?;
            ctx.save(name, value);
        }
        Ok(Outcome::Done)
    }
}
