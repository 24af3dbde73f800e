//! A leaf step's attempts: the kind's run under the step's deadline, then its assertions and
//! captures, polled under `retry`. Every leaf kind is wrapped the same way.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::time::Instant;

use super::ctx::Ctx;
use super::error::StepError;
use super::kind::{Attempt, Leaf, Outcome, mcp};
use super::result::{Status, StepResult};
use super::timeline::MarkKind;
use crate::assert::{self, AssertionResult};
use crate::duration_text::{format_duration, millis};
use crate::kind::Kind;
use crate::plan::StepPlan;

/// Runs the step until its assertions hold, or once without `retry`, and counts how it ended.
/// Returns false: a leaf holds no nested steps whose failure it could contain (see `group` and
/// `repeat`).
pub async fn run<A: Leaf>(ctx: &mut Ctx<'_>, step: &StepPlan, action: &A, out: &mut StepResult) -> bool {
    let began = Instant::now();
    let lane = own_lane(ctx, step);
    let failure = attempts(ctx, step, action, out).await.err();
    let named = std::mem::take(&mut ctx.named_sessions);
    // A step the run's stop cut short neither held nor failed.
    if out.status != Status::Interrupted {
        ctx.shared.metrics.ended(&step.name, failure);
        let marks = Marks { lane, named, began };
        mark_timeline(ctx, step, marks, failure.is_some());
    }
    false
}

/// Where a step goes on the timeline, as [`mark_timeline`] marks it.
struct Marks {
    /// Its session's lane when it began.
    lane: Option<u64>,
    /// The sessions its last attempt named.
    named: Vec<u64>,
    began: Instant,
}

/// The timeline lane of the session a step sends on: its connection's own (ended or not),
/// unless it chose one with `session_id:`. A handshake starts a lane rather than marking one.
fn own_lane(ctx: &Ctx<'_>, step: &StepPlan) -> Option<u64> {
    let sends = matches!(
        step.action.kind(),
        Kind::Call | Kind::Request | Kind::Notify | Kind::Close
    );
    if !sends || step.action.chosen_session().is_some() {
        return None;
    }
    ctx.mcp.by_connection.get(&step.action.mcp_connection()?.name)?.lane
}

/// Marks the step on the timeline: on the lane its session had when it began and, when the
/// session was opened again on the way, on the new one; an SQL step on each session it named,
/// and a step with `session_id:` on the session it chose.
fn mark_timeline(ctx: &Ctx<'_>, step: &StepPlan, marks: Marks, failed: bool) {
    let metrics = &ctx.shared.metrics;
    if let Some(lane) = marks.lane {
        metrics.session_marked(lane, &step.name, MarkKind::Call, marks.began, failed);
        let now = own_lane(ctx, step).filter(|&now| now != lane);
        if let Some(now) = now {
            metrics.session_marked(now, &step.name, MarkKind::Call, marks.began, failed);
        }
    }
    let kind = match step.action.kind() {
        Kind::Sql => MarkKind::Check,
        _ => MarkKind::Call,
    };
    for named in marks.named {
        metrics.session_marked(named, &step.name, kind, marks.began, failed);
    }
}

/// The attempts, until one holds or the last has failed; a failure's class when it did not hold.
async fn attempts<A: Leaf>(
    ctx: &mut Ctx<'_>,
    step: &StepPlan,
    action: &A,
    out: &mut StepResult,
) -> Result<(), &'static str> {
    let retry = match &step.retry {
        Some(r) => match (ctx.duration(&r.within), ctx.duration(&r.every)) {
            (Ok(within), Ok(every)) => Some((within, every)),
            (Err(e), _) | (_, Err(e)) => {
                let error = StepError::from(e);
                out.fail(&ctx.place(step.at), &error);
                return Err(error.class());
            }
        },
        None => None,
    };
    let first = Instant::now();
    loop {
        out.attempts += 1;
        // An attempt may not outlast the retry window.
        let window = retry.map(|(within, _)| within.saturating_sub(first.elapsed()));
        let error = match once(ctx, step, action, out, window).await {
            Ok(()) => {
                if retry.is_some() {
                    out.time_to_success_ms = Some(millis(first.elapsed()));
                }
                out.status = Status::Passed;
                out.error = None;
                return Ok(());
            }
            Err(StepError::Interrupted) => return Err(interrupted(out)),
            Err(error) => error,
        };
        let Some((within, every)) = retry else {
            out.fail(&ctx.place(step.at), &error);
            return Err(error.class());
        };
        if !error.heals_by_waiting() {
            out.fail(
                &ctx.place(step.at),
                format_args!("{error} (not retried: waiting cannot change this)"),
            );
            return Err(error.class());
        }
        if first.elapsed() + every > within {
            let tries = match out.attempts {
                1 => "1 attempt".to_string(),
                n => format!("{n} attempts"),
            };
            let within = format_duration(within);
            out.fail(
                &ctx.place(step.at),
                format_args!("{error} (still after {tries} within {within})"),
            );
            return Err(error.class());
        }
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            () = ctx.shared.cancel.cancelled() => return Err(interrupted(out)),
        }
    }
}

