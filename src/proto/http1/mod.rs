//! HTTP/1.1 for one MCP endpoint: one connection per client, kept between exchanges, written
//! and read by the task that sends. There is no pool, no connection task and no buffer while
//! the connection is idle, which is what makes 10,000 idle sessions cheap (decisions.md,
//! "Issue 15: a lean HTTP/1.1 client for MCP").

mod body;
mod head;

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::BytesMut;
use futures_util::FutureExt;
use reqwest::header::{AUTHORIZATION, HOST, HeaderMap, HeaderValue};
use reqwest::{Method, Url};
use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_util::either::Either;

pub use body::{Body, Idle};

use crate::duration_text::format_duration;
use crate::proto::http::Unsent;

/// Why an exchange failed after the connection was made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Unsent(#[from] Unsent),
    /// The connection broke, or what came back is not HTTP/1.1.
    #[error("{0}")]
    Broken(String),
}

/// Where the requests go, worked out from the URL once.
#[derive(Debug)]
pub struct Endpoint {
    url: String,
    host: Host,
    port: u16,
    /// The `Host` header.
    authority: String,
    /// The path and query of the request line.
    target: String,
    /// For `https`: the server's name, as the certificate must show it.
    tls: Option<ServerName<'static>>,
    /// `Authorization: Basic …` from the URL's user and password, as browsers and reqwest send.
    credentials: Option<HeaderValue>,
    connect_timeout: Duration,
}

#[derive(Debug)]
enum Host {
    Name(String),
    Ip(std::net::IpAddr),
}

/// An answer whose head has been read; its body is read from the connection as it is asked for.
pub struct Response {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Body,
}

impl Endpoint {
    /// The endpoint of `url`, which must be `http` or `https`.
    pub fn new(url: &str, connect_timeout: Duration) -> Result<Endpoint, Unsent> {
        let parsed = Url::parse(url).map_err(|e| Unsent::Invalid(format!("the URL `{url}` is not valid: {e}")))?;
        let scheme = parsed.scheme();
        if scheme != "http" && scheme != "https" {
            return Err(Unsent::Invalid(format!(
                "the URL `{url}` is not http or https; MCP's Streamable HTTP needs one of them"
            )));
        }
        let Some(host_text) = parsed.host_str().filter(|h| !h.is_empty()) else {
            return Err(Unsent::Invalid(format!("the URL `{url}` has no host")));
        };
        // The URL has checked the address: an IPv6 one comes in brackets.
        let bare = host_text.trim_start_matches('[').trim_end_matches(']');
        let host = match bare.parse() {
            Ok(ip) => Host::Ip(ip),
            Err(_) => Host::Name(bare.to_string()),
        };
        let port = parsed.port_or_known_default().unwrap_or(80);
        let authority = match parsed.port() {
            Some(port) => format!("{host_text}:{port}"),
            None => host_text.to_string(),
        };
        let mut target = parsed.path().to_string();
        if let Some(query) = parsed.query() {
            target.push('?');
            target.push_str(query);
        }
        let tls = match scheme {
            "https" => Some(
                ServerName::try_from(bare.to_string())
                    .map_err(|e| Unsent::Invalid(format!("`{host_text}` cannot be a TLS server name: {e}")))?,
            ),
            _ => None,
        };
        Ok(Endpoint {
            url: url.to_string(),
            host,
            port,
            authority,
            target,
            tls,
            credentials: credentials(&parsed)?,
            connect_timeout,
        })
    }

    /// The bytes of one request: the request line, `Host`, `headers` as given, the URL's
    /// credentials unless `headers` has its own `Authorization`, and the body with its length.
    pub fn request(&self, method: &Method, headers: &HeaderMap, body: Option<&[u8]>) -> Vec<u8> {
        let body_len = body.map_or(0, <[u8]>::len);
        let mut out = Vec::with_capacity(256 + body_len);
        for part in [method.as_str(), " ", &self.target, " HTTP/1.1\r\n"] {
            out.extend_from_slice(part.as_bytes());
        }
        if !headers.contains_key(HOST) {
            line(&mut out, HOST.as_str(), self.authority.as_bytes());
        }
        for (name, value) in headers {
            line(&mut out, name.as_str(), value.as_bytes());
        }
        if let Some(credentials) = self
            .credentials
            .as_ref()
            .filter(|_| !headers.contains_key(AUTHORIZATION))
        {
            line(&mut out, AUTHORIZATION.as_str(), credentials.as_bytes());
        }
        if let Some(body) = body {
            line(&mut out, "content-length", body_len.to_string().as_bytes());
            out.extend_from_slice(b"\r\n");
            out.extend_from_slice(body);
        } else {
            out.extend_from_slice(b"\r\n");
        }
        out
    }

    /// Sends `request` on `idle` when the server has not closed it meanwhile, otherwise on a new
    /// connection, and reads the answer's head.
    ///
    /// A kept connection the server closes just as the request goes out (its idle timeout met
    /// the request) answers nothing at all; the request then goes once more on a new
    /// connection, as browsers do. A new connection that answers nothing is an error.
    pub async fn send(&self, idle: Option<Idle>, request: &[u8]) -> Result<Response, Error> {
        if let Some(connection) = idle.and_then(Idle::into_open) {
            match send_on(connection, request).await {
                Err(Unanswered::Silent(_)) => {}
                done => return done.map_err(Unanswered::into_error),
            }
        }
        let connection = self.connect().await?;
        send_on(connection, request).await.map_err(Unanswered::into_error)
    }

