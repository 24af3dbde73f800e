//! The `http` step: the rendered request, sent on the client's own pool.

use std::time::Duration;

use serde_json::Value;

use super::context::RenderedHttp;
use super::event::{Event, Exchange};
use super::step::{Miss, Runner};
use crate::plan::{Action, Body, ConnectionKind, HttpConnectionPlan, MAX_ANSWER, StepPlan, ValuePlan};
use crate::proto::http::{self, Request};

/// Deadline of an `http` step whose step and connection set none.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Deadline for opening a connection when no connection sets one.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

impl Runner<'_> {
    /// Sends the step's request; the result document is `{status, headers, body, elapsed_ms}`.
    pub(super) async fn http(&mut self, step: &StepPlan, deadline: Option<Duration>) -> Result<Value, Miss> {
        let Action::Http {
            connection,
            method,
            target,
            is_path,
            headers,
            query,
            body,
        } = &step.action
        else {
            unreachable!("called for http steps only");
        };
        let (base, mut all_headers, connection_timeout, connect_timeout, max_answer) = match connection.as_deref() {
            Some(name) => {
                let (plan, rendered) = self.http_connection(name)?;
                (
                    Some(rendered.base),
                    rendered.headers,
                    Some(plan.timeout),
                    plan.connect_timeout,
                    plan.max_answer,
                )
            }
            None => (None, Vec::new(), None, DEFAULT_CONNECT_TIMEOUT, MAX_ANSWER),
        };
        let render = |v: &ValuePlan| self.state.render_text(self.shared, v).map_err(Miss::Failed);
        let masked = all_headers.len();
        let target = render(target)?;
        let url = match (is_path, base) {
            (true, Some(base)) => join(&base, &target),
            _ => target,
        };
        for (k, v) in headers {
            all_headers.push((k.clone(), render(v)?));
        }
        let query = query
            .iter()
            .map(|(k, v)| Ok((k.clone(), render(v)?)))
            .collect::<Result<Vec<_>, Miss>>()?;
        let body = match body {
            Body::None => http::Body::Empty,
            Body::Json(v) => http::Body::Json(self.state.render(self.shared, v).map_err(Miss::Failed)?),
            Body::Text(v) => http::Body::Text(render(v)?),
        };
        let request = Request {
            method: method.clone(),
            url,
            headers: all_headers,
            query,
            body,
        };
        let timeout = deadline.or(connection_timeout).unwrap_or(DEFAULT_TIMEOUT);
        let sent_at = chrono::Utc::now();
        let client = self.state.http_client(connect_timeout).map_err(Miss::Failed)?;
        let answer = http::send(&client, &request, timeout, max_answer).await;
        if let Ok(document) = &answer
            && let Some(ms) = document["elapsed_ms"].as_f64()
        {
            self.latency.record(&step.name, Duration::from_secs_f64(ms / 1000.0));
        }
        self.shared.emit(Event::Exchange(Box::new(Exchange {
            actor: self.state.actor.clone(),
            step: step.name.as_str().into(),
            sent_at,
            request: transcript_request(&request, masked),
            response: match &answer {
                Ok(document) => document.clone(),
                Err(failure) => serde_json::json!({ "error": failure.to_string() }),
            },
        })));
        answer.map_err(|f| Miss::Failed(f.to_string()))
    }
}

impl Runner<'_> {
    /// An HTTP connection's plan and its base URL and headers, rendered once per client: their
    /// templates see only `vars`, `env`, `run` and `client`, which do not change while it runs.
    fn http_connection(&mut self, name: &str) -> Result<(&HttpConnectionPlan, RenderedHttp), Miss> {
        let Some(ConnectionKind::Http(plan)) = self.shared.plan.connection(name).map(|c| &c.kind) else {
            return Err(Miss::Failed(format!("`{name}` is not an HTTP connection")));
        };
        if let Some(rendered) = self.state.http_connections.get(name) {
            return Ok((plan, rendered.clone()));
        }
        let render = |v: &ValuePlan| self.state.render_text(self.shared, v).map_err(Miss::Failed);
        let base = render(&plan.base_url)?;
        let headers = plan
            .headers
            .iter()
            .map(|(k, v)| Ok((k.clone(), render(v)?)))
            .collect::<Result<Vec<_>, Miss>>()?;
        let rendered = RenderedHttp { base, headers };
        self.state.http_connections.insert(name.to_string(), rendered.clone());
        Ok((plan, rendered))
    }
}

/// `base_url` + `path`, with exactly one slash between them.
fn join(base: &str, path: &str) -> String {
    if path.is_empty() {
        return base.to_string();
    }
    format!("{}/{}", base.trim_end_matches('/'), path.trim_start_matches('/'))
}

/// The request as the transcript shows it; the first `masked` headers (the connection's, which
/// carry credentials) show as `***`.
fn transcript_request(request: &Request, masked: usize) -> Value {
    let headers: serde_json::Map<String, Value> = request
        .headers
        .iter()
        .enumerate()
        .map(|(i, (k, v))| {
            let shown = if i < masked { "***".to_string() } else { v.clone() };
            (k.to_ascii_lowercase(), Value::String(shown))
        })
        .collect();
    let body = match &request.body {
        http::Body::Empty => Value::Null,
        http::Body::Json(v) => v.clone(),
        http::Body::Text(t) => Value::String(t.clone()),
    };
    serde_json::json!({
        "method": request.method,
        "url": request.url,
        "query": request.query,
        "headers": headers,
        "body": body,
    })
}

#[cfg(test)]
mod tests {
    use super::join;

    #[test]
    fn paths_join_the_base_with_one_slash() {
        assert_eq!(join("http://h/api/", "/x"), "http://h/api/x");
        assert_eq!(join("http://h/api", "x"), "http://h/api/x");
        assert_eq!(join("http://h/api", ""), "http://h/api");
    }
}
