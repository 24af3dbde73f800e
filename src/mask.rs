//! The masking rules: secrets never reach an output file, an error message or the console.
//!
//! One [`Masker`] serves the whole process: the command line [`install`]s it with the values of
//! `--secret` before anything is printed, and every output path — the console
//! ([`crate::report::console`]), the result files and `report.json`
//! ([`crate::report::results`]), the transcript — passes what it writes through [`masker`].
//! What it masks, in any text: a URL's password (`postgres://u:***@h`), the value of a parameter
//! whose name names a secret (`?token=***`, `password=***`), a JSON member whose name names a
//! secret (`"api_key": "***"`), a bearer token, and every `--secret` value. In JSON values, also
//! every header named like a credential and every string member named like a secret.

use std::borrow::Cow;
use std::sync::{LazyLock, OnceLock};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use regex::Regex;
use serde_json::{Map, Value};

/// What a masked secret reads as.
pub const MASK: &str = "***";

/// Names (lower case, `_` read as `-`) that always name a secret.
const SECRET_NAMES: &[&str] = &["authorization", "proxy-authorization", "cookie", "set-cookie"];

/// Names containing any of these (lower case, `_` read as `-`) name a secret too.
const SECRET_NAME_PARTS: &[&str] = &[
    "token",
    "secret",
    "password",
    "passwd",
    "api-key",
    "apikey",
    "access-key",
    "private-key",
    "credential",
];

/// What percent-encoding leaves alone (RFC 3986's unreserved characters).
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// `"name": "value"` in a text (JSON quoted in an error message, a body read as text).
static JSON_MEMBER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#""([^"\\]{1,64})"\s*:\s*"((?:[^"\\]|\\.)*)""#).expect("a valid regex"));

/// `Bearer <token>`, wherever an `Authorization` value was echoed.
static BEARER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\bbearer\s+([A-Za-z0-9\-._~+/]+=*)").expect("a valid regex"));

/// The process's masker, once the command line has installed it.
static INSTALLED: OnceLock<Masker> = OnceLock::new();

/// The rules alone, before (or without) [`install`].
static RULES: Masker = Masker { secrets: Vec::new() };

/// Makes `masker` the one every output uses from now on. The command line calls it once, before
/// it prints or writes anything; a second call changes nothing and returns `false`.
pub fn install(masker: Masker) -> bool {
    INSTALLED.set(masker).is_ok()
}

/// The masker every output goes through: the installed one, else the rules alone.
pub fn masker() -> &'static Masker {
    INSTALLED.get().unwrap_or(&RULES)
}

/// `text` through [`masker`].
pub fn mask_url(text: &str) -> String {
    masker().text(text).into_owned()
}

/// `value` through [`masker`], in place.
pub fn mask_value(value: &mut Value) {
    masker().value(value);
}

/// True for a header, parameter or member name whose value is a secret: `authorization`,
/// `proxy-authorization`, `cookie`, `set-cookie`, and any name containing `token`, `secret`,
/// `password`, `passwd`, `api-key`, `apikey`, `access-key`, `private-key` or `credential`
/// (compared case-insensitively, `_` the same as `-`: `api_key`, `X-Api-Key`, `access_token`).
pub fn is_secret_name(name: &str) -> bool {
    // Compared byte by byte, not on a lowered copy: every member name of every output passes here.
    let name = name.as_bytes();
    let same = |a: &[u8], b: &[u8]| a.len() == b.len() && a.iter().zip(b).all(|(&x, &y)| folded(x) == y);
    SECRET_NAMES.iter().any(|known| same(name, known.as_bytes()))
        || SECRET_NAME_PARTS
            .iter()
            .any(|part| name.windows(part.len()).any(|window| same(window, part.as_bytes())))
}

/// A name's byte as the secret names are written: lower case, `_` read as `-`.
fn folded(byte: u8) -> u8 {
    match byte.to_ascii_lowercase() {
        b'_' => b'-',
        other => other,
    }
}

/// The masking rules, and the values given as secrets.
#[derive(Debug, Clone, Default)]
pub struct Masker {
    /// Each secret as it may appear — as given, percent-encoded, JSON-escaped — longest first.
    secrets: Vec<String>,
}

