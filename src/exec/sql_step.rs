//! The `sql` step: the query on the connection's shared pool, its values bound as parameters.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::time::Instant;

use super::event::{Event, Exchange};
use super::step::{Miss, Runner, ms};
use crate::mask::mask_url;
use crate::plan::{Action, ConnectionKind, SqlConnectionPlan, SqlQuery, StepPlan};
use crate::proto::sql::{Durability, Options, SqlError};

impl Runner<'_> {
    /// Runs the step's query; the result document is `{rows, row_count, columns, elapsed_ms}`.
    /// The query keeps its own deadline (the step's, else the connection's `timeout`), so that
    /// one past it is cancelled on the server rather than abandoned.
    pub(super) async fn sql(&mut self, step: &StepPlan, deadline: Option<Duration>) -> Result<Value, Miss> {
        let Action::Sql {
            connection,
            query,
            params,
        } = &step.action
        else {
            unreachable!("called for sql steps only");
        };
        let Some(ConnectionKind::Sql(plan)) = self.shared.plan.connection(connection).map(|c| &c.kind) else {
            return Err(Miss::Failed(format!("`{connection}` is not a SQL connection")));
        };
        let url = self.state.render_text(self.shared, &plan.url).map_err(Miss::Failed)?;
        let values = params
            .iter()
            .enumerate()
            .map(|(i, p)| {
                self.state
                    .render(self.shared, p)
                    .map_err(|e| Miss::Failed(format!("`params[{i}]`: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let sent_at = chrono::Utc::now();
        let started = Instant::now();
        let answer = match self.shared.databases.get(connection, &url, options(plan)) {
            Ok(database) => database
                .query(&query.text, &values, deadline.unwrap_or(plan.timeout))
                .await
                .map(|a| json!({"rows": a.rows, "row_count": a.row_count, "columns": a.columns, "elapsed_ms": ms(started.elapsed())})),
            Err(e) => Err(e),
        };
        if answer.is_ok() {
            self.latency.record(&step.name, started.elapsed());
        }
        let masked = mask_url(&url);
        self.shared.emit(Event::Exchange(Box::new(Exchange {
            actor: self.state.actor.clone(),
            step: step.name.as_str().into(),
            sent_at,
            request: json!({"connection": connection, "url": masked, "query": query.text, "params": values}),
            response: match &answer {
                Ok(document) => document.clone(),
                Err(e) => json!({ "error": e.to_string() }),
            },
        })));
        answer.map_err(|e| {
            let reason = self.sql_failure(&e, connection, &masked, query);
            match e.heals_by_waiting() {
                true => Miss::Failed(reason),
                false => Miss::Lasting(reason),
            }
        })
    }

    /// A failure in words: the connection and its (masked) URL when it could not be reached, the
    /// place in the file when the server points into the query.
    fn sql_failure(&self, e: &SqlError, connection: &str, masked_url: &str, query: &SqlQuery) -> String {
        match e {
            SqlError::Url(_) | SqlError::Connect(_) | SqlError::Auth(_) | SqlError::NoDatabase(_) => {
                format!("`{connection}` ({masked_url}): {e}")
            }
            SqlError::Query {
                position: Some(position),
                ..
            } => match query.place(*position) {
                Some(at) => format!("{e}, in the query at {}", self.place(at)),
                None => format!("{e}, at character {position} of the query"),
            },
            _ => e.to_string(),
        }
    }
}

fn options(plan: &SqlConnectionPlan) -> Options {
    Options {
        pool_size: plan.pool_size,
        connect_timeout: plan.connect_timeout,
        durability: Durability::Default,
    }
}
