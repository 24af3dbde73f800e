//! `sql`: the query on the connection's shared pool, its values bound as parameters.

use serde_json::json;
use tokio::time::Instant;

use super::{Attempt, Leaf, Outcome};
use crate::duration_text::millis;
use crate::exec::ctx::Ctx;
use crate::exec::error::StepError;
use crate::exec::metrics;
use crate::mask::mask_url;
use crate::plan::SqlConnectionPlan;
use crate::plan::step::Sql;
use crate::proto::sql::{Durability, Options, SqlError};

/// The result document is `{rows, row_count, columns, elapsed_ms}`. The query keeps its own
/// deadline (the step's, else the connection's `timeout`), so that one past it is cancelled on
/// the server rather than abandoned.
impl Leaf for Sql {
    async fn run(&self, ctx: &mut Ctx<'_>, attempt: &Attempt<'_>) -> Result<Outcome, StepError> {
        let plan = &*self.connection.plan;
        let url = ctx.render_text(&plan.url)?;
        let values = (self.params.iter().enumerate())
            .map(|(index, p)| ctx.render(p).map_err(|source| StepError::Param { index, source }))
            .collect::<Result<Vec<_>, _>>()?;
        let sent_at = chrono::Utc::now();
        let started = Instant::now();
        let name = &*self.connection.name;
        let answer = match ctx.shared.databases.get(name, &url, options(plan)) {
            Ok(database) => (database.query(&self.query.text, &values, attempt.deadline.unwrap_or(plan.timeout)))
                .await
                .map(|a| json!({"rows": a.rows, "row_count": a.row_count, "columns": a.columns, "elapsed_ms": millis(started.elapsed())})),
            Err(e) => Err(e),
        };
        if answer.is_ok() {
            (ctx.shared.metrics).answered(attempt.step, started.elapsed(), metrics::Answer::default());
        }
        let rows = answer.as_ref().ok().map(|document| &document["rows"]);
        ctx.named_sessions = ctx.shared.metrics.sessions_named(values.iter().chain(rows));
        let masked = mask_url(&url);
        let request = json!({"connection": name, "url": masked, "query": self.query.text, "params": values});
        let response = match &answer {
            Ok(document) => document.clone(),
            Err(e) => json!({ "error": e.to_string() }),
        };
        ctx.exchanged(attempt.step, sent_at, request, response);
        answer.map(Outcome::Result).map_err(|e| StepError::Sql {
            reason: failure(ctx, self, &e, &masked),
            lasting: !e.heals_by_waiting(),
        })
    }
}

/// A failure in words: the connection and its (masked) URL when it could not be reached, the
/// place in the file when the server points into the query.
fn failure(ctx: &Ctx<'_>, sql: &Sql, e: &SqlError, masked_url: &str) -> String {
    match e {
        SqlError::Url(_) | SqlError::Connect(_) | SqlError::Auth(_) | SqlError::NoDatabase(_) => {
            format!("`{}` ({masked_url}): {e}", sql.connection)
        }
        SqlError::Query {
            position: Some(position),
            ..
        } => match sql.query.place(*position) {
            Some(at) => format!("{e}, in the query at {}", ctx.place(at)),
            None => format!("{e}, at character {position} of the query"),
        },
        _ => e.to_string(),
    }
}

fn options(plan: &SqlConnectionPlan) -> Options {
    Options {
        pool_size: plan.pool_size,
        connect_timeout: plan.connect_timeout,
        durability: Durability::Default,
    }
}
