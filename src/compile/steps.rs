//! Steps → [`StepPlan`]s, with the scope growing as the steps go: `session_id` after an
//! `initialize`, saved names after the step that saves them, `last` after any step.

use std::time::Duration;

use super::Compiler;
use super::durations::Zero;
use super::groups::Owner;
use super::scope::{RESERVED, SESSION_NAMES, Scope};
use super::templates::is_template;
use crate::plan::step::{
    Call, Check, Close, Forget, Group, Http, Initialize, Message, Notify, Repeat as RepeatAction, Request, Set, Sql,
    Wait,
};
use crate::plan::{
    Action, Body, ConnectionKind, DurationPlan, McpConn, RepeatPlan, RetryPlan, SqlQuery, StepPlan, ValuePlan,
};
use crate::source::Pos;
use crate::spec::{HttpStep, Name, Node, Repeat, Spanned, Step, StepKind, Text};

/// The HTTP methods an `http` step may use.
const HTTP_METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// The pause between two attempts of a `retry` when the step sets none.
const RETRY_EVERY: Duration = Duration::from_secs(1);

impl Compiler<'_> {
    /// Compiles a list of steps; `scope` comes out with the names they define.
    pub(super) fn steps(
        &mut self,
        steps: &Spanned<Vec<Step>>,
        scope: &mut Scope,
        owner: Option<&Owner>,
    ) -> Vec<StepPlan> {
        if steps.value.is_empty() {
            self.error(steps.at, "this list of steps is empty")
                .help("give it at least one step, e.g. `- wait: 1s`");
        }
        // A step whose connection cannot be resolved has no plan; its error is reported, so the
        // scenario does not compile.
        steps
            .value
            .iter()
            .filter_map(|step| self.step(step, scope, owner))
            .collect()
    }

    fn step(&mut self, step: &Step, scope: &mut Scope, owner: Option<&Owner>) -> Option<StepPlan> {
        self.check_result_keys(step);
        if let Some(name) = &step.name {
            self.check_not_blank(name, "the step's `name`");
        }
        match &step.kind.value {
            StepKind::Group { name, .. } => self.check_not_blank(name, "the `group` step's name"),
            StepKind::Barrier(name) => self.check_not_blank(name, "the barrier's name"),
            _ => {}
        }
        let action = self.action(step, scope, owner);
        let with_result = scope.with("result");
        let expect = self.expect(step.expect.as_ref(), &with_result);
        let save = self.save(&step.save, &with_result);
        let timeout = step
            .timeout
            .as_ref()
            .and_then(|d| self.duration(d, scope, Zero::Refused));
        let retry = step.retry.as_ref().and_then(|r| {
            let within = self.duration(&r.value.within, scope, Zero::Refused);
            let every = match &r.value.every {
                Some(every) => self.duration(every, scope, Zero::Refused),
                None => Some(DurationPlan::Fixed(RETRY_EVERY)),
            };
            Some(RetryPlan {
                within: within?,
                every: every?,
            })
        });
        if matches!(step.kind.value, StepKind::Initialize(_)) {
            scope.add_all(SESSION_NAMES.iter().copied());
        }
        for (key, _) in step.save.iter() {
            self.assign(key, scope);
        }
        scope.add("last");
        Some(StepPlan {
            name: self.step_name(step),
            at: step.at,
            action: action?,
            expect,
            save,
            timeout,
            retry,
            continue_on_failure: step.continue_on_failure.as_ref().is_some_and(|c| c.value),
        })
    }

    /// `expect`, `save` and `retry` need a result to look at; `retry` needs `expect`.
    fn check_result_keys(&mut self, step: &Step) {
        let kind = step.kind.value.kind();
        if let Some(timeout) = step.timeout.as_ref().filter(|_| kind.nests()) {
            self.error(timeout.0.at, format!("`timeout` does not go on a `{kind}` step"))
                .help("put `timeout` on the steps inside (a `repeat` ends by its `times` and `for`)");
        }
        if !kind.row().has_result {
            let keys = [
                step.expect.as_ref().map(|e| ("expect", e.at)),
                step.save.iter().next().map(|(k, _)| ("save", k.at)),
                step.retry.as_ref().map(|r| ("retry", r.at)),
            ];
            for (key, at) in keys.into_iter().flatten() {
                self.error(at, format!("`{key}` does nothing on a `{kind}` step: it has no result"))
                    .help("`expect`, `save` and `retry` go on steps that send something: MCP, `http` and `sql` steps");
            }
            return;
        }
        if let (Some(retry), None) = (&step.retry, &step.expect) {
            self.error(
                retry.at,
                "`retry` polls until `expect` holds, but this step has no `expect`",
            )
            .help("add `expect:` with the condition to wait for");
        }
    }

    /// Adds an assigned name to the scope, refusing the names the runner defines.
    fn assign(&mut self, key: &Spanned<String>, scope: &mut Scope) {
        if RESERVED.contains(&key.value.as_str()) {
            self.error(
                key.at,
                format!("`{}` is a name the runner sets; it cannot be assigned", key.value),
            )
            .width(key.value.len())
            .help("choose another name, e.g. `my_".to_string() + &key.value + "`");
            return;
        }
        scope.add(&key.value);
    }

    fn action(&mut self, step: &Step, scope: &mut Scope, owner: Option<&Owner>) -> Option<Action> {
        let at = step.kind.at;
        let named = step.connection.as_ref();
        let key = step.kind.value.kind().key();
        let session_id = step.session_id.as_ref().map(|s| self.text(s, scope));
        Some(match &step.kind.value {
            StepKind::Initialize(init) => {
                let connection = self.mcp_connection(named, key, at);
                Action::Initialize(Initialize {
                    client_info: init.client_info.as_ref().map(|i| self.client_info(Some(i), scope)),
                    capabilities: init.capabilities.as_ref().map(|c| self.value(c, scope)),
                    connection: connection?,
                })
            }
            StepKind::Call { tool, arguments } => {
                let connection = self.mcp_connection(named, key, at);
                Action::Call(Call {
                    tool: self.text(tool, scope),
                    arguments: arguments
                        .as_ref()
                        .map_or(ValuePlan::Literal(serde_json::json!({})), |a| self.value(a, scope)),
                    session_id,
                    connection: connection?,
                })
            }
            StepKind::Request { method, params } => {
                let connection = self.mcp_connection(named, key, at);
                let message = self.message(connection, method, params.as_ref(), session_id, scope);
                Action::Request(Request { message: message? })
            }
            StepKind::Notify { method, params } => {
                let connection = self.mcp_connection(named, key, at);
                let message = self.message(connection, method, params.as_ref(), session_id, scope);
                Action::Notify(Notify { message: message? })
            }
            StepKind::Close => {
                let connection = self.mcp_connection(named, key, at);
                Action::Close(Close {
                    session_id,
                    connection: connection?,
                })
            }
            StepKind::Forget => {
                let connection = self.mcp_connection(named, key, at);
                Action::Forget(Forget {
                    connection: connection?,
                })
            }
            StepKind::Http(http) => Action::Http(self.http(http, named, at, scope)?),
            StepKind::Sql { query, params } => Action::Sql(self.sql(query, params, named, at, scope)?),
            StepKind::Wait(d) => Action::Wait(Wait {
                duration: self
                    .duration(d, scope, Zero::Allowed)
                    .unwrap_or(DurationPlan::Fixed(Duration::ZERO)),
            }),
            StepKind::Repeat { repeat, steps } => {
                let repeat = self.repeat(repeat, at, scope);
                let had_iteration = scope.has("iteration");
                scope.add("iteration");
                let steps = self.steps(steps, scope, owner);
                if !had_iteration {
                    scope.remove("iteration");
                }
                Action::Repeat(RepeatAction { repeat, steps })
            }
            StepKind::Barrier(name) => Action::Barrier(self.barrier(name, owner)),
            StepKind::Set(vars) => Action::Set(Set {
                vars: vars
                    .iter()
                    .map(|(key, value)| {
                        let value = self.value(value, scope);
                        self.assign(key, scope);
                        (key.value.clone(), value)
                    })
                    .collect(),
            }),
            StepKind::Check(text) => {
                if !is_template(&text.value) {
                    self.error(text.at, "`check` takes a template that must be true")
                        .help("write e.g. `check: \"{{ first_id != second_id }}\"`");
                }
                let that = self.template(text, scope).map(|c| c.template);
                Action::Check(Check {
                    that: that.unwrap_or_else(|| self.failed_template()),
                })
            }
            StepKind::Group { steps, .. } => Action::Group(Group {
                steps: self.steps(steps, scope, owner),
            }),
        })
    }

    /// What a `request` or `notify` sends; `None` without a connection.
    fn message(
        &mut self,
        connection: Option<McpConn>,
        method: &Text,
        params: Option<&Spanned<Node>>,
        session_id: Option<ValuePlan>,
        scope: &Scope,
    ) -> Option<Message> {
        let method = self.text(method, scope);
        let params = params.map(|p| self.value(p, scope));
        Some(Message {
            connection: connection?,
            method,
            params,
            session_id,
        })
    }

    fn mcp_connection(&mut self, named: Option<&Name>, step_kind: &str, at: Pos) -> Option<McpConn> {
        self.resolve_connection(named, "mcp", step_kind, at, |kind| match kind {
            ConnectionKind::Mcp(plan) => Some(plan),
            _ => None,
        })
    }

    fn repeat(&mut self, repeat: &Repeat, at: Pos, scope: &Scope) -> RepeatPlan {
        if repeat.times.is_none() && repeat.for_.is_none() {
            self.error(at, "a `repeat` needs `times`, `for`, or both, so that it ends")
                .width("repeat".len())
                .help("e.g. `repeat: { every: 2m, for: 6m }` or `repeat: { times: 5 }`");
        }
        RepeatPlan {
            times: repeat.times.as_ref().and_then(|t| self.count(t, scope)),
            for_: repeat
                .for_
                .as_ref()
                .and_then(|d| self.duration(d, scope, Zero::Refused)),
            every: repeat
                .every
                .as_ref()
                .and_then(|d| self.duration(d, scope, Zero::Refused)),
        }
    }

    /// `None` when its connection cannot be resolved.
    fn http(&mut self, http: &HttpStep, named: Option<&Name>, at: Pos, scope: &Scope) -> Option<Http> {
        let connection = |c: &mut Self| {
            c.resolve_connection(named, "http", "http", at, |kind| match kind {
                ConnectionKind::Http(plan) => Some(plan),
                _ => None,
            })
        };
        let method = match &http.method {
            Some(m) if HTTP_METHODS.contains(&m.value.to_uppercase().as_str()) => m.value.to_uppercase(),
            Some(m) => {
                self.error(m.at, format!("`{}` is not an HTTP method this step can send", m.value))
                    .width(m.value.len())
                    .help(format!("use one of: {}", HTTP_METHODS.join(", ")));
                "GET".into()
            }
            None => "GET".into(),
        };
        let (target, is_path, connection) = match (&http.url, &http.path) {
            (Some(url), None) => {
                let connection = named.map(|_| connection(self));
                (self.text(url, scope), false, connection)
            }
            (None, Some(path)) => {
                let connection = connection(self);
                (self.text(path, scope), true, Some(connection))
            }
            (Some(url), Some(_)) => {
                self.error(url.at, "an `http` step has `url` or `path`, not both")
                    .help("`path` is appended to the connection's `base_url`; `url` stands alone");
                (ValuePlan::Literal(serde_json::Value::Null), false, None)
            }
            (None, None) => {
                self.error(at, "an `http` step needs `url` or `path`")
                    .width("http".len());
                (ValuePlan::Literal(serde_json::Value::Null), false, None)
            }
        };
        let body = match (&http.json, &http.body) {
            (Some(json), None) => Body::Json(self.value(json, scope)),
            (None, Some(text)) => Body::Text(self.text(text, scope)),
            (None, None) => Body::None,
            (Some(_), Some(text)) => {
                self.error(text.at, "an `http` step has `json` or `body`, not both");
                Body::None
            }
        };
        Some(Http {
            method,
            target,
            is_path,
            headers: self.headers(&http.headers, scope),
            query: http
                .query
                .iter()
                .map(|(k, v)| (k.value.clone(), self.value(v, scope)))
                .collect(),
            body,
            // Resolved first, so its error comes first; returned last, so the other fields'
            // errors are found too.
            connection: match connection {
                Some(None) => return None,
                other => other.flatten(),
            },
        })
    }

    fn sql(
        &mut self,
        query: &Spanned<String>,
        params: &[Spanned<Node>],
        named: Option<&Name>,
        at: Pos,
        scope: &Scope,
    ) -> Option<Sql> {
        if query.value.trim().is_empty() {
            self.error(query.at, "the query is empty");
        } else if looks_templated(&query.value) {
            self.error(query.at, "SQL text is sent as written, never templated")
                .help("pass values as parameters: `$1`, `$2`, … with `params: [\"{{ session_id }}\"]`");
        }
        let connection = self.resolve_connection(named, "sql", "sql", at, |kind| match kind {
            ConnectionKind::Sql(plan) => Some(plan),
            _ => None,
        });
        let params = params.iter().map(|p| self.value(p, scope)).collect();
        Some(Sql {
            connection: connection?,
            query: SqlQuery::new(query.value.clone(), self.source, query.at),
            params,
        })
    }
}

/// True when SQL text holds a template expression that names something (`{{ session_id }}`),
/// which would be sent to the database as written. SQL's own braces (`'{{1,2},{3,4}}'`) do not
/// parse as such.
fn looks_templated(query: &str) -> bool {
    minijinja::machinery::parse(query, "<sql>", minijinja::syntax::SyntaxConfig::default())
        .is_ok_and(|ast| !super::scan::scan(&ast).names.is_empty())
}
