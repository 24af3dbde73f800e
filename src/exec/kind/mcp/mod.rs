//! MCP steps, each on the client's own session of its connection, with the connection's
//! `on_expired` policy for sessions the server has dropped. One module per kind; what they share
//! (the wire client per connection, sending, the result document, the transcript) is here.

mod call;
mod close;
mod forget;
mod initialize;
pub mod life;
mod notify;
mod request;

use std::sync::Arc;

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::{Attempt, Outcome};
use crate::exec::ctx::Ctx;
use crate::exec::error::StepError;
use crate::exec::metrics;
use crate::exec::session::{Connection, Handshake, Opened};
use crate::plan::OnExpired;
use crate::plan::{McpConn, ValuePlan};
use crate::proto::mcp::{Answer, Heard, McpClient, Settings};

/// What a step sends on a session.
enum Message {
    Request(String, Option<Value>),
    Notify(String, Option<Value>),
    Close,
}

/// What an answer says of the session the request named.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// A 404: the server no longer knows it.
    Expired,
    /// A 400: the server would not take the id.
    Rejected,
    /// A 405 to `close`: the server does not let clients end sessions, which is an answer, not
    /// a failure.
    TerminationRefused,
}

impl Verdict {
    /// Its name in `report.json`'s metrics.
    fn key(self) -> &'static str {
        match self {
            Verdict::Expired => "expired",
            Verdict::Rejected => "rejected",
            Verdict::TerminationRefused => "termination_refused",
        }
    }
}

/// What the step's answer came to, before it becomes the result document
/// `{status, headers, body, result, error, events, session_id, session, elapsed_ms, ttfb_ms}`.
struct Answered {
    answer: Answer,
    session_id: Option<String>,
    verdict: Option<Verdict>,
    reinitialized: bool,
}

impl Answered {
    fn new(answer: Answer, session_id: Option<String>, verdict: Option<Verdict>) -> Self {
        Self {
            answer,
            session_id,
            verdict,
            reinitialized: false,
        }
    }

    fn into_outcome(self, ctx: &mut Ctx<'_>, attempt: &Attempt<'_>) -> Outcome {
        let elapsed = std::time::Duration::from_secs_f64(self.answer.elapsed_ms / 1000.0);
        let answered = metrics::Answer {
            status: Some(self.answer.status),
            verdict: self.verdict.map(Verdict::key),
        };
        ctx.shared.metrics.answered(attempt.step, elapsed, answered);
        let required = self.required();
        let answer = self.answer;
        // Moved in, not through `json!`, which would copy every part of the answer.
        let mut document = Map::with_capacity(11);
        let parts = [
            ("status", Value::from(answer.status)),
            ("headers", Value::Object(answer.headers)),
            ("body", answer.body),
            ("events", Value::Array(answer.events)),
            ("session_id", self.session_id.map_or(Value::Null, Value::String)),
            ("elapsed_ms", Value::from(answer.elapsed_ms)),
            ("ttfb_ms", Value::from(answer.ttfb_ms)),
        ];
        for (key, value) in parts {
            document.insert(key.into(), value);
        }
        // Keys that do not apply are left out, so `absent: true` and `exists: false` read naturally.
        let optional = [
            ("result", answer.result),
            ("error", answer.error),
            ("session", self.verdict.map(|v| Value::from(v.key()))),
            ("reinitialized", self.reinitialized.then_some(Value::Bool(true))),
        ];
        for (key, value) in optional {
            if let Some(value) = value {
                document.insert(key.into(), value);
            }
        }
        Outcome::Answer {
            document: Value::Object(document),
            required,
        }
    }

