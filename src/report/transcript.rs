//! `transcript.jsonl`: every request and its answer, one JSON line each, secrets masked.
//!
//! The executor masks secrets before it sends an [`Exchange`]; the transcript masks again, so a
//! header or URL the executor missed still never reaches the disk. [`mask_headers`] and
//! [`mask_url`] are public so the executor can use the same rules.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::exec::event::{Event, Exchange};

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

/// The transcript buffers this much before it writes.
const BUFFER: usize = 64 * 1024;

/// One scenario's `transcript.jsonl`, written as exchanges arrive.
#[derive(Debug)]
pub struct Transcript {
    path: PathBuf,
    out: BufWriter<File>,
    lines: u64,
}

impl Transcript {
    /// Creates (or truncates) the file, and its folder if missing.
    pub fn create(path: impl AsRef<Path>) -> io::Result<Self> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir)?;
        }
        let file = File::create(&path)?;
        Ok(Self {
            path,
            out: BufWriter::with_capacity(BUFFER, file),
            lines: 0,
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How many exchanges were written.
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Appends one exchange as a JSON line, its secrets masked.
    pub fn write(&mut self, exchange: &Exchange) -> io::Result<()> {
        let mut value = serde_json::to_value(exchange).map_err(io::Error::other)?;
        mask_value(&mut value);
        serde_json::to_writer(&mut self.out, &value).map_err(io::Error::other)?;
        self.out.write_all(b"\n")?;
        self.lines += 1;
        Ok(())
    }

    /// Writes the buffered lines to the file (not necessarily to disk).
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Flushes, syncs to disk and closes; returns the file's path.
    pub fn finish(self) -> io::Result<PathBuf> {
        let file = self.out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        Ok(self.path)
    }
}

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

/// Routes each scenario's exchanges to its transcript.
///
/// Insert every scenario's transcript before handing the router to [`crate::report::drive`];
/// exchanges of a scenario without one are dropped. A write error is kept (the transcript stops
/// writing) and reported by [`TranscriptRouter::finish_all`].
#[derive(Debug, Default)]
pub struct TranscriptRouter {
    by_scenario: HashMap<Arc<str>, usize>,
    entries: Vec<Entry>,
}

#[derive(Debug)]
struct Entry {
    scenario: Arc<str>,
    transcript: Transcript,
    error: Option<io::Error>,
}

impl TranscriptRouter {
    /// A router with no transcripts.
    pub fn new() -> Self {
        Self::default()
    }

    /// Routes `scenario`'s exchanges to `transcript` from now on. A transcript inserted earlier
    /// under the same name stops receiving, and is still finished by [`Self::finish_all`].
    pub fn insert(&mut self, scenario: impl Into<Arc<str>>, transcript: Transcript) {
        let scenario = scenario.into();
        self.by_scenario.insert(scenario.clone(), self.entries.len());
        self.entries.push(Entry {
            scenario,
            transcript,
            error: None,
        });
    }

    /// True when no transcript was inserted.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Writes an exchange to its scenario's transcript.
    pub fn write(&mut self, exchange: &Exchange) {
        if let Some(entry) = self.entry(&exchange.actor.scenario)
            && entry.error.is_none()
            && let Err(error) = entry.transcript.write(exchange)
        {
            entry.error = Some(error);
        }
    }

    /// Writes out what a scenario's transcript has buffered (at the scenario's end, so a
    /// finished scenario's transcript is complete on disk even if the run is killed later).
    pub fn flush(&mut self, scenario: &str) {
        if let Some(entry) = self.entry(scenario)
            && entry.error.is_none()
            && let Err(error) = entry.transcript.flush()
        {
            entry.error = Some(error);
        }
    }

    /// Routes an event: exchanges are written, a scenario's end flushes its transcript.
    pub fn handle(&mut self, event: &Event) {
        match event {
            Event::Exchange(exchange) => self.write(exchange),
            Event::ScenarioFinished { scenario, .. } => self.flush(scenario),
            Event::ScenarioStarted { .. } | Event::StepStarted { .. } | Event::ClientFinished { .. } => {}
        }
    }

    /// Finishes every transcript (flush, sync, close), in insertion order: each scenario with
    /// its file's path, or the first error writing it met.
    pub fn finish_all(self) -> Vec<(Arc<str>, io::Result<PathBuf>)> {
        self.entries
            .into_iter()
            .map(|entry| {
                let finished = entry.transcript.finish();
                let result = match entry.error {
                    Some(error) => Err(error),
                    None => finished,
                };
                (entry.scenario, result)
            })
            .collect()
    }

    fn entry(&mut self, scenario: &str) -> Option<&mut Entry> {
        let index = *self.by_scenario.get(scenario)?;
        self.entries.get_mut(index)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use serde_json::json;

    use super::*;
    use crate::report::fixtures::actor;

    fn exchange(scenario: &str, request: Value, response: Value) -> Exchange {
        Exchange {
            actor: actor(scenario, "workers", 2),
            step: "call echo".into(),
            sent_at: Utc.with_ymd_and_hms(2025, 3, 4, 5, 6, 7).unwrap(),
            request,
            response,
        }
    }

    fn lines(path: &Path) -> Vec<Value> {
        fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
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

    #[test]
    fn transcript_writes_one_masked_line_per_exchange() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("results/x/transcript.jsonl");
        let mut transcript = Transcript::create(&path).unwrap();
        let request = json!({
            "method": "POST",
            "url": "http://h/mcp",
            "headers": {"Authorization": "Bearer secret", "X-Upstream-Token": "t"},
            "body": {"jsonrpc": "2.0", "id": 1, "method": "ping"},
        });
        let response =
            json!({"status": 200, "headers": {"set-cookie": "a=b"}, "body": {"result": {}}, "elapsed_ms": 3.5});
        transcript.write(&exchange("s", request, response)).unwrap();
        transcript
            .write(&exchange(
                "s",
                json!({"sql": "SELECT 1", "url": "postgres://u:pw@db/x"}),
                json!({"error": "refused"}),
            ))
            .unwrap();
        assert_eq!(transcript.lines(), 2);
        assert_eq!(transcript.finish().unwrap(), path);

        let lines = lines(&path);
        assert_eq!(lines.len(), 2);
        let first = &lines[0];
        assert_eq!(first["scenario"], "s");
        assert_eq!(first["group"], "workers");
        assert_eq!(first["client_id"], 2);
        assert_eq!(first["step"], "call echo");
        assert_eq!(first["request"]["headers"]["Authorization"], "***");
        assert_eq!(first["request"]["headers"]["X-Upstream-Token"], "***");
        assert_eq!(first["response"]["headers"]["set-cookie"], "***");
        assert_eq!(first["request"]["body"]["method"], "ping");
        assert_eq!(lines[1]["request"]["url"], "postgres://u:***@db/x");
        let text = fs::read_to_string(&path).unwrap();
        assert!(!text.contains("secret") && !text.contains(":pw@"), "{text}");
    }

    #[test]
    fn router_sends_exchanges_to_their_scenario() {
        let tmp = tempfile::tempdir().unwrap();
        let mut router = TranscriptRouter::new();
        router.insert("a", Transcript::create(tmp.path().join("a.jsonl")).unwrap());
        router.insert(
            Arc::<str>::from("b"),
            Transcript::create(tmp.path().join("b.jsonl")).unwrap(),
        );
        for scenario in ["a", "b", "a", "unknown"] {
            router.handle(&Event::Exchange(Box::new(exchange(scenario, json!({}), json!({})))));
        }
        router.handle(&crate::report::fixtures::finished("a", true));
        // Flushed at the scenario's end, before finish_all.
        assert_eq!(lines(&tmp.path().join("a.jsonl")).len(), 2);
        let finished = router.finish_all();
        let names: Vec<&str> = finished.iter().map(|(s, _)| &**s).collect();
        assert_eq!(names, ["a", "b"]);
        assert!(finished.iter().all(|(_, r)| r.is_ok()));
        assert_eq!(lines(&tmp.path().join("b.jsonl")).len(), 1);
    }

    #[test]
    fn router_keeps_a_replaced_transcript() {
        let tmp = tempfile::tempdir().unwrap();
        let mut router = TranscriptRouter::new();
        router.insert("a", Transcript::create(tmp.path().join("1.jsonl")).unwrap());
        router.write(&exchange("a", json!({}), json!({})));
        router.insert("a", Transcript::create(tmp.path().join("2.jsonl")).unwrap());
        router.write(&exchange("a", json!({}), json!({})));
        router.write(&exchange("a", json!({}), json!({})));
        let finished = router.finish_all();
        assert_eq!(finished.len(), 2);
        assert_eq!(lines(&tmp.path().join("1.jsonl")).len(), 1);
        assert_eq!(lines(&tmp.path().join("2.jsonl")).len(), 2);
    }
}
