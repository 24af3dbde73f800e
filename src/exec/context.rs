//! What a running client knows: the run-wide values every template sees, and its own state
//! (saved values, counts, the last result, its session).

use std::collections::BTreeMap;
use std::sync::Arc;

use minijinja::Value as Jinja;
use minijinja::value::Serde;
use serde_json::{Map, Value};
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

use super::barrier::Barriers;
use super::databases::Databases;
use super::event::{Actor, Event};
use crate::plan::{DurationPlan, Plan, ValuePlan};

/// Run-wide facts, shared by every client of a scenario.
pub struct Shared {
    /// The compiled scenario.
    pub plan: Arc<Plan>,
    /// The scenario's name, for events.
    pub scenario: Arc<str>,
    /// `vars`, `env` and `run`, converted once.
    globals: [(&'static str, Jinja); 3],
    /// Where events go.
    pub events: UnboundedSender<Event>,
    /// Cancelled on Ctrl-C.
    pub cancel: CancellationToken,
    /// The scenario's barriers.
    pub barriers: Barriers,
    /// The scenario's database pools.
    pub databases: Databases,
    /// When the scenario started.
    pub started: tokio::time::Instant,
    /// What `before:` saved, which every client and `after:` starts with.
    before: std::sync::OnceLock<Map<String, Value>>,
    /// Every step name of the plan with a count of 0: `counts.X` is 0, not undefined, until X
    /// first succeeds, whichever group X is in.
    zero_counts: BTreeMap<String, u64>,
}

impl Shared {
    /// Run-wide facts for one scenario.
    pub fn new(
        plan: Arc<Plan>,
        env: &BTreeMap<String, String>,
        run: &Value,
        events: UnboundedSender<Event>,
        cancel: CancellationToken,
    ) -> Self {
        let globals = [
            ("vars", Jinja::from(Serde(&plan.vars))),
            ("env", Jinja::from(Serde(env))),
            ("run", Jinja::from(Serde(run))),
        ];
        Self {
            scenario: plan.name.as_str().into(),
            barriers: Barriers::new(&plan.barriers),
            databases: Databases::default(),
            globals,
            events,
            cancel,
            started: tokio::time::Instant::now(),
            before: std::sync::OnceLock::new(),
            zero_counts: crate::plan::zero_counts(plan.steps()),
            plan,
        }
    }

    /// What `before:` saved (nothing until it has run).
    pub fn before_saved(&self) -> &Map<String, Value> {
        static NOTHING: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
        self.before.get().unwrap_or_else(|| NOTHING.get_or_init(Map::new))
    }

    /// Keeps what `before:` saved for the clients and `after:`.
    pub fn set_before_saved(&self, saved: Map<String, Value>) {
        let _ = self.before.set(saved);
    }

    /// Sends an event; a reporter that has gone away is not an error.
    pub fn emit(&self, event: Event) {
        let _ = self.events.send(event);
    }
}

/// An HTTP connection as one client sees it: its templates rendered.
#[derive(Debug, Clone)]
pub struct RenderedHttp {
    /// `base_url`.
    pub base: String,
    /// The connection's headers.
    pub headers: Vec<(String, String)>,
}

/// One client instance's own state.
pub struct ClientState {
    /// Who it is.
    pub actor: Actor,
    /// 0-based position among all instances.
    pub index: u64,
    /// When it started its steps: `client.elapsed_ms` and step offsets count from here.
    pub started: tokio::time::Instant,
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
    /// Its HTTP client, its own connection pool: made by the first `http` step.
    pub http: Option<reqwest::Client>,
    /// Its HTTP connections' base URL and headers, rendered on first use.
    pub http_connections: BTreeMap<String, RenderedHttp>,
    /// Its MCP sessions, by connection name.
    pub mcp: super::session::Sessions,
}

impl ClientState {
    /// The client's HTTP client, made on first use (most load clients never need one twice, and
    /// many never need one).
    pub fn http_client(&mut self, connect_timeout: std::time::Duration) -> Result<reqwest::Client, String> {
        if let Some(client) = &self.http {
            return Ok(client.clone());
        }
        let client = crate::proto::http::client(connect_timeout).map_err(|e| e.to_string())?;
        self.http = Some(client.clone());
        Ok(client)
    }

    /// The template context: everything in scope, plus `result` while a step's result is checked.
    pub fn context(&self, shared: &Shared, result: Option<&Value>) -> Jinja {
        let mut scope: BTreeMap<String, Jinja> = self
            .saved
            .iter()
            .map(|(k, v)| (k.clone(), Jinja::from(Serde(v))))
            .collect();
        for (name, value) in &shared.globals {
            scope.insert(name.to_string(), value.clone());
        }
        let client = serde_json::json!({
            "group": &*self.actor.group,
            "id": self.actor.client_id,
            "index": self.index,
            "elapsed_ms": super::step::ms(self.started.elapsed()),
        });
        scope.insert("client".into(), Jinja::from(Serde(client)));
        let mut counts = shared.zero_counts.clone();
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

    /// Renders a value with the current context.
    pub fn render(&self, shared: &Shared, value: &ValuePlan) -> Result<Value, String> {
        value
            .render(&shared.plan.templates, &self.context(shared, None))
            .map_err(|e| template_error(&e))
    }

    /// Renders a template to text (`{{ 5 }}` gives `"5"`).
    pub fn render_text(&self, shared: &Shared, value: &ValuePlan) -> Result<String, String> {
        Ok(match self.render(shared, value)? {
            Value::String(s) => s,
            other => other.to_string(),
        })
    }

    /// A duration, parsed now when it comes from a template.
    pub fn duration(&self, shared: &Shared, plan: &DurationPlan) -> Result<std::time::Duration, String> {
        match plan {
            DurationPlan::Fixed(d) => Ok(*d),
            DurationPlan::Template(t) => {
                let text = self.render_text(shared, &ValuePlan::Template(t.clone()))?;
                crate::plan::parse_duration(&text).map_err(|e| format!("`{}` renders to {}", t.source, e.message))
            }
        }
    }
}

/// A render error in one line.
pub fn template_error(e: &minijinja::Error) -> String {
    match e.detail() {
        Some(detail) => format!("{}: {detail}", e.kind()),
        None => e.kind().to_string(),
    }
}
