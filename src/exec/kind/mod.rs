//! Each step kind's run, one module per kind. A leaf kind (one that sends, waits or assigns)
//! implements [`Leaf`]; the step runner wraps every leaf alike in its deadline, `retry` and
//! assertions. `group` and `repeat` run nested steps through [`Nested`].

mod barrier;
mod check;
pub mod group;
mod http;
pub mod mcp;
pub mod repeat;
mod set;
mod sql;
mod wait;

use std::time::Duration;

use futures_util::future::BoxFuture;
use serde_json::Value;

use super::ctx::Ctx;
use super::error::StepError;
use super::result::{Status, StepResult};
use crate::plan::StepPlan;

/// The attempt a leaf runs in.
pub struct Attempt<'a> {
    /// The step's name: the transcript's and the latency summary's key.
    pub step: &'a str,
    /// The step's `timeout` or what is left of its `retry` window. Kinds that keep their own
    /// deadline (see [`crate::kind::Row::keeps_own_deadline`]) enforce it themselves; the
    /// others are dropped when it passes.
    pub deadline: Option<Duration>,
}

/// What a leaf's attempt produced.
pub enum Outcome {
    /// Nothing to look at (`wait`, `set`, `check`, `barrier`, `forget`).
    Done,
    /// A result document for `expect` and `save` (`http`, `sql`).
    Result(Value),
    /// An MCP answer's result document, and what the step requires of the answer when it has no
    /// `expect`: a 2xx status, no JSON-RPC error, a session the server still knows.
    Answer {
        document: Value,
        required: Result<(), StepError>,
    },
}

pub trait Leaf: Sync {
    fn run(&self, ctx: &mut Ctx<'_>, attempt: &Attempt<'_>) -> impl Future<Output = Result<Outcome, StepError>> + Send;
}

/// How a list of steps went.
pub struct Ran {
    pub results: Vec<StepResult>,
    pub status: Status,
    /// It stopped early: a failure not covered by `continue_on_failure`, or a stop.
    pub halted: bool,
}

/// What `group` and `repeat` need of the step runner: to run their nested steps.
pub trait Nested {
    fn steps<'s>(&'s mut self, steps: &'s [StepPlan]) -> BoxFuture<'s, Ran>;
}
