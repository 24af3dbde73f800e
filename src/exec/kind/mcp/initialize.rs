//! `initialize`: the handshake, kept so that `on_expired: reinitialize` can repeat it.

use serde_json::{Value, json};

use super::{Answered, connection_for, life, open};
use crate::exec::ctx::Ctx;
use crate::exec::error::StepError;
use crate::exec::kind::{Attempt, Leaf, Outcome};
use crate::exec::session::{Handshake, Opened};
use crate::plan::ClientInfoPlan;
use crate::plan::step::Initialize;

impl Leaf for Initialize {
    async fn run(&self, ctx: &mut Ctx<'_>, attempt: &Attempt<'_>) -> Result<Outcome, StepError> {
        let plan = &*self.connection.plan;
        let handshake = Handshake {
            protocol_version: plan.protocol_version.as_str().to_string(),
            capabilities: ctx.render(self.capabilities.as_ref().unwrap_or(&plan.capabilities))?,
            client_info: client_info(ctx, self.client_info.as_ref().unwrap_or(&plan.client_info))?,
        };
        let shared = ctx.shared;
        let metrics = &shared.metrics;
        let client = ctx.actor.clone();
        let connection = connection_for(ctx, &self.connection).await?;
        let answer = open(&mut connection.client, &handshake).await?;
        connection.handshake = Some(handshake);
        let opened = Opened::of(&connection.client);
        let session = opened.id.clone();
        if answer.result.is_some() {
            life::opened(connection, metrics, &client, false);
            ctx.opened(opened);
        }
        Ok(Answered::new(answer, session, None).into_outcome(ctx, attempt))
    }
}

/// `clientInfo`: the given fields, `runner` and its version for the rest.
fn client_info(ctx: &Ctx<'_>, info: &ClientInfoPlan) -> Result<Value, StepError> {
    let name = match &info.name {
        Some(n) => ctx.render_text(n)?,
        None => "runner".into(),
    };
    let version = match &info.version {
        Some(v) => ctx.render_text(v)?,
        None => env!("CARGO_PKG_VERSION").into(),
    };
    Ok(json!({ "name": name, "version": version }))
}
