//! The masking rules: secrets (URL passwords, `password=` parameters, credential headers) never
//! reach an output file, an error message or the console. The executor, the reporter and the
//! command line all use these.

use serde_json::{Map, Value};

/// What a masked secret reads as.
pub const MASK: &str = "***";

/// Header names (lower case) whose values are always masked.
const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
];

/// Header names containing any of these (lower case) are masked too.
const SECRET_HEADER_PARTS: &[&str] = &["token", "secret", "password", "api-key", "apikey"];

/// Masks the value of every secret header: `authorization`, `proxy-authorization`, `cookie`,
/// `set-cookie`, `x-api-key`, and any name containing `token`, `secret`, `password`, `api-key`
/// or `apikey` (names compared case-insensitively). Values become `"***"`, whatever their type.
pub fn mask_headers(headers: &mut Map<String, Value>) {
    for (name, value) in headers.iter_mut() {
        if is_secret_header(name) {
            *value = Value::String(MASK.into());
        }
    }
}

/// True for a header name whose value is a secret.
pub fn is_secret_header(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    SECRET_HEADERS.contains(&name.as_str()) || SECRET_HEADER_PARTS.iter().any(|part| name.contains(part))
}

/// `text` with every URL password masked — `postgres://user:secret@host/db` becomes
/// `postgres://user:***@host/db`, for any scheme and any number of URLs in the text — and every
/// `password=` parameter's value (`?password=x`, `host=h password=x`) masked too.
pub fn mask_url(text: &str) -> String {
    mask_str(text).unwrap_or_else(|| text.to_string())
}

