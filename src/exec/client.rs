//! One client instance from start to end, and the once-only phases that run like one.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::ctx::Ctx;
use super::event::{Actor, Event};
use super::kind::{Ran, mcp};
use super::result::{ClientResult, Status, StepResult};
use super::shared::Shared;
use super::step::run_steps;
use crate::duration_text::millis;
use crate::plan::{StepPlan, ValuePlan, zero_counts};

/// Who a client is and when it starts.
pub struct Instance {
    /// The group's name, or `before` / `after`.
    pub group: Arc<str>,
    /// 1-based id within the group.
    pub client_id: u64,
    /// 0-based position among every instance.
    pub index: u64,
    /// Delay before its first step.
    pub delay: std::time::Duration,
    /// Whether its first exchanges go to the transcript whatever its steps do: every client's
    /// do, but only the first arrivals' of an arrival group, or a steady load of new instances
    /// would write its every exchange.
    pub shows_first: bool,
}

/// What a finished client hands back besides its result: tallies for the scenario.
pub struct Finished {
    /// The result file's content.
    pub result: ClientResult,
    /// Assertions it ran.
    pub assertions_run: u64,
}

/// Runs one client instance (or phase) through its steps, then renders its `record:` fields.
pub async fn run(
    shared: Arc<Shared>,
    instance: Instance,
    steps: &[StepPlan],
    record: &[(String, ValuePlan)],
    clients: Option<Value>,
) -> Finished {
    let actor = Actor {
        scenario: shared.scenario.clone(),
        group: instance.group.clone(),
        client_id: instance.client_id,
    };
    let cancelled = tokio::select! {
        () = tokio::time::sleep(instance.delay) => false,
        () = shared.cancel.cancelled() => true,
    };
    let started_at = chrono::Utc::now();
    // `before:` and `after:` are no client instances: they run alone, and the live view counts
    // the clients.
    let phase = !shared.plan.groups.iter().any(|g| *g.name == *instance.group);
    let _running = (!cancelled && !phase).then(|| shared.metrics.instance_started(instance.group.clone()));
    let mut ctx = Ctx::new(&shared, actor.clone(), instance.index, clients);
    if !instance.shows_first {
        ctx.skip_first_exchanges();
    }
    ctx.start_counts(zero_counts(steps));
    let Ran {
        results, mut status, ..
    } = if cancelled {
        Ran {
            results: Vec::new(),
            status: Status::Interrupted,
            halted: true,
        }
    } else {
        run_steps(&mut ctx, steps).await
    };
    mcp::life::left(ctx.mcp.by_connection.values().map(|c| &**c), &shared.metrics);
    let mut error = StepResult::first_error(&results);
    let record = render_record(&ctx, record, &mut status, &mut error);
    let who = format!("{} #{}", instance.group, instance.client_id);
    shared.barriers.leave(&instance.group, &who, status == Status::Failed);
    shared
        .emit(Event::ClientFinished {
            actor,
            passed: status.passed(),
        })
        .await;
    let session_id = ctx.mcp.current.clone();
    let session_ids = ctx.mcp.ids.clone();
    let reinitialized = ctx.mcp.reinitialized;
    let (start_ms, elapsed_ms) = (millis(ctx.started - shared.started), millis(ctx.started.elapsed()));
    let assertions_run = ctx.assertions_run;
    let (vars, counts) = ctx.into_tallies();
    Finished {
        result: ClientResult {
            client_id: instance.client_id,
            group: instance.group.to_string(),
            index: instance.index,
            status,
            success: status.passed(),
            session_id,
            session_ids,
            reinitialized,
            started_at,
            start_ms,
            elapsed_ms,
            error,
            vars,
            counts,
            record,
            steps: results,
        },
        assertions_run,
    }
}

fn render_record(
    ctx: &Ctx<'_>,
    record: &[(String, ValuePlan)],
    status: &mut Status,
    error: &mut Option<String>,
) -> Map<String, Value> {
    let mut out = Map::new();
    for (name, value) in record {
        match ctx.render(value) {
            Ok(v) => {
                out.insert(name.clone(), v);
            }
            Err(e) => {
                out.insert(name.clone(), Value::Null);
                if *status == Status::Passed {
                    *status = Status::Failed;
                    *error = Some(format!("record `{name}`: {e}"));
                }
            }
        }
    }
    out
}
