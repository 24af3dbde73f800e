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
use super::event::{Actor, Event, Exchange};
use super::latency::LatencyRecorder;
use super::result::Status;
use super::session::Sessions;
use super::shared::Shared;
use super::transcript::Outbox;
use crate::duration_text::millis;
use crate::plan::{DurationPlan, ValuePlan, parse_duration};
use crate::source::Pos;

/// An HTTP connection as one client sees it: its templates rendered.
#[derive(Debug, Clone)]
pub struct RenderedHttp {
    pub base_url: String,
    pub headers: Vec<(String, String)>,
}

pub struct Ctx<'a> {
    pub shared: &'a Shared,
    pub actor: Actor,
    /// 0-based position among all instances.
    pub index: u64,
    /// When it started its steps: `client.elapsed_ms` and step offsets count from here.
    pub started: Instant,
    /// Values saved and set.
    pub saved: Map<String, Value>,
    /// Successes per step name, 0 for each of its own steps until it succeeds.
    pub counts: BTreeMap<String, u64>,
    /// The previous step's result.
    pub last: Option<Value>,
    /// The innermost loop's iteration, 1-based.
    pub iteration: Option<u64>,
    /// In `after:`: every client's results.
    pub clients: Option<Value>,
    /// Its own connection pool, made by the first `http` step (many clients never need one).
    pub http: Option<reqwest::Client>,
    /// Its HTTP connections' base URL and headers, rendered on first use.
    pub http_connections: BTreeMap<Arc<str>, RenderedHttp>,
    pub mcp: Sessions,
    /// Assertions run so far (`expect`, `check`, and the implicit check of an MCP answer).
    pub assertions_run: u64,
    /// Latencies of the steps that sent something.
    pub latency: LatencyRecorder,
    /// Its exchanges until their step ends and the transcript mode says which to write.
    outbox: Outbox,
}

impl<'a> Ctx<'a> {
    pub fn new(shared: &'a Shared, actor: Actor, index: u64, clients: Option<Value>) -> Self {
        Self {
            shared,
            actor,
            index,
            started: Instant::now(),
            saved: shared.before_saved().clone(),
            counts: BTreeMap::new(),
            last: None,
            iteration: None,
            clients,
            http: None,
            http_connections: BTreeMap::new(),
            mcp: Sessions::default(),
            assertions_run: 0,
            latency: LatencyRecorder::new(),
            outbox: Outbox::new(shared.transcript),
        }
    }

    /// The template context: everything in scope, plus `result` while a step's result is checked.
    pub fn context(&self, result: Option<&Value>) -> Jinja {
        let mut scope: BTreeMap<String, Jinja> = self
            .saved
            .iter()
            .map(|(k, v)| (k.clone(), Jinja::from(Serde(v))))
            .collect();
        for (name, value) in &self.shared.globals {
            scope.insert(name.to_string(), value.clone());
        }
        let client = serde_json::json!({
            "group": &*self.actor.group,
            "id": self.actor.client_id,
            "index": self.index,
            "elapsed_ms": millis(self.started.elapsed()),
        });
        scope.insert("client".into(), Jinja::from(Serde(client)));
        let mut counts = self.shared.zero_counts.clone();
        counts.extend(self.counts.iter().map(|(name, n)| (name.clone(), *n)));
        scope.insert("counts".into(), Jinja::from(Serde(&counts)));
        if let Some(last) = &self.last {
            scope.insert("last".into(), Jinja::from(Serde(last)));
        }
        if let Some(iteration) = self.iteration {
            scope.insert("iteration".into(), Jinja::from(iteration));
        }
        if let Some(clients) = &self.clients {
            scope.insert("clients".into(), Jinja::from(Serde(clients)));
        }
        for (name, value) in self.mcp.scope() {
            scope.insert(name.into(), Jinja::from(Serde(value)));
        }
        if let Some(result) = result {
            scope.insert("result".into(), Jinja::from(Serde(result)));
        }
        Jinja::from(scope)
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
        self.outbox.add(Exchange {
            actor: self.actor.clone(),
            step: step.into(),
            sent_at,
            request,
            response,
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
