//! `close`: DELETE the session.

use super::{Message, send};
use crate::exec::ctx::Ctx;
use crate::exec::error::StepError;
use crate::exec::kind::{Attempt, Leaf, Outcome};
use crate::plan::step::Close;

impl Leaf for Close {
    async fn run(&self, ctx: &mut Ctx<'_>, attempt: &Attempt<'_>) -> Result<Outcome, StepError> {
        send(ctx, attempt, &self.connection, Message::Close, self.session_id.as_ref()).await
    }
}
