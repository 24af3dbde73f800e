//! One running client's context: the shared facts, its own state (saved values, counts, the
//! last result, its sessions), and its tallies. Every step kind runs on it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use minijinja::Value as Jinja;
use minijinja::value::Serde;
use serde_json::{Map, Value};
use tokio::time::Instant;

use super::error::{RenderError, StepError};
use super::event::{Actor, Event, Exchange, Pass, Position};
use super::result::Status;
use super::scope::{ClientInfo, Json, Scope};
use super::session::{Opened, Sessions};
use super::shared::Shared;
use super::transcript::Outbox;
use crate::plan::{DurationPlan, ValuePlan, parse_duration};
use crate::source::Pos;

/// An HTTP connection as one client sees it: its templates rendered.
#[derive(Debug, Clone)]
pub struct RenderedHttp {
    pub base_url: String,
    pub headers: Vec<(String, String)>,
}

/// A loop's pass: its number (1-based), the passes its bounds allow when they say, and when a
/// `for:` loop's time runs out.
#[derive(Debug, Clone, Copy)]
pub struct LoopPass {
    pub n: u64,
    pub of: Option<u64>,
    pub until: Option<Instant>,
}

pub struct Ctx<'a> {
    pub shared: &'a Shared,
    pub actor: Actor,
    /// When it started its steps: `client.elapsed_ms` and step offsets count from here.
    pub started: Instant,
    /// Values saved and set.
    saved: Map<String, Value>,
    /// Successes per step name, 0 for each of its own steps until it succeeds.
    counts: BTreeMap<String, u64>,
    /// The innermost loop's pass.
    pass: Option<LoopPass>,
    /// The step of its own list that runs (1-based), and how many there are.
    step: (usize, usize),
    /// Its own connection pool, made by the first `http` step (many clients never need one).
    pub http: Option<reqwest::Client>,
    /// Its HTTP connections' base URL and headers, rendered on first use.
    pub http_connections: BTreeMap<Arc<str>, RenderedHttp>,
    pub mcp: Sessions,
    /// The timeline's sessions that the last attempt named: an SQL step's parameters or rows,
    /// an MCP step's `session_id:`.
    pub named_sessions: Vec<u64>,
    /// Assertions run so far (`expect`, `check`, and the implicit check of an MCP answer).
    pub assertions_run: u64,
    /// What templates see, kept up to date by the setters below.
    scope: Arc<Scope>,
    /// `counts` as templates see it: every step name of the plan, 0 until it first succeeds.
    scope_counts: Arc<Scope>,
    /// Its exchanges until their step ends and the transcript mode says which to write.
    outbox: Outbox,
}

impl<'a> Ctx<'a> {
    /// A client's context; `index` is its 0-based position among all instances, `clients` what
    /// `after:` sees of every client.
    pub fn new(shared: &'a Shared, actor: Actor, index: u64, clients: Option<Value>) -> Self {
        let started = Instant::now();
        let scope = Arc::new(Scope::default());
        for (name, value) in shared.before_saved() {
            scope.set(name, Jinja::from(Serde(value)));
        }
        for (name, value) in &shared.globals {
            scope.set(name, value.clone());
        }
        let client = ClientInfo {
            group: actor.group.clone(),
            id: actor.client_id,
            index,
            started,
        };
        scope.set("client", Jinja::from_object(client));
        let scope_counts = Arc::new(Scope::default());
        for name in shared.zero_counts.keys() {
            scope_counts.set(name, Jinja::from(0));
        }
        scope.set("counts", scope_counts.value());
        if let Some(clients) = &clients {
            scope.set("clients", Jinja::from(Serde(clients)));
        }
        Self {
            shared,
            actor,
            started,
            saved: shared.before_saved().clone(),
            counts: BTreeMap::new(),
            pass: None,
            step: (0, 0),
            http: None,
            http_connections: BTreeMap::new(),
            mcp: Sessions::default(),
            named_sessions: Vec::new(),
            assertions_run: 0,
            scope,
            scope_counts,
            outbox: Outbox::new(shared.transcript),
        }
    }

    /// Its exchanges reach the transcript only when their step fails.
    pub fn skip_first_exchanges(&mut self) {
        self.outbox.skip_first();
    }

    /// The template context: everything in scope, plus `result` while a step's result is checked.
    pub fn context(&self, result: Option<&Arc<Value>>) -> Jinja {
        match result {
            Some(result) => self.scope.set("result", Json::value(result.clone())),
            None => self.forget_result(),
        }
        self.scope.value()
    }

    /// Takes `result` out of scope, once a step's result has been checked.
    pub fn forget_result(&self) {
        self.scope.remove("result");
    }

    /// Saves a value under `name`, for later steps and the result file.
    pub fn save(&mut self, name: &str, value: Value) {
        self.scope.set(name, Jinja::from(Serde(&value)));
        self.saved.insert(name.to_string(), value);
    }

