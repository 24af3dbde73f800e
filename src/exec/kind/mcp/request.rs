//! `request`: any JSON-RPC request, answered by the server.

use super::{Message, send_message};
use crate::exec::ctx::Ctx;
use crate::exec::error::StepError;
use crate::exec::kind::{Attempt, Leaf, Outcome};
use crate::plan::step::Request;

impl Leaf for Request {
    async fn run(&self, ctx: &mut Ctx<'_>, attempt: &Attempt<'_>) -> Result<Outcome, StepError> {
        send_message(ctx, attempt, &self.message, Message::Request).await
    }
}
