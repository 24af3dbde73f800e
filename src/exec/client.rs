//! One client instance from start to end, and the once-only phases that run like one.

use std::sync::Arc;

use serde_json::{Map, Value};
use tokio::time::Instant;

use super::context::{ClientState, Shared};
use super::event::{Actor, Event};
use super::outcome::{ClientResult, Status};
use super::step::{Runner, first_error, ms};
use crate::plan::{StepPlan, ValuePlan};

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
}

/// What a finished client hands back besides its result: tallies for the scenario.
pub struct Finished {
    /// The result file's content.
    pub result: ClientResult,
    /// Assertions it ran.
    pub assertions_run: u64,
    /// Latencies of its requests.
    pub latency: crate::exec::latency::LatencyRecorder,
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
    let started = Instant::now();
    let mut state = ClientState {
        actor: actor.clone(),
        index: instance.index,
        started,
        saved: Map::new(),
        counts: crate::plan::zero_counts(steps),
        last: None,
        iteration: None,
        clients,
        http: None,
        http_connections: Default::default(),
        mcp: Default::default(),
    };
    state.saved.extend(shared.before_saved().clone());
    let mut runner = Runner {
        shared: &shared,
        state,
        assertions_run: 0,
        latency: Default::default(),
    };
    let (steps, mut status, _) = if cancelled {
        (Vec::new(), Status::Interrupted, true)
    } else {
        runner.steps(steps).await
    };
    let mut error = first_error(&steps);
    let record = render_record(&runner, record, &mut status, &mut error);
    let who = format!("{} #{}", instance.group, instance.client_id);
    shared.barriers.leave(&instance.group, &who, status == Status::Failed);
    shared.emit(Event::ClientFinished {
        actor: actor.clone(),
        passed: status.passed(),
    });
    let Runner {
        state,
        assertions_run,
        latency,
        ..
    } = runner;
    Finished {
        result: ClientResult {
            client_id: instance.client_id,
            group: instance.group.to_string(),
            index: instance.index,
            status,
            success: status.passed(),
            session_id: state.mcp.current.clone(),
            session_ids: state.mcp.ids.clone(),
            reinitialized: state.mcp.reinitialized,
            started_at,
            start_ms: ms(started - shared.started),
            elapsed_ms: ms(started.elapsed()),
            error,
            vars: state.saved,
            counts: state.counts,
            record,
            steps,
        },
        assertions_run,
        latency,
    }
}

fn render_record(
    runner: &Runner<'_>,
    record: &[(String, ValuePlan)],
    status: &mut Status,
    error: &mut Option<String>,
) -> Map<String, Value> {
    let mut out = Map::new();
    for (name, value) in record {
        match runner.state.render(runner.shared, value) {
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
