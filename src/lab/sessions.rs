//! rmcp's session manager, wrapped so that the lab sees every session event: the handshake,
//! each request and its answer, and each end. The wrapped manager does the work; the wrapper
//! writes the store before rmcp answers, so a client that reads the database right after an
//! answer finds its row.

use std::sync::Arc;

use futures_util::{Stream, StreamExt};
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use rmcp::transport::streamable_http_server::SessionManager;
use rmcp::transport::streamable_http_server::session::local::{LocalSessionManager, LocalSessionManagerError};
use rmcp::transport::streamable_http_server::session::{ServerSseMessage, SessionId};
use serde_json::Value;
use tokio::time::Instant;

use super::LabState;
use super::store::{NewRequest, NewSession, Outcome};

/// How many SSE messages of one answer may wait while the store is written.
const STREAM_BUFFER: usize = 16;

/// The lab's session manager.
pub struct RecordingSessions {
    inner: Arc<LocalSessionManager>,
    lab: Arc<LabState>,
}

impl RecordingSessions {
    /// Records the sessions `inner` manages.
    pub fn new(inner: Arc<LocalSessionManager>, lab: Arc<LabState>) -> Self {
        Self { inner, lab }
    }
}

/// A request being served on a live session; it ends (and the session's idle time starts
/// again) when dropped.
pub(super) struct InFlight {
    lab: Arc<LabState>,
    session: String,
}

impl InFlight {
    /// Counts a request on `session`, or `None` when the session is not live (ended, or never
    /// initialized).
    pub(super) fn begin(lab: Arc<LabState>, session: &str) -> Option<Self> {
        lab.tracker.begin(session).then(|| Self {
            lab,
            session: session.to_string(),
        })
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.lab.tracker.finished(&self.session);
    }
}

/// A request as the store records it.
#[derive(Debug, Clone)]
struct Sent {
    id: Value,
    method: String,
    tool_name: Option<String>,
}

impl Sent {
    /// The request in `message`; `None` for a notification or a response.
    fn of(message: &ClientJsonRpcMessage) -> Option<Self> {
        let value = serde_json::to_value(message).ok()?;
        let method = value.get("method")?.as_str()?.to_string();
        let id = value.get("id")?.clone();
        let tool_name = (method == "tools/call")
            .then(|| value["params"]["name"].as_str().map(str::to_string))
            .flatten();
        Some(Self { id, method, tool_name })
    }

    /// True when `message` answers this request.
    fn answered_by(&self, message: &Value) -> bool {
        message.get("id") == Some(&self.id) && (message.get("result").is_some() || message.get("error").is_some())
    }
}

/// `ok`, a JSON-RPC `error`, or a tool result with `isError: true`.
fn outcome(answer: &Value) -> Outcome {
    if answer.get("error").is_some() {
        Outcome::Error
    } else if answer["result"]["isError"] == Value::Bool(true) {
        Outcome::ToolError
    } else {
        Outcome::Ok
    }
}

impl LabState {
    /// Writes a finished request; a store failure is reported, not passed to the client.
    async fn record(
        &self,
        session: &str,
        sent: &Sent,
        at: chrono::DateTime<chrono::Utc>,
        started: Instant,
        answer: &Value,
    ) {
        let request = NewRequest {
            session_id: session.to_string(),
            method: sent.method.clone(),
            tool_name: sent.tool_name.clone(),
            at,
            duration_ms: started.elapsed().as_secs_f64() * 1000.0,
            outcome: outcome(answer),
        };
        if let Err(e) = self.store.request_finished(&request).await {
            self.warn(format_args!("cannot record {} on session {session}: {e}", sent.method));
        }
    }
}

impl SessionManager for RecordingSessions {
    type Error = LocalSessionManagerError;
    type Transport = <LocalSessionManager as SessionManager>::Transport;

    async fn create_session(&self) -> Result<(SessionId, Self::Transport), Self::Error> {
        // A session counts from its handshake: one that never completes it has no row.
        self.inner.create_session().await
    }

