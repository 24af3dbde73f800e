//! The `Host` check, in front of every route (MCP, the API, `/health`, unknown paths): a web
//! page can make a browser send requests to a loopback port under a name it controls (DNS
//! rebinding), and read the answers — session ids among them — unless the server refuses names
//! other than its own.
//!
//! On loopback the lab answers only `localhost` and loopback addresses (`127.0.0.0/8`, `::1`),
//! with any port: no one can rebind those. Bound elsewhere it is meant to be reached by other
//! names, and accepts any.

use std::net::IpAddr;

use axum::extract::{Request, State};
use axum::http::uri::Authority;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Which `Host` names the lab answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hosts {
    /// `localhost` and loopback addresses.
    Loopback,
    /// Any name.
    Any,
}

impl Hosts {
    /// The names a lab listening on `ip` answers.
    pub fn for_listen(ip: IpAddr) -> Self {
        match ip.is_loopback() {
            true => Self::Loopback,
            false => Self::Any,
        }
    }
}

/// The middleware: 403 for a name not allowed, 400 for a `Host` that cannot be read, as rmcp
/// answers them.
pub async fn guard(State(hosts): State<Hosts>, request: Request, next: Next) -> Response {
    if hosts == Hosts::Any {
        return next.run(request).await;
    }
    // HTTP/1.1 requires `Host`; an HTTP/1.0 request without one names its target in the URI.
    let host = match request.headers().get(header::HOST) {
        Some(value) => value.to_str().ok().and_then(|text| Authority::try_from(text).ok()),
        None => request.uri().authority().cloned(),
    };
    match host {
        Some(authority) if is_loopback_name(authority.host()) => next.run(request).await,
        Some(_) => (StatusCode::FORBIDDEN, "Forbidden: Host header is not allowed").into_response(),
        None => (StatusCode::BAD_REQUEST, "Bad Request: missing or invalid Host header").into_response(),
    }
}

/// `localhost` (any case) or a loopback address; an IPv6 one comes in brackets.
fn is_loopback_name(host: &str) -> bool {
    let bare = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    bare.eq_ignore_ascii_case("localhost") || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_names_pass() {
        for host in ["localhost", "LocalHost", "127.0.0.1", "127.4.5.6", "[::1]"] {
            assert!(is_loopback_name(host), "{host}");
        }
        for host in ["evil.example", "localhost.evil.example", "10.0.0.1", "[::2]", ""] {
            assert!(!is_loopback_name(host), "{host}");
        }
    }
}
