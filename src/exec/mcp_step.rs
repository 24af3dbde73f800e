//! MCP steps: `initialize`, `call`, `request`, `notify`, `close`, `forget`, each on the client's
//! own session, with the connection's `on_expired` policy for sessions the server has dropped.

use serde_json::{Value, json};

use super::event::{Event, Exchange};
use super::session::{Connection, Handshake, Opened};
use super::step::{Miss, Runner};
use crate::plan::OnExpired;
use crate::plan::{Action, ClientInfoPlan, ConnectionKind, McpConnectionPlan, StepPlan, ValuePlan};
use crate::proto::mcp::{Answer, McpClient, Settings};

/// What an MCP step sends.
enum Message {
    Request(String, Option<Value>),
    Notify(String, Option<Value>),
    Close,
}

impl Runner<'_> {
    /// Runs an MCP step; its result document is
    /// `{status, headers, body, result, error, events, session_id, session, elapsed_ms, ttfb_ms}`.
    pub(super) async fn mcp(&mut self, step: &StepPlan) -> Result<Option<Value>, Miss> {
        let render = |v: &ValuePlan| self.state.render(self.shared, v).map_err(Miss::Failed);
        let message = match &step.action {
            Action::Initialize {
                connection,
                client_info,
                capabilities,
            } => {
                return self
                    .initialize(step, connection, client_info.as_ref(), capabilities.as_ref())
                    .await
                    .map(Some);
            }
            Action::Forget { connection } => {
                self.forget(connection);
                return Ok(None);
            }
            Action::Call { tool, arguments, .. } => {
                let params = json!({ "name": render(tool)?, "arguments": render(arguments)? });
                Message::Request("tools/call".into(), Some(params))
            }
            Action::Request { method, params, .. } => {
                Message::Request(text(render(method)?), params.as_ref().map(render).transpose()?)
            }
            Action::Notify { method, params, .. } => {
                Message::Notify(text(render(method)?), params.as_ref().map(render).transpose()?)
            }
            Action::Close { .. } => Message::Close,
            _ => unreachable!("called for MCP steps only"),
        };
        let connection = mcp_connection_name(&step.action);
        match step.action.chosen_session() {
            Some(session) => {
                let session = self.render_text(session)?;
                self.send_as(step, connection, message, session).await.map(Some)
            }
            None => self.send(step, connection, message).await.map(Some),
        }
    }

    async fn initialize(
        &mut self,
        step: &StepPlan,
        name: &str,
        client_info: Option<&ClientInfoPlan>,
        capabilities: Option<&ValuePlan>,
    ) -> Result<Value, Miss> {
        let plan = self.mcp_plan(name)?;
        let handshake = Handshake {
            protocol_version: plan.protocol_version.as_str().to_string(),
            capabilities: self.render_value(capabilities.unwrap_or(&plan.capabilities))?,
            client_info: self.client_info(client_info.unwrap_or(&plan.client_info))?,
        };
        let connection = self.connection(name).await?;
        let answer = open(&mut connection.client, &handshake).await?;
        connection.handshake = Some(handshake);
        let opened = Opened::of(&connection.client);
        let session = opened.id.clone();
        if answer.result.is_some() {
            self.state.mcp.opened(opened);
        }
        Ok(self.document(step, &answer, session.as_deref(), None))
    }

    /// Sends a message on the connection's session; a session the server has dropped is opened
    /// again and the message resent once when the connection says `on_expired: reinitialize`.
    async fn send(&mut self, step: &StepPlan, name: &str, message: Message) -> Result<Value, Miss> {
        let policy = self.mcp_plan(name)?.on_expired;
        let connection = self.connection(name).await?;
        let answer = deliver(&mut connection.client, &message).await?;
        let session = connection.client.session_id().map(str::to_string);
        let verdict = match message {
            // A server may refuse to let clients end sessions; that is an answer, not a failure.
            Message::Close if answer.status == 405 => Some("termination_refused"),
            _ => session_verdict(&answer),
        };
        let resend =
            verdict == Some("expired") && policy == OnExpired::Reinitialize && !matches!(message, Message::Close);
        if !resend {
            return Ok(self.document(step, &answer, session.as_deref(), verdict));
        }
        // The 404 is in the transcript; start over.
        let connection = self.connection(name).await?;
        let handshake = connection
            .handshake
            .clone()
            .ok_or_else(|| Miss::Failed("the session expired and there is no `initialize` to repeat".into()))?;
        connection.client.forget();
        let reopened = open(&mut connection.client, &handshake).await?;
        let opened = Opened::of(&connection.client);
        if reopened.result.is_none() {
            let reason = format!("the session expired, and `initialize` again got {}", reopened.status);
            return Err(Miss::Failed(reason));
        }
        let connection = self.connection(name).await?;
        let answer = deliver(&mut connection.client, &message).await?;
        let session = connection.client.session_id().map(str::to_string);
        self.state.mcp.opened(opened);
        self.state.mcp.reinitialized += 1;
        let mut document = self.document(step, &answer, session.as_deref(), session_verdict(&answer));
        document["reinitialized"] = Value::Bool(true);
        Ok(document)
    }

    /// Sends a message under a chosen session id (`session_id:`) from a copy of the
    /// connection's client, so the connection's own session stays as it was. `on_expired` does
    /// not apply: the session is not the connection's to open again.
    async fn send_as(&mut self, step: &StepPlan, name: &str, message: Message, session: String) -> Result<Value, Miss> {
        let version = self.mcp_plan(name)?.protocol_version.as_str();
        let connection = self.connection(name).await?;
        let mut client = connection.client.on_session(session, version);
        let answer = deliver(&mut client, &message).await?;
        let verdict = match message {
            Message::Close if answer.status == 405 => Some("termination_refused"),
            _ => session_verdict(&answer),
        };
        Ok(self.document(step, &answer, client.session_id(), verdict))
    }

    fn forget(&mut self, name: &str) {
        self.state.mcp.by_connection.remove(name);
    }

    /// The connection's wire client, made on first use with its own connection pool.
    async fn connection(&mut self, name: &str) -> Result<&mut Connection, Miss> {
        if !self.state.mcp.by_connection.contains_key(name) {
            let plan = self.mcp_plan(name)?;
            let settings = Settings {
                url: self.render_text(&plan.url)?,
                headers: plan
                    .headers
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), self.render_text(v)?)))
                    .collect::<Result<_, Miss>>()?,
                timeout: plan.timeout,
                idle_timeout: plan.idle_timeout,
                max_answer: plan.max_answer,
            };
            let http = crate::proto::http::client(plan.connect_timeout).map_err(|e| Miss::Failed(e.to_string()))?;
            let connection = Connection {
                client: McpClient::new(http, settings),
                handshake: None,
            };
            self.state.mcp.by_connection.insert(name.to_string(), connection);
        }
        Ok(self.state.mcp.by_connection.get_mut(name).expect("inserted above"))
    }

    fn mcp_plan(&self, name: &str) -> Result<&McpConnectionPlan, Miss> {
        match self.shared.plan.connection(name).map(|c| &c.kind) {
            Some(ConnectionKind::Mcp(plan)) => Ok(plan),
            _ => Err(Miss::Failed(format!("`{name}` is not an MCP connection"))),
        }
    }

    fn render_value(&self, value: &ValuePlan) -> Result<Value, Miss> {
        self.state.render(self.shared, value).map_err(Miss::Failed)
    }

    fn render_text(&self, value: &ValuePlan) -> Result<String, Miss> {
        self.state.render_text(self.shared, value).map_err(Miss::Failed)
    }

    /// `clientInfo`: the given fields, `runner` and its version for the rest.
    fn client_info(&self, info: &ClientInfoPlan) -> Result<Value, Miss> {
        let name = match &info.name {
            Some(n) => self.render_text(n)?,
            None => "runner".into(),
        };
        let version = match &info.version {
            Some(v) => self.render_text(v)?,
            None => env!("CARGO_PKG_VERSION").into(),
        };
        Ok(json!({ "name": name, "version": version }))
    }

    /// Builds the result document of an answer. (The transcript gets every request from
    /// [`Runner::transcribe`].)
    fn document(&mut self, step: &StepPlan, answer: &Answer, session: Option<&str>, verdict: Option<&str>) -> Value {
        let mut document = json!({
            "status": answer.status,
            "headers": answer.headers,
            "body": answer.body,
            "events": answer.events,
            "session_id": session,
            "elapsed_ms": answer.elapsed_ms,
            "ttfb_ms": answer.ttfb_ms,
        });
        // Keys that do not apply are left out, so `absent: true` and `exists: false` read naturally.
        let optional = [
            ("result", answer.result.clone()),
            ("error", answer.error.clone()),
            ("session", verdict.map(Value::from)),
        ];
        for (key, value) in optional {
            if let Some(value) = value {
                document[key] = value;
            }
        }
        self.latency.record(
            &step.name,
            std::time::Duration::from_secs_f64(answer.elapsed_ms / 1000.0),
        );
        document
    }

    /// Puts every request the step sent on its connection in the transcript, one line each,
    /// answered or not; one whose exchange was dropped (the step's `timeout`, a stopped run) gets
    /// `unanswered` as its error. The connection's own headers show as `***`, as on `http`.
    pub(super) fn transcribe(&mut self, step: &StepPlan, unanswered: &str) {
        let name = mcp_connection_name(&step.action);
        let given: Vec<String> = match self.mcp_plan(name) {
            Ok(plan) => plan.headers.iter().map(|(k, _)| k.to_ascii_lowercase()).collect(),
            Err(_) => return,
        };
        let Some(connection) = self.state.mcp.by_connection.get_mut(name) else {
            return;
        };
        for sent in connection.client.take_sent() {
            let mut headers = sent.headers;
            for name in &given {
                if let Some(value) = headers.get_mut(name) {
                    *value = Value::from("***");
                }
            }
            // The body once: `result` and `error` are parts of it.
            let response = match sent.outcome {
                Some(Ok(answer)) => json!({
                    "status": answer.status,
                    "headers": answer.headers,
                    "body": answer.body,
                    "events": answer.events,
                    "elapsed_ms": answer.elapsed_ms,
                    "ttfb_ms": answer.ttfb_ms,
                }),
                Some(Err(failure)) => json!({ "error": failure.to_string() }),
                None => json!({ "error": unanswered }),
            };
            self.shared.emit(Event::Exchange(Box::new(Exchange {
                actor: self.state.actor.clone(),
                step: step.name.as_str().into(),
                sent_at: sent.at,
                request: json!({ "method": sent.method, "url": sent.url, "headers": headers, "body": sent.body }),
                response,
            })));
        }
    }
}

