//! The client: one endpoint, one session at a time, one message per exchange.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use reqwest::Method;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use serde_json::{Value, json};

use super::jsonrpc::{self, Kind, clip};
use super::sse::Messages;
use super::{Answer, Failure, Headers, Heard, Sent, Settings};
use crate::proto::http::{self, Unsent};
use crate::proto::http1::{self, Endpoint};

/// The session header (HTTP names are case-insensitive; they go out in lower case).
const SESSION: &str = "mcp-session-id";
/// The negotiated-version header.
const VERSION: &str = "mcp-protocol-version";
/// The first protocol version that sends `MCP-Protocol-Version`.
const VERSION_HEADER_SINCE: &str = "2025-06-18";

/// A Streamable HTTP client of one MCP endpoint: its session, its negotiated version, its ids.
#[derive(Debug)]
pub struct McpClient {
    settings: Settings,
    /// `settings.url` worked out once, not on every request; shared with the clients
    /// [`McpClient::on_session`] makes. An error is the reason every request fails.
    endpoint: Arc<Result<Endpoint, Unsent>>,
    /// The connection between exchanges. Taken out while an exchange runs, and put back only
    /// when its answer was read as HTTP/1.1 says, so an exchange cut short takes its
    /// connection with it.
    idle: Mutex<Option<http1::Idle>>,
    next_id: u64,
    session: Option<String>,
    version: Option<String>,
    server_info: Option<Value>,
    /// Every request since the last [`McpClient::take_sent`], shared with the clients
    /// [`McpClient::on_session`] makes, so theirs are listed too. A lock only because exchanges
    /// take `&self`; one client and its copies are used by one task.
    sent: Arc<Mutex<Vec<Sent>>>,
}

/// A request as it goes out, and the session it carries.
struct Wire {
    bytes: Vec<u8>,
    session: Option<String>,
}

/// What one exchange sends and expects.
struct Outgoing<'a> {
    method: Method,
    /// The JSON-RPC message (none for DELETE).
    message: Option<Value>,
    /// The id of the answer, for a request.
    expected: Option<&'a Value>,
    session: Option<&'a str>,
    version: Option<&'a str>,
}

impl McpClient {
    /// A client without a session, and without a connection until the first message.
    pub fn new(settings: Settings) -> Self {
        McpClient {
            endpoint: Arc::new(Endpoint::new(&settings.url, settings.connect_timeout)),
            idle: Mutex::default(),
            settings,
            next_id: 1,
            session: None,
            version: None,
            server_info: None,
            sent: Arc::default(),
        }
    }

