//! `notify`: a JSON-RPC notification, which the server takes with a 202.

use super::{Message, send_message};
use crate::exec::ctx::Ctx;
use crate::exec::error::StepError;
use crate::exec::kind::{Attempt, Leaf, Outcome};
use crate::plan::step::Notify;

impl Leaf for Notify {
    async fn run(&self, ctx: &mut Ctx<'_>, attempt: &Attempt<'_>) -> Result<Outcome, StepError> {
        send_message(ctx, attempt, &self.message, Message::Notify).await
    }
}