fn interrupted(out: &mut StepResult) -> &'static str {
    let error = StepError::Interrupted;
    out.status = Status::Interrupted;
    out.error = Some(error.to_string());
    error.class()
}

/// One attempt: the kind's run under the step's deadline, then its assertions and captures.
async fn once<A: Leaf>(
    ctx: &mut Ctx<'_>,
    step: &StepPlan,
    action: &A,
    out: &mut StepResult,
    window: Option<Duration>,
) -> Result<(), StepError> {
    let timeout = step.timeout.as_ref().map(|t| ctx.duration(t)).transpose()?;
    let deadline = match (timeout, window) {
        (Some(t), Some(w)) => Some(t.min(w)),
        (t, w) => t.or(w),
    };
    let attempt = Attempt {
        step: &step.name,
        deadline,
    };
    let cancel = ctx.shared.cancel.clone();
    let own_deadline = step.action.kind().row().keeps_own_deadline;
    let outcome = {
        // Boxed, so that a client's task is as large as the step it is in, not as the largest
        // kind: 10,000 clients idle in a `wait` would each hold room for an MCP exchange.
        let running = Box::pin(action.run(ctx, &attempt));
        match deadline {
            Some(limit) if !own_deadline => tokio::select! {
                r = tokio::time::timeout(limit, running) => r.unwrap_or(Err(StepError::TimedOut(limit))),
                () = cancel.cancelled() => Err(StepError::Interrupted),
            },
            _ => tokio::select! {
                r = running => r,
                () = cancel.cancelled() => Err(StepError::Interrupted),
            },
        }
    };
    let outcome = outcome.map(|outcome| match outcome {
        Outcome::Done => None,
        Outcome::Result(document) => Some((Arc::new(document), None)),
        Outcome::Answer { document, required } => Some((Arc::new(document), Some(required))),
    });
    if let Some(connection) = step.action.mcp_connection() {
        // After the run, also when it was dropped, so that its requests are all there.
        let unanswered = match &outcome {
            Err(e) => e.to_string(),
            Ok(_) => "no answer".into(),
        };
        let document = outcome
            .as_ref()
            .ok()
            .and_then(Option::as_ref)
            .map(|(document, _)| document);
        mcp::transcribe(ctx, &step.name, connection, &unanswered, document);
    }
    let Some((document, required)) = outcome? else {
        return Ok(());
    };
    let held = check(ctx, step, &document, required, out).and_then(|()| capture(ctx, step, &document));
    // The scope lets go of `result`, so that a failed attempt's document is moved, not copied.
    ctx.forget_result();
    // A failed attempt keeps its answer in the result file, to show what was wrong; a passing
    // one's answer is in the transcript, and thousands of clients need not hold it.
    if let Err(e) = held {
        out.result = Some(Arc::unwrap_or_clone(document));
        return Err(e);
    }
    out.result = None;
    ctx.set_last(document);
    Ok(())
}

/// The step's assertions on its result; without `expect`, what its kind requires of an answer
/// (an MCP step's), which counts as an assertion like any other.
fn check(
    ctx: &mut Ctx<'_>,
    step: &StepPlan,
    document: &Arc<Value>,
    required: Option<Result<(), StepError>>,
    out: &mut StepResult,
) -> Result<(), StepError> {
    if step.expect.is_empty() {
        if let Some(required) = required {
            ctx.assertions_run += 1;
            return required;
        }
        return Ok(());
    }
    let scope = ctx.context(Some(document));
    let templates = &ctx.shared.plan.templates;
    let results: Vec<AssertionResult> = (step.expect.iter())
        .flat_map(|a| assert::check(a, document, templates, &scope))
        .collect();
    ctx.assertions_run += results.len() as u64;
    let failure = results.iter().find(|r| !r.passed).map(|r| StepError::Assertion {
        text: (r.message.clone()).unwrap_or_else(|| format!("{} does not hold", r.assertion)),
        place: ctx.place(r.at),
    });
    out.assertions = results;
    failure.map_or(Ok(()), Err)
}

/// The step's `save:` captures on its result.
fn capture(ctx: &mut Ctx<'_>, step: &StepPlan, document: &Arc<Value>) -> Result<(), StepError> {
    if step.save.is_empty() {
        return Ok(());
    }
    let scope = ctx.context(Some(document));
    for save in &step.save {
        let value =
            assert::capture(save, document, &ctx.shared.plan.templates, &scope).map_err(|e| StepError::Save {
                name: save.name.clone(),
                reason: e.to_string(),
            })?;
        ctx.save(&save.name, value);
    }
    Ok(())
}