impl Masker {
    /// The rules, plus `values` masked wherever they appear (empty values mask nothing).
    pub fn new<S: AsRef<str>>(values: impl IntoIterator<Item = S>) -> Self {
        let mut secrets: Vec<String> = Vec::new();
        for value in values {
            for form in forms(value.as_ref()) {
                if !form.is_empty() && !secrets.contains(&form) {
                    secrets.push(form);
                }
            }
        }
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        Self { secrets }
    }

    /// `text` with every secret replaced by `***`; borrowed when there is none.
    pub fn text<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let spans = self.spans(text);
        if spans.is_empty() {
            return Cow::Borrowed(text);
        }
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for (start, end) in spans {
            out.push_str(&text[last..start]);
            out.push_str(MASK);
            last = end;
        }
        out.push_str(&text[last..]);
        Cow::Owned(out)
    }

    /// Masks a JSON value in place: every string and every member name with [`Masker::text`];
    /// every member of a `headers` object that [`is_secret_name`] names, whatever its type;
    /// every other string member so named; and the value of a `[name, value]` pair so named
    /// (how a plan lists headers and templated maps).
    pub fn value(&self, value: &mut Value) {
        match value {
            Value::String(text) => {
                if let Cow::Owned(masked) = self.text(text) {
                    *text = masked;
                }
            }
            Value::Array(items) => {
                if let [Value::String(name), item] = &mut items[..]
                    && is_secret_name(name)
                    && !matches!(item, Value::Null | Value::Bool(_) | Value::Number(_))
                {
                    *item = Value::String(MASK.into());
                }
                items.iter_mut().for_each(|item| self.value(item));
            }
            Value::Object(fields) => self.object(fields),
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }

    /// Masks every secret header of a header map, whatever the value's type.
    pub fn headers(&self, headers: &mut Map<String, Value>) {
        for (name, value) in headers.iter_mut() {
            if is_secret_name(name) {
                *value = Value::String(MASK.into());
            } else {
                self.value(value);
            }
        }
    }

    fn object(&self, fields: &mut Map<String, Value>) {
        // A member name can hold a secret too (`counts` and `latency` are keyed by step name).
        if fields.keys().any(|key| matches!(self.text(key), Cow::Owned(_))) {
            *fields = std::mem::take(fields)
                .into_iter()
                .map(|(key, field)| (self.text(&key).into_owned(), field))
                .collect();
        }
        for (key, field) in fields.iter_mut() {
            match field {
                Value::Object(headers) if key.eq_ignore_ascii_case("headers") => self.headers(headers),
                Value::String(_) if is_secret_name(key) => *field = Value::String(MASK.into()),
                _ => self.value(field),
            }
        }
    }

    /// Byte ranges of secrets in `text`, in order, merged where they overlap, none already `***`.
    fn spans(&self, text: &str) -> Vec<(usize, usize)> {
        let mut spans = url_password_spans(text);
        spans.extend(param_spans(text));
        // The regexes only where their literal part stands: most texts have neither.
        if text.contains('"') {
            spans.extend(captures(&JSON_MEMBER, text, is_secret_name));
        }
        if text.as_bytes().windows(6).any(|w| w.eq_ignore_ascii_case(b"bearer")) {
            spans.extend(captures(&BEARER, text, |_| true));
        }
        for secret in &self.secrets {
            spans.extend(text.match_indices(secret.as_str()).map(|(at, s)| (at, at + s.len())));
        }
        spans.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::with_capacity(spans.len());
        for (start, end) in spans {
            match merged.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => merged.push((start, end)),
            }
        }
        merged.retain(|&(start, end)| &text[start..end] != MASK);
        merged
    }
}

/// The ways a secret value shows up in an output: as given, percent-encoded (in a URL),
/// form-encoded (`+` for a space) and JSON-escaped (in a body quoted in a message).
fn forms(value: &str) -> Vec<String> {
    let encoded = utf8_percent_encode(value, UNRESERVED).to_string();
    let form = encoded.replace("%20", "+");
    let json = serde_json::to_string(value).map_or_else(|_| value.to_string(), |q| q[1..q.len() - 1].to_string());
    vec![value.to_string(), encoded, form, json]
}

