//! `transcript.jsonl`: every request and its answer, one JSON line each, secrets masked.
//!
//! The executor masks secrets before it sends an [`Exchange`]; the transcript masks again, with
//! the same rules ([`crate::mask`]), so a header or URL the executor missed still never reaches
//! the disk.
//!
//! A body (and an answer's SSE `events`, a query's `rows`) longer than the body limit is cut:
//! its first bytes are kept as text, and its full size is noted beside it, so that a 50 MB
//! answer costs 64 KiB of transcript, not 50 MB.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::exec::event::{Event, Exchange};
use crate::mask::mask_value;

/// The transcript buffers this much before it writes.
const BUFFER: usize = 64 * 1024;

/// How much of a body a line keeps unless told otherwise (`--transcript-body-limit`).
pub const BODY_LIMIT: u64 = 64 * 1024;

/// The parts of a line that may be large: `(side, key)`.
const BODIES: [(&str, &str); 4] = [
    ("request", "body"),
    ("response", "body"),
    ("response", "events"),
    ("response", "rows"),
];

/// One scenario's `transcript.jsonl`, written as exchanges arrive.
#[derive(Debug)]
pub struct Transcript {
    path: PathBuf,
    out: BufWriter<File>,
    lines: u64,
    body_limit: u64,
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
            body_limit: BODY_LIMIT,
        })
    }

    /// Keeps at most `bytes` of each body (default [`BODY_LIMIT`]).
    pub fn with_body_limit(mut self, bytes: u64) -> Self {
        self.body_limit = bytes;
        self
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How many exchanges were written.
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Appends one exchange as a JSON line, its secrets masked, its bodies cut to the limit.
    pub fn write(&mut self, exchange: &Exchange) -> io::Result<()> {
        let mut value = serde_json::to_value(exchange).map_err(io::Error::other)?;
        mask_value(&mut value);
        // After masking: a secret is masked whole before a cut could split it.
        for (side, key) in BODIES {
            if let Some(body) = value.get_mut(side).and_then(|s| s.as_object_mut()) {
                cut(body, key, self.body_limit);
            }
        }
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

/// Replaces `part[key]` when it is longer than `limit` bytes (as JSON text; a string's own
/// bytes) by its first `limit` bytes as a string, and notes its full size as `<key>_bytes`.
fn cut(part: &mut Map<String, Value>, key: &str, limit: u64) {
    let Some(value) = part.get(key) else { return };
    let (head, bytes) = match value {
        Value::String(text) => {
            let bytes = text.len() as u64;
            let mut end = usize::try_from(limit).unwrap_or(usize::MAX).min(text.len());
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            (text[..end].to_string(), bytes)
        }
        other => {
            let mut head = Head::new(limit);
            if serde_json::to_writer(&mut head, other).is_err() {
                return;
            }
            (head.kept_text(), head.bytes)
        }
    };
    if bytes <= limit {
        return;
    }
    part.insert(key.to_string(), Value::String(head));
    part.insert(format!("{key}_bytes"), Value::from(bytes));
}

/// A writer that keeps the first bytes it is given and counts them all.
struct Head {
    kept: Vec<u8>,
    limit: usize,
    bytes: u64,
}

impl Head {
    fn new(limit: u64) -> Self {
        Self {
            kept: Vec::new(),
            limit: usize::try_from(limit).unwrap_or(usize::MAX),
            bytes: 0,
        }
    }

    /// The kept bytes as text, without a character the limit cut in two.
    fn kept_text(&self) -> String {
        match std::str::from_utf8(&self.kept) {
            Ok(text) => text.to_string(),
            Err(e) => String::from_utf8_lossy(&self.kept[..e.valid_up_to()]).into_owned(),
        }
    }
}

impl Write for Head {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let room = self.limit.saturating_sub(self.kept.len()).min(buf.len());
        self.kept.extend_from_slice(&buf[..room]);
        self.bytes += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
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
            Event::ScenarioStarted { .. }
            | Event::StepStarted { .. }
            | Event::ClientFinished { .. }
            | Event::Dropped { .. }
            | Event::Live { .. } => {}
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

    use serde_json::Value;

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
    fn bodies_past_the_limit_keep_their_head_and_note_their_size() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("t.jsonl");
        let mut transcript = Transcript::create(&path).unwrap().with_body_limit(10);
        let request = json!({ "method": "POST", "body": "ééééééé" });
        let response =
            json!({ "status": 200, "body": {"n": [1, 2, 3], "text": "a=1&password=hunter2&b=2"}, "events": [] });
        transcript.write(&exchange("s", request, response)).unwrap();
        transcript
            .write(&exchange("s", json!({ "body": "short" }), json!({ "rows": [1, 2] })))
            .unwrap();
        transcript.finish().unwrap();
        let lines = lines(&path);
        // 14 bytes of text: cut to the last whole character within 10.
        assert_eq!(lines[0]["request"]["body"], "ééééé");
        assert_eq!(lines[0]["request"]["body_bytes"], 14);
        assert_eq!(lines[0]["response"]["body"], r#"{"n":[1,2,"#);
        // Masked before it is cut: the size is the masked text's.
        assert_eq!(
            lines[0]["response"]["body_bytes"],
            r#"{"n":[1,2,3],"text":"a=1&password=***&b=2"}"#.len()
        );
        assert_eq!(lines[0]["response"]["events"], json!([]));
        assert_eq!(
            lines[1]["request"],
            json!({ "body": "short" }),
            "within the limit: as it was"
        );
        assert_eq!(lines[1]["response"], json!({ "rows": [1, 2] }));
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