    /// What an MCP step without `expect` requires of its answer: a 2xx status and no JSON-RPC
    /// error, on a session the server still knows.
    fn required(&self) -> Result<(), StepError> {
        let answer = &self.answer;
        match self.verdict {
            Some(Verdict::TerminationRefused) => return Ok(()),
            Some(Verdict::Expired) => {
                let id = self.session_id.clone().unwrap_or_else(|| "?".into());
                return Err(StepError::SessionExpired { id });
            }
            Some(Verdict::Rejected) | None => {}
        }
        if !(200..300).contains(&answer.status) {
            return Err(StepError::Status {
                status: answer.status,
                body: short(&answer.body),
            });
        }
        if let Some(error) = answer.error.as_ref().and_then(Value::as_object) {
            return Err(StepError::JsonRpc {
                code: error.get("code").cloned().unwrap_or(Value::Null),
                message: error.get("message").and_then(Value::as_str).unwrap_or("").into(),
            });
        }
        Ok(())
    }
}

/// The connection's wire client, made on first use with its own connection pool.
async fn connection_for<'c>(ctx: &'c mut Ctx<'_>, conn: &McpConn) -> Result<&'c mut Connection, StepError> {
    if !ctx.mcp.by_connection.contains_key(&conn.name) {
        let plan = &*conn.plan;
        let settings = Settings {
            url: ctx.render_text(&plan.url)?,
            headers: (plan.headers.iter())
                .map(|(k, v)| Ok((k.clone(), ctx.render_text(v)?)))
                .collect::<Result<_, StepError>>()?,
            connect_timeout: plan.connect_timeout,
            timeout: plan.timeout,
            idle_timeout: plan.idle_timeout,
            max_answer: plan.max_answer,
        };
        let connection = Box::new(Connection {
            client: McpClient::new(settings),
            handshake: None,
            active: None,
            lane: None,
        });
        ctx.mcp.by_connection.insert(conn.name.clone(), connection);
    }
    Ok(&mut **ctx.mcp.by_connection.get_mut(&conn.name).expect("inserted above"))
}

/// Sends a message on the connection's session, or, with `session_id:`, on the chosen one.
async fn send(
    ctx: &mut Ctx<'_>,
    attempt: &Attempt<'_>,
    conn: &McpConn,
    message: Message,
    chosen: Option<&ValuePlan>,
) -> Result<Outcome, StepError> {
    let answered = match chosen {
        Some(session) => {
            let session = ctx.render_text(session)?;
            send_as(ctx, conn, &message, session).await?
        }
        None => send_own(ctx, conn, &message).await?,
    };
    Ok(answered.into_outcome(ctx, attempt))
}

/// Sends a `request` or a `notify`: its method and params, rendered, as `build` makes them.
async fn send_message(
    ctx: &mut Ctx<'_>,
    attempt: &Attempt<'_>,
    step: &crate::plan::step::Message,
    build: fn(String, Option<Value>) -> Message,
) -> Result<Outcome, StepError> {
    let method = ctx.render_text(&step.method)?;
    let params = step.params.as_ref().map(|p| ctx.render(p)).transpose()?;
    send(
        ctx,
        attempt,
        &step.connection,
        build(method, params),
        step.session_id.as_ref(),
    )
    .await
}

/// Sends on the connection's own session; a session the server has dropped is opened again and
/// the message resent once when the connection says `on_expired: reinitialize`.
async fn send_own(ctx: &mut Ctx<'_>, conn: &McpConn, message: &Message) -> Result<Answered, StepError> {
    let shared = ctx.shared;
    let metrics = &shared.metrics;
    let connection = connection_for(ctx, conn).await?;
    let answer = deliver(&mut connection.client, message).await?;
    let session = connection.client.session_id().map(str::to_string);
    let verdict = verdict_of(message, &answer);
    life::answered(connection, metrics, message, answer.status, verdict);
    let resend = verdict == Some(Verdict::Expired)
        && conn.plan.on_expired == OnExpired::Reinitialize
        && !matches!(message, Message::Close);
    if !resend {
        return Ok(Answered::new(answer, session, verdict));
    }
    // The 404 goes in the transcript whole; start over.
    let client = ctx.actor.clone();
    let connection = connection_for(ctx, conn).await?;
    connection.client.dismiss(&answer);
    let handshake = connection.handshake.clone().ok_or(StepError::NoHandshake)?;
    connection.client.forget();
    let reopened = open(&mut connection.client, &handshake).await?;
    connection.client.dismiss(&reopened);
    let opened = Opened::of(&connection.client);
    if reopened.result.is_none() {
        return Err(StepError::Reinitialize(reopened.status));
    }
    life::opened(connection, metrics, &client, true);
    metrics.session_reinitialized();
    let answer = deliver(&mut connection.client, message).await?;
    let session = connection.client.session_id().map(str::to_string);
    let verdict = verdict_of(message, &answer);
    life::answered(connection, metrics, message, answer.status, verdict);
    ctx.opened(opened);
    ctx.mcp.reinitialized += 1;
    let mut answered = Answered::new(answer, session, verdict);
    answered.reinitialized = true;
    Ok(answered)
}