/// The spans of the last capture group of `regex`'s matches whose first group passes `keep`.
fn captures(regex: &Regex, text: &str, keep: impl Fn(&str) -> bool) -> Vec<(usize, usize)> {
    regex
        .captures_iter(text)
        .filter(|c| keep(c.get(1).map_or("", |m| m.as_str())))
        .filter_map(|c| c.get(c.len() - 1))
        .filter(|m| !m.is_empty())
        .map(|m| (m.start(), m.end()))
        .collect()
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

/// The value of every `name=value` whose name [`is_secret_name`]: query parameters
/// (`?access_token=…&api_key=…`), form bodies and `key=value` connection strings
/// (`host=h password=…`). A value ends at `&`, `;`, `#`, a quote or a space; punctuation that
/// ends a sentence (`…?token=abc: refused`) is not taken as part of it.
fn param_spans(text: &str) -> Vec<(usize, usize)> {
    let is_name = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
    let ends_value = |c: char| matches!(c, '&' | ';' | '#' | '"' | '\'' | '<' | '>' | '`' | '\\') || c.is_whitespace();
    let mut spans = Vec::new();
    for (eq, _) in text.match_indices('=') {
        let name_start = text[..eq].rfind(|c: char| !is_name(c)).map_or(0, |i| i + 1);
        if name_start == eq || !is_secret_name(&text[name_start..eq]) {
            continue;
        }
        let start = eq + 1;
        let len = text[start..].find(ends_value).unwrap_or(text.len() - start);
        let value = text[start..start + len].trim_end_matches([':', ',', '.', ')']);
        if !value.is_empty() {
            spans.push((start, start + value.len()));
        }
    }
    spans
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn rules(text: &str) -> String {
        Masker::default().text(text).into_owned()
    }

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
            "X_Access_Key": "a",
            "content-type": "application/json",
            "mcp-session-id": "s-1",
            "MCP-Protocol-Version": "2025-11-25",
        });
        Masker::default().headers(headers.as_object_mut().unwrap());
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
                "X_Access_Key": "***",
                "content-type": "application/json",
                "mcp-session-id": "s-1",
                "MCP-Protocol-Version": "2025-11-25",
            })
        );
    }

    #[test]
    fn url_passwords_are_masked() {
        assert_eq!(
            rules("postgres://app:s3cr3t@db:5432/mcp"),
            "postgres://app:***@db:5432/mcp"
        );
        assert_eq!(rules("postgresql://app:p@ss@db/mcp"), "postgresql://app:***@db/mcp");
        assert_eq!(
            rules("connect postgres://a:x@h1/d failed, then postgres://b:y@h2 too"),
            "connect postgres://a:***@h1/d failed, then postgres://b:***@h2 too"
        );
        assert_eq!(
            rules("https://user:pw@example.com/x?y=1"),
            "https://user:***@example.com/x?y=1"
        );
        assert_eq!(
            rules("postgres://db/mcp?user=a&password=hunter2&x=1"),
            "postgres://db/mcp?user=a&password=***&x=1"
        );
        assert_eq!(
            rules("host=db user=app PASSWORD=hunter2 dbname=x"),
            "host=db user=app PASSWORD=*** dbname=x"
        );
        assert_eq!(
            rules("{\"url\":\"postgres://u:pw@h/d\"}"),
            "{\"url\":\"postgres://u:***@h/d\"}"
        );
    }

    #[test]
    fn secret_parameters_are_masked() {
        assert_eq!(
            rules("http://h/x?token=t1&access_token=t2&api_key=k3&apikey=k4&page=2"),
            "http://h/x?token=***&access_token=***&api_key=***&apikey=***&page=2"
        );
        assert_eq!(
            rules("cannot connect to http://h/x?a=1&client_secret=s/x+y==: Connection refused"),
            "cannot connect to http://h/x?a=1&client_secret=***: Connection refused"
        );
        assert_eq!(
            rules("grant_type=password&password=p#frag"),
            "grant_type=password&password=***#frag"
        );
        assert_eq!(rules("db_password=x; user=y"), "db_password=***; user=y");
        assert_eq!(rules("tokens: 3, max=4, key=value"), "tokens: 3, max=4, key=value");
    }

    #[test]
    fn json_members_and_bearer_tokens_in_text_are_masked() {
        assert_eq!(
            rules(r#"expected 200, found 401 with {"error": "no", "access_token" : "abc\"d", "n": 1}"#),
            r#"expected 200, found 401 with {"error": "no", "access_token" : "***", "n": 1}"#
        );
        assert_eq!(rules(r#"{"password":""}"#), r#"{"password":""}"#);
        assert_eq!(
            rules("sent Authorization: Bearer eyJ.a-b_c/d+e=="),
            "sent Authorization: Bearer ***"
        );
        assert_eq!(rules("bearer   tok123 after"), "bearer   *** after");
    }

    #[test]
    fn harmless_text_is_untouched() {
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
            "token=***",
            "step `GET /sessions/{{ session_id }}` (a.yaml:3:5): expected 200, found 404",
        ] {
            assert_eq!(rules(text), text, "{text}");
            assert!(matches!(Masker::default().text(text), Cow::Borrowed(_)), "{text}");
        }
        assert_eq!(rules("ünïcödé://ü:ö@ä"), "ünïcödé://ü:***@ä");
    }

    #[test]
    fn given_secrets_are_masked_in_every_form() {
        let masker = Masker::new(["s3cr3t p@ss", "", "tok"]);
        assert_eq!(masker.text("x s3cr3t p@ss y"), "x *** y");
        assert_eq!(masker.text("http://h/q?v=s3cr3t%20p%40ss&w=1"), "http://h/q?v=***&w=1");
        assert_eq!(masker.text("v=s3cr3t+p%40ss"), "v=***");
        assert_eq!(masker.text("tok tok, stoke"), "*** ***, s***e");
        let quoted = Masker::new(["a\"b"]);
        assert_eq!(quoted.text(r#"body {"v": "a\"b"}"#), r#"body {"v": "***"}"#);
        // A given secret overlapping a rule's span is masked whole.
        let overlapping = Masker::new(["pw@h"]);
        assert_eq!(overlapping.text("http://u:pw@host/"), "http://u:***ost/");
    }

    #[test]
    fn values_are_masked_everywhere() {
        let masker = Masker::new(["given-secret"]);
        let mut value = json!({
            "request": {
                "url": "postgres://u:pw@h/d",
                "headers": {"authorization": "Bearer x", "accept": "application/json", "x-n": "given-secret"},
                "body": {"items": ["postgres://v:pw2@h", 3, null], "password": "p", "max_tokens": 100},
            },
            "response": {"headers": {"Set-Cookie": "sid=1"}, "status": 200},
            "vars": {"api_token": "t", "session_id": "s-1"},
            "counts": {"GET http://h/?token=abc": 2, "call given-secret": 1},
            "plan_headers": [["Authorization", {"source": "Bearer {{ vars.t }}"}], ["Accept", "text/plain"]],
        });
        masker.value(&mut value);
        assert_eq!(
            value,
            json!({
                "request": {
                    "url": "postgres://u:***@h/d",
                    "headers": {"authorization": "***", "accept": "application/json", "x-n": "***"},
                    "body": {"items": ["postgres://v:***@h", 3, null], "password": "***", "max_tokens": 100},
                },
                "response": {"headers": {"Set-Cookie": "***"}, "status": 200},
                "vars": {"api_token": "***", "session_id": "s-1"},
                "counts": {"GET http://h/?token=***": 2, "call ***": 1},
                "plan_headers": [["Authorization", "***"], ["Accept", "text/plain"]],
            })
        );
        let keys: Vec<&str> = value["counts"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, ["GET http://h/?token=***", "call ***"], "member order is kept");
    }

    #[test]
    fn secret_names() {
        for name in [
            "Authorization",
            "api_key",
            "X-API-KEY",
            "access_token",
            "client_secret",
            "DB_PASSWORD",
        ] {
            assert!(is_secret_name(name), "{name}");
        }
        for name in ["accept", "mcp-session-id", "key", "status", "user", "passage"] {
            assert!(!is_secret_name(name), "{name}");
        }
    }
}
