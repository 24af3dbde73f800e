//! A scenario's results on disk: its client and arrival group files, `report.json`, `junit.xml`
//! and `report.html`, beside its transcript.

use std::io;
use std::path::PathBuf;

use super::outcome::Unsaved;
use crate::exec::ScenarioResult;
use crate::report::results;

/// A scenario whose results were written to `dir`.
pub(super) struct Saved {
    pub(super) dir: PathBuf,
    pub(super) result: ScenarioResult,
}

/// Writes the client files and the report, unless writing the transcript already failed.
pub(super) fn save(
    dir: PathBuf,
    result: ScenarioResult,
    transcript: Option<io::Result<PathBuf>>,
) -> Result<Saved, Unsaved> {
    let written = match transcript {
        Some(Err(e)) => Err(e),
        _ => results::write_folder(&dir, &result),
    };
    match written {
        Ok(_) => Ok(Saved { dir, result }),
        Err(source) => Err(Unsaved { dir, source }),
    }
}