    async fn connect(&self) -> Result<Connection, Unsent> {
        let failed = |reason: String| Unsent::Connect {
            url: self.url.clone(),
            reason,
        };
        let tcp = match &self.host {
            Host::Ip(ip) => TcpStream::connect(SocketAddr::new(*ip, self.port)).boxed(),
            Host::Name(name) => TcpStream::connect((name.as_str(), self.port)).boxed(),
        };
        let tcp = tokio::time::timeout(self.connect_timeout, tcp)
            .await
            .map_err(|_| {
                failed(format!(
                    "no connection within {}",
                    format_duration(self.connect_timeout)
                ))
            })?
            .map_err(|e| failed(e.to_string()))?;
        // One write per request, and the answer should not wait for Nagle.
        tcp.set_nodelay(true).map_err(|e| failed(e.to_string()))?;
        let io = match &self.tls {
            None => Either::Left(tcp),
            Some(name) => {
                let handshake = tls_connector()
                    .map_err(|e| Unsent::Invalid(format!("TLS setup: {e}")))?
                    .connect(name.clone(), tcp);
                let tls = tokio::time::timeout(self.connect_timeout, handshake)
                    .await
                    .map_err(|_| {
                        failed(format!(
                            "no TLS handshake within {}",
                            format_duration(self.connect_timeout)
                        ))
                    })?
                    .map_err(|e| failed(format!("TLS handshake: {e}")))?;
                Either::Right(Box::new(tls))
            }
        };
        Ok(Connection {
            io,
            buffer: BytesMut::new(),
            received: 0,
        })
    }
}

/// Why a connection gave no answer.
enum Unanswered {
    /// Not a byte came back: the request may never have reached the server.
    Silent(Error),
    /// Something came back, but not a whole answer's head.
    Broken(Error),
}

impl Unanswered {
    fn into_error(self) -> Error {
        match self {
            Unanswered::Silent(e) | Unanswered::Broken(e) => e,
        }
    }
}

async fn send_on(mut connection: Connection, request: &[u8]) -> Result<Response, Unanswered> {
    let written = async {
        connection.io.write_all(request).await?;
        connection.io.flush().await
    };
    if let Err(e) = written.await {
        return Err(Unanswered::Silent(Error::Broken(format!(
            "the request could not be written: {e}"
        ))));
    }
    let before = connection.received;
    match connection.read_head().await {
        Ok(head) => Ok(Response {
            status: head.status,
            headers: head.headers,
            body: Body::new(connection, head.framing, head.keep_alive),
        }),
        Err(e) if connection.received == before => Err(Unanswered::Silent(e)),
        Err(e) => Err(Unanswered::Broken(e)),
    }
}

/// The run's one TLS connector: the shared roots, ALPN `http/1.1` only.
fn tls_connector() -> Result<TlsConnector, String> {
    static CONNECTOR: OnceLock<Result<TlsConnector, String>> = OnceLock::new();
    CONNECTOR
        .get_or_init(|| crate::proto::tls::http1_config().map(|config| TlsConnector::from(Arc::new(config))))
        .clone()
}

/// The URL's user and password as a `Basic` header; percent-escapes are decoded first.
fn credentials(url: &Url) -> Result<Option<HeaderValue>, Unsent> {
    if url.username().is_empty() && url.password().is_none() {
        return Ok(None);
    }
    let decode = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
    let pair = format!("{}:{}", decode(url.username()), decode(url.password().unwrap_or("")));
    use base64::Engine;
    let value = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair));
    let mut value =
        HeaderValue::from_str(&value).map_err(|e| Unsent::Invalid(format!("the URL's credentials: {e}")))?;
    value.set_sensitive(true);
    Ok(Some(value))
}

fn line(out: &mut Vec<u8>, name: &str, value: &[u8]) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// One open connection and the bytes read from it but not yet used.
pub(super) struct Connection {
    io: Io,
    buffer: BytesMut,
    /// Bytes read from it in all.
    received: u64,
}

impl Connection {
    /// Whether the connection can carry another request: the server has not closed it and has
    /// sent nothing unasked. Looks without waiting, as Go's and hyper's pools do before reuse.
    fn is_open(&mut self) -> bool {
        let mut byte = [0u8; 1];
        self.buffer.is_empty() && self.io.read(&mut byte).now_or_never().is_none()
    }

    /// Reads more bytes into the buffer; 0 at the end of the stream.
    async fn fill(&mut self) -> Result<usize, Error> {
        self.buffer.reserve(body::READ_SIZE);
        let n = (self.io.read_buf(&mut self.buffer).await)
            .map_err(|e| Error::Broken(format!("the connection broke: {e}")))?;
        self.received += n as u64;
        Ok(n)
    }
}

/// A plain or a TLS stream; the TLS one is boxed, as it is far larger.
type Io = Either<TcpStream, Box<TlsStream<TcpStream>>>;

#[cfg(test)]
mod tests;