    /// The requests sent since the last call, oldest first, each with its outcome.
    pub fn take_sent(&mut self) -> Vec<Sent> {
        std::mem::take(&mut *self.sent.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// The endpoint it talks to.
    pub fn url(&self) -> &str {
        &self.settings.url
    }

    /// The `Mcp-Session-Id` the server assigned, if any.
    pub fn session_id(&self) -> Option<&str> {
        self.session.as_deref()
    }

    /// The protocol version the server agreed to.
    pub fn protocol_version(&self) -> Option<&str> {
        self.version.as_deref()
    }

    /// The server's `serverInfo`.
    pub fn server_info(&self) -> Option<&Value> {
        self.server_info.as_ref()
    }

    /// POSTs `initialize` (no session header) with an explicit `protocolVersion`, then
    /// `notifications/initialized`, which must get 202. On a 2xx answer with a `result` the
    /// session id (or its absence), the negotiated version and `serverInfo` replace the old ones;
    /// a non-2xx or `error` answer is returned as it is and changes nothing.
    pub async fn initialize(
        &mut self,
        protocol_version: &str,
        capabilities: Value,
        client_info: Value,
    ) -> Result<Answer, Failure> {
        let id = self.next_id();
        let params = json!({
            "protocolVersion": protocol_version,
            "capabilities": capabilities,
            "clientInfo": client_info,
        });
        let message = jsonrpc::request(id, "initialize", Some(params));
        let expected = Value::from(id);
        let answer = self
            .exchange(Outgoing {
                method: Method::POST,
                message: Some(message),
                expected: Some(&expected),
                session: None,
                version: None,
            })
            .await?;
        let Some(result) = answer.result.as_ref().filter(|_| is_success(answer.status)) else {
            return Ok(answer);
        };
        self.session = answer.headers.get(SESSION).and_then(Value::as_str).map(str::to_string);
        self.version = result
            .get("protocolVersion")
            .and_then(Value::as_str)
            .map(str::to_string);
        self.server_info = result.get("serverInfo").cloned();
        // The handshake's answers are the caller's only when it succeeds.
        let initialized = match self.notify("notifications/initialized", None).await {
            Ok(initialized) => initialized,
            Err(failure) => {
                self.dismiss(&answer);
                return Err(failure);
            }
        };
        self.dismiss(&initialized);
        if initialized.status != 202 {
            self.dismiss(&answer);
            return Err(Failure::Broken(format!(
                "notifications/initialized got {}",
                initialized.status
            )));
        }
        Ok(answer)
    }

    /// Sends a request with a fresh id on the session.
    pub async fn request(&mut self, method: &str, params: Option<Value>) -> Result<Answer, Failure> {
        let id = self.next_id();
        let message = jsonrpc::request(id, method, params);
        let expected = Value::from(id);
        self.exchange(Outgoing {
            method: Method::POST,
            message: Some(message),
            expected: Some(&expected),
            session: self.session.as_deref(),
            version: self.version.as_deref(),
        })
        .await
    }

    /// Sends a notification on the session; the answer is normally 202 with no body.
    pub async fn notify(&mut self, method: &str, params: Option<Value>) -> Result<Answer, Failure> {
        let message = jsonrpc::notification(method, params);
        self.exchange(Outgoing {
            method: Method::POST,
            message: Some(message),
            expected: None,
            session: self.session.as_deref(),
            version: self.version.as_deref(),
        })
        .await
    }

    /// DELETEs the session (with its header). The client keeps the id: a request after `close`
    /// carries it, so a test can see what the server does with a closed session (the spec says
    /// 404); the next `initialize` replaces it.
    pub async fn close(&mut self) -> Result<Answer, Failure> {
        self.exchange(Outgoing {
            method: Method::DELETE,
            message: None,
            expected: None,
            session: self.session.as_deref(),
            version: self.version.as_deref(),
        })
        .await
    }

    /// A client of the same endpoint (same headers and deadlines, its own connection) that holds
    /// the given session id, for a message sent under an id this client does not hold (one the
    /// server never issued). It sends this client's negotiated version, or `version` when
    /// nothing was negotiated yet; this client is left as it is, but lists what the copy sends.
    pub fn on_session(&self, session: String, version: &str) -> McpClient {
        McpClient {
            settings: self.settings.clone(),
            endpoint: self.endpoint.clone(),
            idle: Mutex::default(),
            next_id: self.next_id,
            session: Some(session),
            version: Some(self.version.clone().unwrap_or_else(|| version.to_string())),
            server_info: None,
            sent: self.sent.clone(),
        }
    }

    /// Drops the session id, negotiated version and server info without telling the server.
    pub fn forget(&mut self) {
        self.session = None;
        self.version = None;
        self.server_info = None;
    }

    fn next_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// One exchange within `Settings::timeout`, kept in [`McpClient::take_sent`]'s list: before
    /// it goes out, so that even one whose future is dropped is there.
    async fn exchange(&self, mut outgoing: Outgoing<'_>) -> Result<Answer, Failure> {
        // Straight to bytes: `Value::to_string` goes through a formatter, at twice the cost.
        let body = (outgoing.message.as_ref()).map(|m| serde_json::to_vec(m).expect("a JSON value serializes"));
        let headers = self.headers(body.is_some(), outgoing.session, outgoing.version);
        // The request's bytes first, so that the list can keep its headers without a copy.
        let wire = match (&headers, self.endpoint()) {
            (Ok(headers), Ok(endpoint)) => Ok(Wire {
                bytes: endpoint.request(&outgoing.method, headers, body.as_deref()),
                session: (headers.get(SESSION)).map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()),
            }),
            (Err(failure), _) => Err(failure.clone()),
            (Ok(_), Err(failure)) => Err(failure),
        };
        let slot = self.record(&mut outgoing, headers.ok());
        let after = self.settings.timeout;
        let outcome = match wire {
            Err(failure) => Err(failure),
            Ok(wire) => tokio::time::timeout(after, self.exchange_unbounded(outgoing, wire))
                .await
                .unwrap_or(Err(Failure::Timeout { after })),
        };
        let heard = outcome.as_ref().map(|answer| Heard {
            status: answer.status,
            elapsed_ms: answer.elapsed_ms,
            ttfb_ms: answer.ttfb_ms,
            content: None,
        });
        self.sent.lock().unwrap_or_else(PoisonError::into_inner)[slot].outcome = Some(heard.map_err(Failure::clone));
        outcome.map(|answer| Answer { sent: slot, ..answer })
    }

    /// Takes back an answer the caller will not make a result document of (one it resends
    /// past, say), so that its transcript line shows it whole.
    pub fn dismiss(&self, answer: &Answer) {
        let mut sent = self.sent.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(Sent {
            outcome: Some(Ok(heard)),
            ..
        }) = sent.get_mut(answer.sent)
        {
            heard.content = Some(answer.content());
        }
    }

    /// Adds a request to the list, unanswered; its index. The message moves into the list: the
    /// request's body is already serialized.
    fn record(&self, outgoing: &mut Outgoing<'_>, headers: Option<HeaderMap>) -> usize {
        let headers = match headers {
            Some(map) => Headers::Built(map),
            None => Headers::Given(self.settings.headers.clone()),
        };
        let mut sent = self.sent.lock().unwrap_or_else(PoisonError::into_inner);
        sent.push(Sent {
            at: chrono::Utc::now(),
            method: outgoing.method.to_string(),
            url: self.settings.url.clone(),
            headers,
            body: outgoing.message.take().unwrap_or(Value::Null),
            outcome: None,
        });
        sent.len() - 1
    }

    async fn exchange_unbounded(&self, outgoing: Outgoing<'_>, wire: Wire) -> Result<Answer, Failure> {
        let endpoint = self.endpoint()?;
        let sent_session = wire.session;
        let started = Instant::now();
        let response = endpoint
            .send(self.take_idle(), &wire.bytes)
            .await
            .map_err(|e| match e {
                http1::Error::Unsent(unsent) => Failure::Unsent(unsent),
                http1::Error::Broken(reason) => Failure::Broken(format!("the request failed: {reason}")),
            })?;
        let ttfb_ms = ms(started);
        let status = response.status;
        let headers = http::headers(&response.headers);
        let mut body = response.body;
        let is_sse = headers
            .get("content-type")
            .and_then(Value::as_str)
            .is_some_and(|t| t.trim_start().to_ascii_lowercase().starts_with("text/event-stream"));
        // A server ping on the stream is answered on the session this answer sets up, if any.
        let pong_session = headers
            .get(SESSION)
            .and_then(Value::as_str)
            .map(str::to_string)
            .or(sent_session.clone());
        let mut answer = Answer {
            status,
            headers,
            body: Value::Null,
            result: None,
            error: None,
            events: Vec::new(),
            elapsed_ms: 0.0,
            ttfb_ms,
            sent_session,
            sent: 0,
        };
        match outgoing.expected {
            Some(id) if is_success(status) && is_sse => {
                let mut messages = Messages::new(&mut body, self.settings.idle_timeout, self.settings.max_answer);
                let (message, events) = self
                    .read_stream(&mut messages, pong_session.as_deref(), outgoing.version)
                    .await?;
                drop(messages);
                self.keep(body);
                let (result, error) = jsonrpc::check_answer(&message, id)?;
                (answer.body, answer.result, answer.error, answer.events) = (message, result, error, events);
            }
            Some(id) if is_success(status) => {
                let bytes = self.read_all(&mut body).await?;
                self.keep(body);
                if bytes.is_empty() {
                    return Err(Failure::NotJsonRpc(format!("status {status} with an empty body")));
                }
                let message: Value = serde_json::from_slice(&bytes).map_err(|e| {
                    let text = String::from_utf8_lossy(&bytes);
                    Failure::NotJsonRpc(format!("the body is not JSON ({e}): {}", clip(&text, 200)))
                })?;
                let (result, error) = jsonrpc::check_answer(&message, id)?;
                (answer.body, answer.result, answer.error) = (message, result, error);
            }
            _ => {
                let bytes = self.read_all(&mut body).await?;
                self.keep(body);
                answer.body = http::body(&bytes);
                (answer.result, answer.error) = jsonrpc::parts(&answer.body);
            }
        }
        answer.elapsed_ms = ms(started);
        Ok(answer)
    }

    fn endpoint(&self) -> Result<&Endpoint, Failure> {
        self.endpoint.as_ref().as_ref().map_err(|unsent| unsent.clone().into())
    }

    fn take_idle(&self) -> Option<http1::Idle> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner).take()
    }

    /// Keeps the connection of an answer that was read whole, for the next exchange.
    fn keep(&self, body: http1::Body) {
        *self.idle.lock().unwrap_or_else(PoisonError::into_inner) = body.into_idle();
    }

    /// Reads an SSE answer up to the first response (the caller checks its id); returns it and the
    /// messages before it.
    async fn read_stream(
        &self,
        messages: &mut Messages<'_>,
        session: Option<&str>,
        version: Option<&str>,
    ) -> Result<(Value, Vec<Value>), Failure> {
        let mut events = Vec::new();
        while let Some(message) = messages.next().await? {
            match jsonrpc::classify(&message)? {
                Kind::Response => return Ok((message, events)),
                Kind::Notification => events.push(message),
                Kind::Request { id: theirs, method } => {
                    events.push(message);
                    if method == "ping" {
                        self.pong(&theirs, session, version).await;
                    }
                }
            }
        }
        Err(Failure::StreamClosed)
    }

    /// Answers a server's `ping`, on a connection of its own (this client's is carrying the
    /// stream). Best effort: a failure shows later as a missing answer; never waits long.
    async fn pong(&self, id: &Value, session: Option<&str>, version: Option<&str>) {
        let (Ok(endpoint), Ok(headers)) = (self.endpoint(), self.headers(true, session, version)) else {
            return;
        };
        let request = endpoint.request(&Method::POST, &headers, Some(jsonrpc::pong(id).to_string().as_bytes()));
        let answered = async {
            if let Ok(mut response) = endpoint.send(None, &request).await {
                while let Ok(Some(_)) = response.body.chunk().await {}
            }
        };
        let _ = tokio::time::timeout(self.settings.idle_timeout, answered).await;
    }

    /// The headers of one message: the wire headers, then `Settings::headers`, whose names
    /// replace the wire headers of the same name.
    fn headers(&self, json: bool, session: Option<&str>, version: Option<&str>) -> Result<HeaderMap, Failure> {
        let mut given = Vec::with_capacity(self.settings.headers.len());
        for (name, value) in &self.settings.headers {
            let header = HeaderName::from_bytes(name.as_bytes())
                .map_err(|e| Unsent::Invalid(format!("header name `{name}`: {e}")))?;
            let value =
                HeaderValue::from_str(value).map_err(|e| Unsent::Invalid(format!("value of header `{name}`: {e}")))?;
            given.push((header, value));
        }
        let mut own: Vec<(HeaderName, &str)> = Vec::new();
        if json {
            own.push((CONTENT_TYPE, "application/json"));
            own.push((ACCEPT, "application/json, text/event-stream"));
        }
        if let Some(session) = session {
            own.push((HeaderName::from_static(SESSION), session));
        }
        if let Some(version) = version.filter(|v| *v >= VERSION_HEADER_SINCE) {
            own.push((HeaderName::from_static(VERSION), version));
        }
        let mut headers = HeaderMap::new();
        for (name, value) in own {
            if given.iter().any(|(n, _)| *n == name) {
                continue;
            }
            let value = HeaderValue::from_str(value)
                .map_err(|e| Unsent::Invalid(format!("`{value}` cannot be sent as {name}: {e}")))?;
            headers.insert(name, value);
        }
        for (name, value) in given {
            headers.append(name, value);
        }
        Ok(headers)
    }

    /// A whole JSON (or empty) answer, within `Settings::max_answer`, read chunk by chunk so
    /// that an endless or huge one stops at the limit instead of filling the memory.
    async fn read_all(&self, body: &mut http1::Body) -> Result<Vec<u8>, Failure> {
        let limit = self.settings.max_answer;
        if body.content_length().is_some_and(|n| n > limit) {
            return Err(Failure::TooLarge { limit });
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = body
            .chunk()
            .await
            .map_err(|e| Failure::Broken(format!("the answer broke off: {e}")))?
        {
            if (bytes.len() + chunk.len()) as u64 > limit {
                return Err(Failure::TooLarge { limit });
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    }
}

fn is_success(status: u16) -> bool {
    (200..300).contains(&status)
}

fn ms(started: Instant) -> f64 {
    started.elapsed().as_secs_f64() * 1000.0
}