/// Handshakes on a wire client.
async fn open(client: &mut McpClient, handshake: &Handshake) -> Result<Answer, Miss> {
    client
        .initialize(
            &handshake.protocol_version,
            handshake.capabilities.clone(),
            handshake.client_info.clone(),
        )
        .await
        .map_err(|f| Miss::Failed(f.to_string()))
}

async fn deliver(client: &mut McpClient, message: &Message) -> Result<Answer, Miss> {
    let sent = match message {
        Message::Request(method, params) => client.request(method, params.clone()).await,
        Message::Notify(method, params) => client.notify(method, params.clone()).await,
        Message::Close => client.close().await,
    };
    sent.map_err(|f| Miss::Failed(f.to_string()))
}

/// A request that carried a session id and got 404 found its session gone (`expired`); a 400
/// means the server would not take the id (`rejected`).
fn session_verdict(answer: &Answer) -> Option<&'static str> {
    match (answer.sent_session.is_some(), answer.status) {
        (true, 404) => Some("expired"),
        (true, 400) => Some("rejected"),
        _ => None,
    }
}

/// What an MCP step without `expect` requires of its answer: a 2xx status and no JSON-RPC error.
pub(super) fn implicit_failure(document: &Value) -> Option<String> {
    let status = document["status"].as_u64().unwrap_or(0);
    if document["session"] == "termination_refused" {
        return None;
    }
    if document["session"] == "expired" {
        let id = document["session_id"].as_str().unwrap_or("?");
        return Some(format!("session_expired: the server answered 404 for session {id}"));
    }
    if !(200..300).contains(&status) {
        return Some(format!("the server answered {status}: {}", short(&document["body"])));
    }
    if let Some(error) = document["error"].as_object() {
        let code = error.get("code").cloned().unwrap_or(Value::Null);
        let message = error.get("message").and_then(Value::as_str).unwrap_or("");
        return Some(format!("JSON-RPC error {code}: {message}"));
    }
    None
}

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

