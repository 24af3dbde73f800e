//! One invocation of `runner run`: what all its scenarios share.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use super::record::Record;
use super::shard::Shard;
use super::transcript::TranscriptMode;

/// One invocation of `runner run`: what all its scenarios share.
#[derive(Debug, Clone)]
pub struct Run {
    /// A unique id (`run.id` in templates).
    pub id: String,
    /// When the run started (`run.started_at`).
    pub started_at: DateTime<Utc>,
    /// The environment `env.*` reads.
    pub env: BTreeMap<String, String>,
    /// Cancelled on Ctrl-C: every client stops at its next await.
    pub cancel: CancellationToken,
    /// How much of each loop's passes the results keep.
    pub record: Record,
    /// Which exchanges `transcript.jsonl` keeps.
    pub transcript: TranscriptMode,
    /// The part of the run this process runs (`--shard`); all of it by default.
    pub shard: Shard,
}

impl Run {
    /// A new run with this process's environment, keeping the default results and transcript.
    pub fn new(cancel: CancellationToken) -> Self {
        Self {
            id: uuid::Uuid::new_v4().to_string(),
            started_at: Utc::now(),
            env: std::env::vars().collect(),
            cancel,
            record: Record::default(),
            transcript: TranscriptMode::default(),
            shard: Shard::default(),
        }
    }

    /// `run` as templates see it.
    pub(super) fn info(&self) -> serde_json::Value {
        serde_json::json!({ "id": self.id, "started_at": self.started_at.to_rfc3339() })
    }
}