    /// The previous step's result, `last` in templates.
    pub fn set_last(&mut self, document: Arc<Value>) {
        self.scope.set("last", Json::value(document));
    }

    /// The innermost loop's pass, `iteration` in templates (none outside a loop).
    pub fn set_pass(&mut self, pass: Option<LoopPass>) {
        self.pass = pass;
        match pass {
            Some(pass) => self.scope.set("iteration", Jinja::from(pass.n)),
            None => self.scope.remove("iteration"),
        }
    }

    pub fn pass(&self) -> Option<LoopPass> {
        self.pass
    }

    /// The client's own step `index` (0-based) of `of` runs.
    pub fn set_step(&mut self, index: usize, of: usize) {
        self.step = (index + 1, of);
    }

    /// Where the client is now, for the progress display.
    pub fn position(&self) -> Position {
        let now = Instant::now();
        Position {
            step: self.step.0,
            of: self.step.1,
            pass: self.pass.map(|pass| Pass {
                n: pass.n,
                of: pass.of,
                left: pass.until.map(|until| until.saturating_duration_since(now)),
            }),
        }
    }

    /// The step named `step` succeeded once more.
    pub fn count_success(&mut self, step: &str) {
        // The name is copied only the first time: a client counts the same few steps.
        let n = match self.counts.get_mut(step) {
            Some(n) => n,
            None => self.counts.entry(step.to_string()).or_default(),
        };
        *n += 1;
        self.scope_counts.set(step, Jinja::from(*n));
    }

    /// Starts the counts of the client's own steps at 0, for its result file.
    pub fn start_counts(&mut self, counts: BTreeMap<String, u64>) {
        self.counts = counts;
    }

    /// A handshake opened a session: `session_id` and its companions change.
    pub fn opened(&mut self, session: Opened) {
        self.mcp.opened(session);
        for (name, value) in self.mcp.scope() {
            self.scope.set(name, Jinja::from(Serde(value)));
        }
    }

    /// What the client saved, and its counts, for its result file.
    pub fn into_tallies(self) -> (Map<String, Value>, BTreeMap<String, u64>) {
        (self.saved, self.counts)
    }

    pub fn render(&self, value: &ValuePlan) -> Result<Value, RenderError> {
        Ok(value.render(&self.shared.plan.templates, &self.context(None))?)
    }

    /// Renders a value to text (`{{ 5 }}` gives `"5"`).
    pub fn render_text(&self, value: &ValuePlan) -> Result<String, RenderError> {
        Ok(match self.render(value)? {
            Value::String(s) => s,
            other => other.to_string(),
        })
    }

    /// A duration; one that comes from a template is parsed when it renders.
    pub fn duration(&self, plan: &DurationPlan) -> Result<Duration, RenderError> {
        match plan {
            DurationPlan::Fixed(d) => Ok(*d),
            DurationPlan::Template(t) => {
                let text = self.render_text(&ValuePlan::Template(t.clone()))?;
                parse_duration(&text).map_err(|e| RenderError::Duration {
                    template: t.source.clone(),
                    message: e.message,
                })
            }
        }
    }

    /// The client's HTTP client, made on first use.
    pub fn http_client(&mut self, connect_timeout: Duration) -> Result<reqwest::Client, StepError> {
        if let Some(client) = &self.http {
            return Ok(client.clone());
        }
        let client = crate::proto::http::client(connect_timeout)?;
        self.http = Some(client.clone());
        Ok(client)
    }

    /// `file:line:col` of a place in the scenario.
    pub fn place(&self, at: Pos) -> String {
        format!("{}:{at}", self.shared.plan.path.display())
    }

    /// False when the transcript is off: a request's line need not be built.
    pub fn transcribing(&self) -> bool {
        self.outbox.wanted()
    }

    /// Puts one request and its answer in the transcript, if the transcript mode keeps it once
    /// its step has ended ([`Ctx::step_ended`]).
    pub fn exchanged(&mut self, step: &str, sent_at: DateTime<Utc>, request: Value, response: Value) {
        self.exchanged_later(step, move || (sent_at, request, response));
    }

    /// As [`Ctx::exchanged`], with the request and answer built only if the transcript keeps them.
    pub fn exchanged_later(
        &mut self,
        step: &str,
        build: impl FnOnce() -> (DateTime<Utc>, Value, Value) + Send + 'static,
    ) {
        let actor = self.actor.clone();
        let step: Arc<str> = step.into();
        self.outbox.add(move || {
            let (sent_at, request, response) = build();
            Exchange {
                actor,
                step,
                sent_at,
                request,
                response,
            }
        });
    }

    /// Sends the ended step's exchanges that the transcript keeps; a step that did not pass
    /// keeps all of them, so that its failure can be read in full. Waits while the reporter is
    /// behind: an exchange is never dropped, and never piles up unbounded.
    pub async fn step_ended(&mut self, status: Status) {
        for exchange in self.outbox.step_ended(status.passed()) {
            self.shared.emit(Event::Exchange(Box::new(exchange))).await;
        }
    }
}
