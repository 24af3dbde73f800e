//! `call`: `tools/call` with the tool's name and arguments.

use serde_json::json;

use super::{Message, send};
use crate::exec::ctx::Ctx;
use crate::exec::error::StepError;
use crate::exec::kind::{Attempt, Leaf, Outcome};
use crate::plan::step::Call;

impl Leaf for Call {
    async fn run(&self, ctx: &mut Ctx<'_>, attempt: &Attempt<'_>) -> Result<Outcome, StepError> {
        let params = json!({ "name": ctx.render(&self.tool)?, "arguments": ctx.render(&self.arguments)? });
        let message = Message::Request("tools/call".into(), Some(params));
        send(ctx, attempt, &self.connection, message, self.session_id.as_ref()).await
    }
}
