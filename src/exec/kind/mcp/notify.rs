//! `notify`: a JSON-RPC notification, which the server takes with a 202.

use super::{Message, send};
use crate::exec::ctx::Ctx;
use crate::exec::error::StepError;
use crate::exec::kind::{Attempt, Leaf, Outcome};
use crate::plan::step::Notify;

impl Leaf for Notify {
    async fn run(&self, ctx: &mut Ctx<'_>, attempt: &Attempt<'_>) -> Result<Outcome, StepError> {
        let step = &self.message;
        let method = ctx.render_text(&step.method)?;
        let params = step.params.as_ref().map(|p| ctx.render(p)).transpose()?;
        send(
            ctx,
            attempt,
            &step.connection,
            Message::Notify(method, params),
            step.session_id.as_ref(),
        )
        .await
    }
}
