//! How a suite runs and where it writes.

use std::path::PathBuf;

use super::schedule::Schedule;
use crate::exec::Record;
use crate::exec::Shard;
use crate::exec::TranscriptMode;
use crate::report::ProgressMode;

/// How a suite runs and where it writes.
#[derive(Debug, Clone)]
pub struct Options {
    /// The results folder when one scenario runs, the parent of one sub-folder per scenario when
    /// several do; without it, `results/<scenario>-<timestamp>/`.
    pub out: Option<PathBuf>,
    /// Where the whole run's `junit.xml` goes, besides each scenario's in its folder.
    pub junit: Option<PathBuf>,
    pub schedule: Schedule,
    pub progress: ProgressMode,
    /// Show no progress, only the scenarios' lines and the summary.
    pub quiet: bool,
    /// Which exchanges `transcript.jsonl` keeps.
    pub transcript: TranscriptMode,
    /// The bytes of each body that `transcript.jsonl` keeps.
    pub transcript_body_limit: u64,
    /// How much of each loop's passes the results keep.
    pub record: Record,
    /// The part of each scenario this process runs.
    pub shard: Shard,
}
