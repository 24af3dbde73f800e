//! `forget`: drop the session without telling the server, as a crashed client would.

use super::life;
use crate::exec::ctx::Ctx;
use crate::exec::error::StepError;
use crate::exec::kind::{Attempt, Leaf, Outcome};
use crate::plan::step::Forget;

impl Leaf for Forget {
    async fn run(&self, ctx: &mut Ctx<'_>, _: &Attempt<'_>) -> Result<Outcome, StepError> {
        if let Some(connection) = ctx.mcp.by_connection.remove(&self.connection.name) {
            life::left([&*connection], &ctx.shared.metrics);
        }
        Ok(Outcome::Done)
    }
}
