//! One step: its action under its deadline, its assertions and captures, polled under `retry`.

use std::time::Duration;

use tokio::time::Instant;

use serde_json::Value;

use super::context::{ClientState, Shared};
use super::event::Event;
use super::outcome::{Status, StepResult};
use crate::assert::{self, AssertionResult};
use crate::duration_text::format_duration;
use crate::plan::{Action, StepPlan};

/// How long a barrier waits when its step sets no `timeout`.
pub const BARRIER_TIMEOUT: Duration = Duration::from_secs(300);

/// Why an attempt did not hold.
pub(super) enum Miss {
    /// The action failed or an assertion did not hold.
    Failed(String),
    /// The action failed in a way no later attempt can change (an SQL syntax error, an
    /// undefined table): a `retry` stops at once rather than poll out its window.
    Lasting(String),
    /// Ctrl-C.
    Interrupted,
}

/// A client running its steps: the shared facts, its own state, and the tally of assertions.
pub struct Runner<'a> {
    /// Run-wide facts.
    pub shared: &'a Shared,
    /// The client's state.
    pub state: ClientState,
    /// Assertions run so far.
    pub assertions_run: u64,
    /// Latencies of the steps that sent something.
    pub latency: crate::exec::latency::LatencyRecorder,
}

impl Runner<'_> {
    /// Runs steps in order; a failed step stops the list unless it continues on failure.
    /// Returns the results, the list's status, and whether it stopped early (a failure not
    /// covered by `continue_on_failure`, or Ctrl-C).
    pub async fn steps(&mut self, steps: &[StepPlan]) -> (Vec<StepResult>, Status, bool) {
        let mut results = Vec::with_capacity(steps.len());
        let mut status = Status::Passed;
        for step in steps {
            let (result, contained) = Box::pin(self.step(step)).await;
            let step_status = result.status;
            results.push(result);
            match step_status {
                Status::Passed => {}
                Status::Interrupted => return (results, Status::Interrupted, true),
                Status::Failed => {
                    status = Status::Failed;
                    if !step.continue_on_failure && !contained {
                        return (results, status, true);
                    }
                }
            }
        }
        (results, status, false)
    }

    /// Runs one step. The flag is true when the step failed only through nested steps that
    /// continue on failure: the failure counts, but does not stop the enclosing list.
    pub async fn step(&mut self, step: &StepPlan) -> (StepResult, bool) {
        self.shared.emit(Event::StepStarted {
            actor: self.state.actor.clone(),
            step: step.name.as_str().into(),
        });
        let started = Instant::now();
        let mut result = StepResult {
            name: step.name.clone(),
            kind: step.action.key(),
            at: step.at,
            status: Status::Passed,
            started_ms: ms(started - self.state.started),
            elapsed_ms: 0.0,
            attempts: 0,
            time_to_success_ms: None,
            error: None,
            result: None,
            assertions: Vec::new(),
            steps: Vec::new(),
            iterations: Vec::new(),
        };
        let contained = match &step.action {
            Action::Group { steps } => {
                let (steps, status, halted) = self.steps(steps).await;
                result.steps = steps;
                result.status = status;
                result.error = first_error(&result.steps);
                status == Status::Failed && !halted
            }
            Action::Repeat { repeat, steps } => self.repeat(repeat, steps, &mut result).await,
            _ => {
                self.attempts(step, &mut result).await;
                false
            }
        };
        if result.status.passed() {
            *self.state.counts.entry(step.name.clone()).or_default() += 1;
        }
        result.elapsed_ms = ms(started.elapsed());
        (result, contained)
    }

    /// Runs the action until its assertions hold, or once without `retry`.
    async fn attempts(&mut self, step: &StepPlan, out: &mut StepResult) {
        let retry = match &step.retry {
            Some(r) => match (
                self.state.duration(self.shared, &r.within),
                self.state.duration(self.shared, &r.every),
            ) {
                (Ok(within), Ok(every)) => Some((within, every)),
                (Err(e), _) | (_, Err(e)) => return self.fail(out, e),
            },
            None => None,
        };
        let first = Instant::now();
        loop {
            out.attempts += 1;
            // An attempt may not outlast the retry window.
            let window = retry.map(|(within, _)| within.saturating_sub(first.elapsed()));
            let miss = match self.attempt(step, out, window).await {
                Ok(()) => {
                    if retry.is_some() {
                        out.time_to_success_ms = Some(ms(first.elapsed()));
                    }
                    out.status = Status::Passed;
                    out.error = None;
                    return;
                }
                Err(miss) => miss,
            };
            let reason = match miss {
                Miss::Interrupted => {
                    out.status = Status::Interrupted;
                    out.error = Some("interrupted".into());
                    return;
                }
                Miss::Failed(reason) => reason,
                Miss::Lasting(reason) if retry.is_some() => {
                    return self.fail(out, format!("{reason} (not retried: waiting cannot change this)"));
                }
                Miss::Lasting(reason) => reason,
            };
            let Some((within, every)) = retry else {
                return self.fail(out, reason);
            };
            if first.elapsed() + every > within {
                let tries = match out.attempts {
                    1 => "1 attempt".to_string(),
                    n => format!("{n} attempts"),
                };
                return self.fail(
                    out,
                    format!("{reason} (still after {tries} within {})", format_duration(within)),
                );
            }
            tokio::select! {
                () = tokio::time::sleep(every) => {}
                () = self.shared.cancel.cancelled() => {
                    out.status = Status::Interrupted;
                    out.error = Some("interrupted".into());
                    return;
                }
            }
        }
    }

    /// One attempt: the action under the step's deadline, then its assertions and captures.
    async fn attempt(&mut self, step: &StepPlan, out: &mut StepResult, window: Option<Duration>) -> Result<(), Miss> {
        let timeout = match &step.timeout {
            Some(t) => Some(self.state.duration(self.shared, t).map_err(Miss::Failed)?),
            None => None,
        };
        let deadline = match (timeout, window) {
            (Some(t), Some(w)) => Some(t.min(w)),
            (t, w) => t.or(w),
        };
        let cancel = self.shared.cancel.clone();
        let action = self.act(step, deadline);
        let document = match deadline {
            Some(limit) if !step.action.keeps_own_deadline() => tokio::select! {
                r = tokio::time::timeout(limit, action) => r.unwrap_or_else(|_| {
                    Err(Miss::Failed(format!("timed out after {}", format_duration(limit))))
                }),
                () = cancel.cancelled() => Err(Miss::Interrupted),
            },
            _ => tokio::select! {
                r = action => r,
                () = cancel.cancelled() => Err(Miss::Interrupted),
            },
        };
        if step.action.is_mcp() {
            // After the action, also when it was dropped, so that its requests are all there.
            let unanswered = match &document {
                Err(Miss::Failed(reason) | Miss::Lasting(reason)) => reason.as_str(),
                Err(Miss::Interrupted) => "interrupted",
                Ok(_) => "no answer",
            };
            self.transcribe(step, unanswered);
        }
        let document = document?;
        let Some(document) = document else { return Ok(()) };
        // A failed attempt keeps its answer in the result file, to show what was wrong; a
        // passing one's answer is in the transcript, and thousands of clients need not hold it.
        if let Err(miss) = self
            .check(step, &document, out)
            .and_then(|()| self.capture(step, &document))
        {
            out.result = Some(document);
            return Err(miss);
        }
        out.result = None;
        self.state.last = Some(document);
        Ok(())
    }

    /// Runs the step's `save:` captures on its result.
    fn capture(&mut self, step: &StepPlan, document: &Value) -> Result<(), Miss> {
        if step.save.is_empty() {
            return Ok(());
        }
        let ctx = self.state.context(self.shared, Some(document));
        for save in &step.save {
            let value = assert::capture(save, document, &self.shared.plan.templates, &ctx)
                .map_err(|e| Miss::Failed(format!("save `{}`: {e}", save.name)))?;
            self.state.saved.insert(save.name.clone(), value);
        }
        Ok(())
    }

    /// Runs the step's assertions on its result.
    fn check(&mut self, step: &StepPlan, document: &Value, out: &mut StepResult) -> Result<(), Miss> {
        if step.expect.is_empty() && step.action.is_mcp() {
            // The implicit check of an MCP answer is an assertion like any other.
            self.assertions_run += 1;
            if let Some(reason) = super::mcp_step::implicit_failure(document) {
                return Err(Miss::Failed(reason));
            }
            return Ok(());
        }
        let ctx = self.state.context(self.shared, Some(document));
        let results: Vec<AssertionResult> = step
            .expect
            .iter()
            .flat_map(|a| assert::check(a, document, &self.shared.plan.templates, &ctx))
            .collect();
        self.assertions_run += results.len() as u64;
        let failure = results.iter().find(|r| !r.passed).map(|r| self.failure_text(r));
        out.assertions = results;
        failure.map_or(Ok(()), |f| Err(Miss::Failed(f)))
    }

    /// The action itself: a result document for steps that send something, `None` for the rest.
    async fn act(&mut self, step: &StepPlan, deadline: Option<Duration>) -> Result<Option<Value>, Miss> {
        match &step.action {
            Action::Wait { duration } => {
                let d = self.state.duration(self.shared, duration).map_err(Miss::Failed)?;
                tokio::time::sleep(d).await;
                Ok(None)
            }
            Action::Set { vars } => {
                for (name, value) in vars {
                    let value = self
                        .state
                        .render(self.shared, value)
                        .map_err(|e| Miss::Failed(format!("`{name}`: {e}")))?;
                    self.state.saved.insert(name.clone(), value);
                }
                Ok(None)
            }
            Action::Check { that } => {
                let ctx = self.state.context(self.shared, None);
                self.assertions_run += 1;
                match assert::predicate(that, &self.shared.plan.templates, &ctx) {
                    Ok(true) => Ok(None),
                    Ok(false) => Err(Miss::Failed(format!("`{}` is false", that.source))),
                    Err(e) => Err(Miss::Failed(e.to_string())),
                }
            }
            Action::Barrier { barrier } => {
                let limit = deadline.unwrap_or(BARRIER_TIMEOUT);
                match self.shared.barriers.wait(barrier, limit, &self.shared.cancel).await {
                    Ok(()) => Ok(None),
                    Err(e) if e == "interrupted" => Err(Miss::Interrupted),
                    Err(e) => Err(Miss::Failed(e)),
                }
            }
            Action::Http { .. } => self.http(step, deadline).await.map(Some),
            Action::Sql { .. } => self.sql(step, deadline).await.map(Some),
            Action::Initialize { .. }
            | Action::Call { .. }
            | Action::Request { .. }
            | Action::Notify { .. }
            | Action::Close { .. }
            | Action::Forget { .. } => self.mcp(step).await,
            Action::Group { .. } | Action::Repeat { .. } => unreachable!("nested steps are run by `step`"),
        }
    }
}

impl Runner<'_> {
    /// `file:line:col` of a place in the scenario.
    pub(super) fn place(&self, at: crate::source::Pos) -> String {
        format!("{}:{at}", self.shared.plan.path.display())
    }

    /// Marks a step failed with a reason that names it and its place in the file.
    pub(super) fn fail(&self, out: &mut StepResult, reason: String) {
        out.status = Status::Failed;
        out.error = Some(format!("step `{}` ({}): {reason}", out.name, self.place(out.at)));
    }

    fn failure_text(&self, result: &AssertionResult) -> String {
        let text = result
            .message
            .clone()
            .unwrap_or_else(|| format!("{} does not hold", result.assertion));
        format!("{text} (assertion at {})", self.place(result.at))
    }
}

/// The first failure among nested steps.
pub(super) fn first_error(steps: &[StepResult]) -> Option<String> {
    steps.iter().find_map(|s| s.error.clone())
}

/// Milliseconds, fractional.
pub(super) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