fn text(value: Value) -> String {
    match value {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

/// The connection an MCP action names.
fn mcp_connection_name(action: &Action) -> &str {
    match action {
        Action::Initialize { connection, .. }
        | Action::Call { connection, .. }
        | Action::Request { connection, .. }
        | Action::Notify { connection, .. }
        | Action::Close { connection, .. }
        | Action::Forget { connection } => connection,
        _ => "",
    }
}

/// The session id an MCP action sends instead of its connection's, if it names one.
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
            request: Value::Null,
            sent_session: sent_session.map(str::to_string),
        }
    }

    #[test]
    fn a_404_or_400_for_a_sent_session_is_a_verdict_on_it() {
        assert_eq!(session_verdict(&answer(404, Some("s"))), Some("expired"));
        assert_eq!(session_verdict(&answer(400, Some("s"))), Some("rejected"));
        assert_eq!(session_verdict(&answer(404, None)), None, "no session was sent");
        assert_eq!(session_verdict(&answer(200, Some("s"))), None);
    }

    #[test]
    fn without_expect_an_answer_must_be_2xx_without_an_error() {
        let ok = json!({ "status": 200, "result": {} });
        assert_eq!(implicit_failure(&ok), None);
        let expired = json!({ "status": 404, "session": "expired", "session_id": "s1" });
        assert_eq!(
            implicit_failure(&expired).unwrap(),
            "session_expired: the server answered 404 for session s1"
        );
        let rejected = json!({ "status": 400, "session": "rejected", "body": "Bad Request" });
        assert_eq!(
            implicit_failure(&rejected).unwrap(),
            "the server answered 400: Bad Request"
        );
        let error = json!({ "status": 200, "error": { "code": -32602, "message": "tool not found" } });
        assert_eq!(
            implicit_failure(&error).unwrap(),
            "JSON-RPC error -32602: tool not found"
        );
        let refused = json!({ "status": 405, "session": "termination_refused" });
        assert_eq!(implicit_failure(&refused), None, "a server may refuse DELETE");
        let five = json!({ "status": 503, "body": { "message": "busy" } });
        assert_eq!(
            implicit_failure(&five).unwrap(),
            r#"the server answered 503: {"message":"busy"}"#
        );
    }
}
