//! `http`: the rendered request, sent on the client's own pool.

use std::time::Duration;

use serde_json::Value;

use super::{Attempt, Leaf, Outcome};
use crate::exec::ctx::{Ctx, RenderedHttp};
use crate::exec::error::StepError;
use crate::exec::metrics;
use crate::plan::step::Http;
use crate::plan::{Body, HttpConn, MAX_ANSWER};
use crate::proto::http::{self, Request};

/// Deadline of an `http` step whose step and connection set none.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Deadline for opening a connection when no connection sets one.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The result document is `{status, headers, body, elapsed_ms}`.
impl Leaf for Http {
    async fn run(&self, ctx: &mut Ctx<'_>, attempt: &Attempt<'_>) -> Result<Outcome, StepError> {
        let (base, mut headers) = match &self.connection {
            Some(connection) => {
                let rendered = rendered(ctx, connection)?;
                (Some(rendered.base_url), rendered.headers)
            }
            None => (None, Vec::new()),
        };
        let masked = headers.len();
        let target = ctx.render_text(&self.target)?;
        let url = match (self.is_path, base) {
            (true, Some(base)) => join(&base, &target),
            _ => target,
        };
        for (k, v) in &self.headers {
            headers.push((k.clone(), ctx.render_text(v)?));
        }
        let query = (self.query.iter())
            .map(|(k, v)| Ok((k.clone(), ctx.render_text(v)?)))
            .collect::<Result<Vec<_>, StepError>>()?;
        let body = match &self.body {
            Body::None => http::Body::Empty,
            Body::Json(v) => http::Body::Json(ctx.render(v)?),
            Body::Text(v) => http::Body::Text(ctx.render_text(v)?),
        };
        let request = Request {
            method: self.method.clone(),
            url,
            headers,
            query,
            body,
        };
        let plan = self.connection.as_ref().map(|c| &*c.plan);
        let timeout = (attempt.deadline)
            .or(plan.map(|p| p.timeout))
            .unwrap_or(DEFAULT_TIMEOUT);
        let connect_timeout = plan.map_or(DEFAULT_CONNECT_TIMEOUT, |p| p.connect_timeout);
        let max_answer = plan.map_or(MAX_ANSWER, |p| p.max_answer);
        let sent_at = chrono::Utc::now();
        let client = ctx.http_client(connect_timeout)?;
        let answer = http::send(&client, &request, timeout, max_answer).await;
        if let Ok(document) = &answer
            && let Some(ms) = document["elapsed_ms"].as_f64()
        {
            let answered = metrics::Answer {
                status: document["status"].as_u64().and_then(|s| u16::try_from(s).ok()),
                verdict: None,
            };
            (ctx.shared.metrics).answered(attempt.step, Duration::from_secs_f64(ms / 1000.0), answered);
        }
        let response = match &answer {
            Ok(document) => document.clone(),
            Err(failure) => serde_json::json!({ "error": failure.to_string() }),
        };
        ctx.exchanged(attempt.step, sent_at, transcript_request(&request, masked), response);
        Ok(Outcome::Result(answer?))
    }
}

/// A connection's base URL and headers, rendered once per client: their templates see only
/// `vars`, `env`, `run` and `client`, which do not change while it runs.
fn rendered(ctx: &mut Ctx<'_>, connection: &HttpConn) -> Result<RenderedHttp, StepError> {
    if let Some(rendered) = ctx.http_connections.get(&connection.name) {
        return Ok(rendered.clone());
    }
    let base_url = ctx.render_text(&connection.plan.base_url)?;
    let headers = (connection.plan.headers.iter())
        .map(|(k, v)| Ok((k.clone(), ctx.render_text(v)?)))
        .collect::<Result<Vec<_>, StepError>>()?;
    let rendered = RenderedHttp { base_url, headers };
    ctx.http_connections.insert(connection.name.clone(), rendered.clone());
    Ok(rendered)
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