/// Sends under a chosen session id from a copy of the connection's client, so the connection's
/// own session stays as it was. `on_expired` does not apply: the session is not the
/// connection's to open again.
async fn send_as(ctx: &mut Ctx<'_>, conn: &McpConn, message: &Message, session: String) -> Result<Answered, StepError> {
    // Marked on the chosen session's lane, if it is one of the clients': a probe of a session
    // after its end shows there.
    ctx.named_sessions = ctx.shared.metrics.sessions_named([&Value::from(session.as_str())]);
    let version = conn.plan.protocol_version.as_str();
    let connection = connection_for(ctx, conn).await?;
    let mut client = connection.client.on_session(session, version);
    let answer = deliver(&mut client, message).await?;
    let verdict = verdict_of(message, &answer);
    Ok(Answered::new(answer, client.session_id().map(str::to_string), verdict))
}

/// Handshakes on a wire client.
async fn open(client: &mut McpClient, handshake: &Handshake) -> Result<Answer, StepError> {
    let answer = client
        .initialize(
            &handshake.protocol_version,
            handshake.capabilities.clone(),
            handshake.client_info.clone(),
        )
        .await?;
    Ok(answer)
}

async fn deliver(client: &mut McpClient, message: &Message) -> Result<Answer, StepError> {
    let answer = match message {
        Message::Request(method, params) => client.request(method, params.clone()).await,
        Message::Notify(method, params) => client.notify(method, params.clone()).await,
        Message::Close => client.close().await,
    }?;
    Ok(answer)
}

/// A request that carried a session id and got 404 found its session gone; a 400 means the
/// server would not take the id.
fn verdict_of(message: &Message, answer: &Answer) -> Option<Verdict> {
    match (message, answer.sent_session.is_some(), answer.status) {
        (Message::Close, _, 405) => Some(Verdict::TerminationRefused),
        (_, true, 404) => Some(Verdict::Expired),
        (_, true, 400) => Some(Verdict::Rejected),
        _ => None,
    }
}

/// Puts every request the step sent on its connection in the transcript, one line each,
/// answered or not; one whose exchange was dropped (the step's `timeout`, a stopped run) gets
/// `unanswered` as its error. The connection's own headers show as `***`, as on `http`. An
/// answer the client handed over is shown from the step's result `document`, which holds it.
pub fn transcribe(ctx: &mut Ctx<'_>, step: &str, conn: &McpConn, unanswered: &str, document: Option<&Arc<Value>>) {
    let Some(connection) = ctx.mcp.by_connection.get_mut(&conn.name) else {
        return;
    };
    let sent = connection.client.take_sent();
    if !ctx.transcribing() {
        return;
    }
    for sent in sent {
        let plan = conn.plan.clone();
        let unanswered = sent.outcome.is_none().then(|| unanswered.to_string());
        let document = document.cloned();
        ctx.exchanged_later(step, move || {
            let mut headers = sent.headers.to_map();
            for (name, _) in &plan.headers {
                if let Some(value) = headers.get_mut(&name.to_ascii_lowercase()) {
                    *value = Value::from("***");
                }
            }
            let response = match sent.outcome {
                Some(Ok(heard)) => response(heard, document.as_deref()),
                Some(Err(failure)) => json!({ "error": failure.to_string() }),
                None => json!({ "error": unanswered }),
            };
            let request = json!({ "method": sent.method, "url": sent.url, "headers": headers, "body": sent.body });
            (sent.at, request, response)
        });
    }
}

