//! An answer's status line and headers, and what they say about the body that follows.

use bytes::Buf;
use reqwest::header::{CONNECTION, CONTENT_LENGTH, HeaderMap, HeaderName, HeaderValue, TRANSFER_ENCODING};

use super::body::Framing;
use super::{Connection, Error};

/// The most bytes a head may take; a server that sends more is broken or hostile.
const MAX_HEAD: usize = 64 * 1024;
/// The most header fields a head may have.
const MAX_FIELDS: usize = 128;

pub(super) struct Head {
    pub status: u16,
    pub headers: HeaderMap,
    pub framing: Framing,
    /// Whether the connection may carry another request once the body is read.
    pub keep_alive: bool,
}

impl Connection {
    /// Reads the final answer's head, skipping interim (1xx) ones.
    pub(super) async fn read_head(&mut self) -> Result<Head, Error> {
        loop {
            let head = self.read_one_head().await?;
            if !(100..200).contains(&head.status) || head.status == 101 {
                return Ok(head);
            }
        }
    }

    async fn read_one_head(&mut self) -> Result<Head, Error> {
        let too_large = || {
            let limit = bytesize::ByteSize(MAX_HEAD as u64);
            Error::Broken(format!("the answer's head is larger than {limit}"))
        };
        loop {
            match parse(&self.buffer)? {
                Some((length, _)) if length > MAX_HEAD => return Err(too_large()),
                Some((length, head)) => {
                    self.buffer.advance(length);
                    return Ok(head);
                }
                None if self.buffer.len() > MAX_HEAD => return Err(too_large()),
                None => {}
            }
            if self.fill().await? == 0 {
                return Err(Error::Broken(match self.buffer.is_empty() {
                    true => "the server closed the connection without answering".into(),
                    false => "the server closed the connection in the middle of the answer's head".into(),
                }));
            }
        }
    }
}

/// The head at the start of `bytes` and its length, or `None` while it is incomplete.
fn parse(bytes: &[u8]) -> Result<Option<(usize, Head)>, Error> {
    let mut fields = [httparse::EMPTY_HEADER; MAX_FIELDS];
    let mut response = httparse::Response::new(&mut fields);
    let length = match response.parse(bytes) {
        Ok(httparse::Status::Complete(length)) => length,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(Error::Broken(format!("the answer is not HTTP/1.1: {e}"))),
    };
    let status = response.code.unwrap_or_default();
    let mut headers = HeaderMap::with_capacity(response.headers.len());
    for field in response.headers.iter() {
        let name = HeaderName::from_bytes(field.name.as_bytes())
            .map_err(|e| Error::Broken(format!("the answer's header name `{}`: {e}", field.name)))?;
        let value = HeaderValue::from_bytes(field.value)
            .map_err(|e| Error::Broken(format!("the answer's header `{}`: {e}", field.name)))?;
        headers.append(name, value);
    }
    let close = has_token(&headers, CONNECTION, "close");
    let keep_alive = match response.version {
        Some(1) => !close,
        _ => has_token(&headers, CONNECTION, "keep-alive") && !close,
    };
    let (framing, delimited) = framing(status, &headers)?;
    Ok(Some((
        length,
        Head {
            status,
            headers,
            framing,
            keep_alive: keep_alive && delimited,
        },
    )))
}

/// How the body ends (RFC 9112 §6.3), and whether that end is marked, so the connection can
/// carry on after it.
fn framing(status: u16, headers: &HeaderMap) -> Result<(Framing, bool), Error> {
    if (100..200).contains(&status) || status == 204 || status == 304 {
        return Ok((Framing::Done, status != 101));
    }
    if let Some(last) = headers.get_all(TRANSFER_ENCODING).iter().next_back() {
        let chunked = last
            .to_str()
            .ok()
            .and_then(|codings| codings.rsplit(',').next())
            .is_some_and(|coding| coding.trim().eq_ignore_ascii_case("chunked"));
        return Ok(match chunked {
            true => (Framing::chunked(), true),
            false => (Framing::UntilClose, false),
        });
    }
    let mut lengths = headers.get_all(CONTENT_LENGTH).iter();
    let Some(first) = lengths.next() else {
        return Ok((Framing::UntilClose, false));
    };
    let length = |value: &HeaderValue| {
        value
            .to_str()
            .ok()
            .and_then(|text| text.trim().parse::<u64>().ok())
            .ok_or_else(|| Error::Broken(format!("the answer's Content-Length {value:?} is not a number")))
    };
    let n = length(first)?;
    for other in lengths {
        if length(other)? != n {
            return Err(Error::Broken("the answer has two different Content-Lengths".into()));
        }
    }
    Ok((Framing::Length(n), true))
}

fn has_token(headers: &HeaderMap, name: HeaderName, token: &str) -> bool {
    headers.get_all(name).iter().any(|value| {
        value
            .to_str()
            .is_ok_and(|text| text.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(text: &str) -> Head {
        parse(text.as_bytes()).unwrap().unwrap().1
    }

    #[test]
    fn an_incomplete_head_waits_for_more() {
        assert!(parse(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n").unwrap().is_none());
    }

    #[test]
    fn the_length_of_the_head_is_where_the_body_starts() {
        let text = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhi";
        let (length, head) = parse(text).unwrap().unwrap();
        assert_eq!(&text[length..], b"hi");
        assert_eq!(head.status, 200);
        assert!(matches!(head.framing, Framing::Length(2)));
        assert!(head.keep_alive);
    }

    #[test]
    fn chunked_wins_over_a_length() {
        let head = head("HTTP/1.1 200 OK\r\ncontent-length: 5\r\ntransfer-encoding: gzip, chunked\r\n\r\n");
        assert!(matches!(head.framing, Framing::Chunked(_)));
        assert!(head.keep_alive);
    }

    #[test]
    fn a_body_without_a_length_ends_with_the_connection() {
        let head = head("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\n");
        assert!(matches!(head.framing, Framing::UntilClose));
        assert!(!head.keep_alive);
    }

    #[test]
    fn connection_close_and_http_1_0_end_the_connection() {
        assert!(!head("HTTP/1.1 202 Accepted\r\nconnection: close\r\ncontent-length: 0\r\n\r\n").keep_alive);
        assert!(!head("HTTP/1.0 202 Accepted\r\ncontent-length: 0\r\n\r\n").keep_alive);
        assert!(head("HTTP/1.0 202 Accepted\r\nconnection: keep-alive\r\ncontent-length: 0\r\n\r\n").keep_alive);
    }

    #[test]
    fn no_content_has_no_body() {
        let head = head("HTTP/1.1 204 No Content\r\n\r\n");
        assert!(matches!(head.framing, Framing::Done));
        assert!(head.keep_alive);
    }

    #[test]
    fn headers_keep_their_order_and_repeats() {
        let head = head("HTTP/1.1 200 OK\r\nMcp-Session-Id: abc\r\nset-cookie: a\r\nset-cookie: b\r\n\r\n");
        assert_eq!(head.headers["mcp-session-id"], "abc");
        let cookies: Vec<_> = head.headers.get_all("set-cookie").iter().collect();
        assert_eq!(cookies, ["a", "b"]);
    }

    #[test]
    fn broken_heads_are_errors() {
        for text in [
            "HTTP/1.1 OK\r\n\r\n",
            "HTTP/1.1 200 OK\r\ncontent-length: many\r\n\r\n",
            "HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n",
            "SMTP ready\r\n\r\n",
        ] {
            assert!(parse(text.as_bytes()).is_err(), "{text}");
        }
    }
}