/// Masks every secret in a JSON value in place: header objects (any object under a `headers`
/// key) with [`mask_headers`], every string with [`mask_url`].
pub fn mask_value(value: &mut Value) {
    match value {
        Value::String(text) => {
            if let Some(masked) = mask_str(text) {
                *text = masked;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mask_value),
        Value::Object(fields) => {
            for (key, field) in fields.iter_mut() {
                if key.eq_ignore_ascii_case("headers")
                    && let Value::Object(headers) = field
                {
                    mask_headers(headers);
                }
                mask_value(field);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// [`mask_url`], or `None` when there is nothing to mask (no allocation on the common path).
fn mask_str(text: &str) -> Option<String> {
    let spans = secret_spans(text);
    if spans.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (start, end) in spans {
        out.push_str(&text[last..start]);
        out.push_str(MASK);
        last = end;
    }
    out.push_str(&text[last..]);
    Some(out)
}

/// Byte ranges of secrets in `text`, in order, not overlapping, none already `***`.
fn secret_spans(text: &str) -> Vec<(usize, usize)> {
    let mut spans = url_password_spans(text);
    spans.extend(password_param_spans(text));
    spans.sort_unstable();
    spans.dedup_by(|later, earlier| later.0 < earlier.1);
    spans.retain(|&(start, end)| &text[start..end] != MASK);
    spans
}

/// Ends a URL's authority (or a parameter's value).
fn ends_authority(c: char) -> bool {
    matches!(c, '/' | '?' | '#' | '"' | '\'' | '<' | '>' | '`' | '\\') || c.is_whitespace()
}

/// The password of every `scheme://user:password@host` in `text`.
fn url_password_spans(text: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut from = 0;
    while let Some(found) = text[from..].find("://") {
        let authority_start = from + found + 3;
        let authority_len = text[authority_start..]
            .find(ends_authority)
            .unwrap_or(text.len() - authority_start);
        let authority = &text[authority_start..authority_start + authority_len];
        // The last `@` ends the user info: a password may hold an unescaped `@`.
        if let Some(at) = authority.rfind('@')
            && let Some(colon) = authority[..at].find(':')
            && colon + 1 < at
        {
            spans.push((authority_start + colon + 1, authority_start + at));
        }
        from = authority_start + authority_len;
    }
    spans
}

/// The value of every `password=` (any case, any prefix such as `db_password=`) in `text`.
fn password_param_spans(text: &str) -> Vec<(usize, usize)> {
    const KEY: &[u8] = b"password=";
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while i + KEY.len() <= bytes.len() {
        if bytes[i..i + KEY.len()].eq_ignore_ascii_case(KEY) {
            let start = i + KEY.len();
            let len = text[start..]
                .find(|c: char| c == '&' || c == ';' || ends_authority(c))
                .unwrap_or(text.len() - start);
            if len > 0 {
                spans.push((start, start + len));
            }
            i = start + len;
        } else {
            i += 1;
        }
    }
    spans
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn secret_headers_are_masked() {
        let mut headers = json!({
            "Authorization": "Bearer abc",
            "PROXY-AUTHORIZATION": "Basic xyz",
            "cookie": "a=b",
            "Set-Cookie": ["a=b", "c=d"],
            "X-Api-Key": "k",
            "X-Auth-Token": "t",
            "x-client-secret": "s",
            "X-Db-Password": "p",
            "x-goog-api-key": "g",
            "content-type": "application/json",
            "mcp-session-id": "s-1",
            "MCP-Protocol-Version": "2025-11-25",
        });
        mask_headers(headers.as_object_mut().unwrap());
        assert_eq!(
            headers,
            json!({
                "Authorization": "***",
                "PROXY-AUTHORIZATION": "***",
                "cookie": "***",
                "Set-Cookie": "***",
                "X-Api-Key": "***",
                "X-Auth-Token": "***",
                "x-client-secret": "***",
                "X-Db-Password": "***",
                "x-goog-api-key": "***",
                "content-type": "application/json",
                "mcp-session-id": "s-1",
                "MCP-Protocol-Version": "2025-11-25",
            })
        );
    }

    #[test]
    fn url_passwords_are_masked() {
        assert_eq!(
            mask_url("postgres://app:s3cr3t@db:5432/mcp"),
            "postgres://app:***@db:5432/mcp"
        );
        assert_eq!(mask_url("postgresql://app:p@ss@db/mcp"), "postgresql://app:***@db/mcp");
        assert_eq!(
            mask_url("connect postgres://a:x@h1/d failed, then postgres://b:y@h2 too"),
            "connect postgres://a:***@h1/d failed, then postgres://b:***@h2 too"
        );
        assert_eq!(
            mask_url("https://user:pw@example.com/x?y=1"),
            "https://user:***@example.com/x?y=1"
        );
        assert_eq!(
            mask_url("postgres://db/mcp?user=a&password=hunter2&x=1"),
            "postgres://db/mcp?user=a&password=***&x=1"
        );
        assert_eq!(
            mask_url("host=db user=app PASSWORD=hunter2 dbname=x"),
            "host=db user=app PASSWORD=*** dbname=x"
        );
        assert_eq!(
            mask_url("{\"url\":\"postgres://u:pw@h/d\"}"),
            "{\"url\":\"postgres://u:***@h/d\"}"
        );
    }

    #[test]
    fn harmless_urls_are_untouched() {
        for text in [
            "http://127.0.0.1:8051/mcp",
            "postgres://app@db/mcp",
            "postgres://app:@db/mcp",
            "postgres://app:***@db/mcp",
            "sqlite:///tmp/x.db",
            "http://host/path?next=http://other",
            "http://host/a@b:c",
            "no url at all ://",
            "password=",
            "ünïcödé://ü:ö@ä",
        ] {
            let expected = if text.starts_with("ünï") {
                "ünïcödé://ü:***@ä"
            } else {
                text
            };
            assert_eq!(mask_url(text), expected, "{text}");
        }
        assert!(mask_str("http://127.0.0.1:8051/mcp").is_none());
    }

    #[test]
    fn values_are_masked_everywhere() {
        let mut value = json!({
            "request": {
                "url": "postgres://u:pw@h/d",
                "headers": {"authorization": "Bearer x", "accept": "application/json"},
                "body": {"items": ["postgres://v:pw2@h", 3, null]},
            },
            "response": {"headers": {"Set-Cookie": "sid=1"}, "status": 200},
        });
        mask_value(&mut value);
        assert_eq!(
            value,
            json!({
                "request": {
                    "url": "postgres://u:***@h/d",
                    "headers": {"authorization": "***", "accept": "application/json"},
                    "body": {"items": ["postgres://v:***@h", 3, null]},
                },
                "response": {"headers": {"Set-Cookie": "***"}, "status": 200},
            })
        );
    }
}