/// An answer's transcript line: its status and times, with its headers, body and events from
/// what it carried, else from the step's result document. (Only an exchange cut short between
/// its answer and the document has neither; its line shows the status and times.)
fn response(heard: Heard, document: Option<&Value>) -> Value {
    let mut line = Map::with_capacity(6);
    line.insert("status".into(), Value::from(heard.status));
    let parts = match (heard.content, document) {
        (Some(content), _) => Some((
            Value::Object(content.headers),
            content.body,
            Value::Array(content.events),
        )),
        (None, Some(document)) => Some((
            document["headers"].clone(),
            document["body"].clone(),
            document["events"].clone(),
        )),
        (None, None) => None,
    };
    if let Some((headers, body, events)) = parts {
        line.insert("headers".into(), headers);
        line.insert("body".into(), body);
        line.insert("events".into(), events);
    }
    line.insert("elapsed_ms".into(), Value::from(heard.elapsed_ms));
    line.insert("ttfb_ms".into(), Value::from(heard.ttfb_ms));
    Value::Object(line)
}

/// At most 200 characters of a body, for a message.
fn short(value: &Value) -> String {
    let text = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match text.char_indices().nth(200) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, sent_session: Option<&str>) -> Answer {
        Answer {
            status,
            headers: Default::default(),
            body: Value::Null,
            result: None,
            error: None,
            events: Vec::new(),
            elapsed_ms: 0.0,
            ttfb_ms: 0.0,
            sent_session: sent_session.map(str::to_string),
            sent: 0,
        }
    }

    #[test]
    fn a_404_or_400_for_a_sent_session_is_a_verdict_on_it() {
        let call = Message::Request("tools/call".into(), None);
        assert_eq!(verdict_of(&call, &answer(404, Some("s"))), Some(Verdict::Expired));
        assert_eq!(verdict_of(&call, &answer(400, Some("s"))), Some(Verdict::Rejected));
        assert_eq!(verdict_of(&call, &answer(404, None)), None, "no session was sent");
        assert_eq!(verdict_of(&call, &answer(200, Some("s"))), None);
        assert_eq!(verdict_of(&call, &answer(405, Some("s"))), None);
        let refused = verdict_of(&Message::Close, &answer(405, Some("s")));
        assert_eq!(refused, Some(Verdict::TerminationRefused));
    }

    fn required(answer: Answer, verdict: Option<Verdict>) -> Option<String> {
        let answered = Answered::new(answer, Some("s1".into()), verdict);
        answered.required().err().map(|e| e.to_string())
    }

    #[test]
    fn without_expect_an_answer_must_be_2xx_without_an_error() {
        let ok = Answer {
            result: Some(json!({})),
            ..answer(200, None)
        };
        assert_eq!(required(ok, None), None);
        assert_eq!(
            required(answer(404, Some("s1")), Some(Verdict::Expired)).unwrap(),
            "session_expired: the server answered 404 for session s1"
        );
        let rejected = Answer {
            body: json!("Bad Request"),
            ..answer(400, Some("s1"))
        };
        assert_eq!(
            required(rejected, Some(Verdict::Rejected)).unwrap(),
            "the server answered 400: Bad Request"
        );
        let error = Answer {
            error: Some(json!({ "code": -32602, "message": "tool not found" })),
            ..answer(200, None)
        };
        assert_eq!(required(error, None).unwrap(), "JSON-RPC error -32602: tool not found");
        let refused = required(answer(405, Some("s1")), Some(Verdict::TerminationRefused));
        assert_eq!(refused, None, "a server may refuse DELETE");
        let five = Answer {
            body: json!({ "message": "busy" }),
            ..answer(503, None)
        };
        assert_eq!(
            required(five, None).unwrap(),
            r#"the server answered 503: {"message":"busy"}"#
        );
    }
}