    async fn initialize_session(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<ServerJsonRpcMessage, Self::Error> {
        let (at, started) = (chrono::Utc::now(), Instant::now());
        let sent = Sent::of(&message);
        let params = serde_json::to_value(&message)
            .map(|v| v["params"].clone())
            .unwrap_or_default();
        let response = self.inner.initialize_session(id, message).await?;
        let answer = serde_json::to_value(&response).unwrap_or_default();
        let Some(protocol) = answer["result"]["protocolVersion"].as_str() else {
            return Ok(response);
        };
        self.lab.tracker.started(id);
        // Busy until answered: a slow store write must not let the new session expire before
        // the client has even seen its id.
        let _busy = InFlight::begin(self.lab.clone(), id);
        let session = NewSession {
            session_id: id.to_string(),
            client_name: params["clientInfo"]["name"].as_str().map(str::to_string),
            client_version: params["clientInfo"]["version"].as_str().map(str::to_string),
            protocol_version: Some(protocol.to_string()),
            at,
        };
        match self.lab.store.session_started(&session).await {
            Ok(()) => {
                if let Some(sent) = &sent {
                    self.lab.record(id, sent, at, started, &answer).await;
                }
            }
            Err(e) => self.lab.warn(format_args!("cannot record session {id}: {e}")),
        }
        Ok(response)
    }

    async fn has_session(&self, id: &SessionId) -> Result<bool, Self::Error> {
        self.inner.has_session(id).await
    }

    async fn close_session(&self, id: &SessionId) -> Result<(), Self::Error> {
        // Closed first, so that a client that sees the row end also gets 404 from then on.
        let closed = self.inner.close_session(id).await;
        if let Some(reason) = self.lab.tracker.closed(id) {
            self.lab.end(id, reason).await;
        }
        closed
    }

    async fn create_stream(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        let (at, started) = (chrono::Utc::now(), Instant::now());
        let Some(sent) = Sent::of(&message) else {
            self.lab.tracker.touch(id);
            return Ok(self.inner.create_stream(id, message).await?.left_stream());
        };
        // Busy until its stream ends: a long request does not make its session idle. (The
        // gate holds the request's first count until this one is taken.)
        let busy = InFlight::begin(self.lab.clone(), id);
        let stream = self.inner.create_stream(id, message).await?;
        let (tx, mut rx) = tokio::sync::mpsc::channel(STREAM_BUFFER);
        let (lab, session) = (self.lab.clone(), id.to_string());
        tokio::spawn(async move {
            let _busy = busy;
            let mut stream = std::pin::pin!(stream);
            while let Some(item) = stream.next().await {
                if let Some(message) = &item.message {
                    let answer = serde_json::to_value(message.as_ref()).unwrap_or_default();
                    if sent.answered_by(&answer) {
                        lab.record(&session, &sent, at, started, &answer).await;
                    }
                }
                if tx.send(item).await.is_err() {
                    break;
                }
            }
        });
        Ok(futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx)).right_stream())
    }

    async fn accept_message(&self, id: &SessionId, message: ClientJsonRpcMessage) -> Result<(), Self::Error> {
        self.lab.tracker.touch(id);
        self.inner.accept_message(id, message).await
    }

    async fn create_standalone_stream(
        &self,
        id: &SessionId,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        self.lab.tracker.touch(id);
        self.inner.create_standalone_stream(id).await
    }

    async fn resume(
        &self,
        id: &SessionId,
        last_event_id: String,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        self.lab.tracker.touch(id);
        self.inner.resume(id, last_event_id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn outcomes_follow_the_answer_shape() {
        assert_eq!(outcome(&json!({"id": 1, "result": {"content": []}})), Outcome::Ok);
        assert_eq!(
            outcome(&json!({"id": 1, "result": {"isError": true}})),
            Outcome::ToolError
        );
        assert_eq!(outcome(&json!({"id": 1, "error": {"code": -32602}})), Outcome::Error);
    }

    #[test]
    fn a_request_is_answered_only_by_its_own_id() {
        let sent = Sent {
            id: json!(7),
            method: "tools/call".into(),
            tool_name: Some("echo".into()),
        };
        assert!(sent.answered_by(&json!({"jsonrpc": "2.0", "id": 7, "result": {}})));
        assert!(!sent.answered_by(&json!({"jsonrpc": "2.0", "id": 8, "result": {}})));
        assert!(!sent.answered_by(&json!({"jsonrpc": "2.0", "method": "notifications/progress"})));
    }
}
