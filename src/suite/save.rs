//! A scenario's results on disk: its client and arrival group files, `report.json`, `junit.xml`
//! and `report.html`, beside its transcript.

use std::io;
use std::path::PathBuf;

use super::outcome::Unsaved;
use crate::exec::ScenarioResult;
use crate::report::junit::junit;
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
        _ => Ok(()),
    }
    .and_then(|()| results::write_clients(&dir, &result.clients))
    .and_then(|()| {
        (result.arrivals.iter())
            .try_for_each(|a| results::write_json(&dir.join(results::arrivals_file_name(a)), a).map(drop))
    })
    .and_then(|()| results::write_report(&dir, &result))
    .and_then(|_| results::write_text(&dir.join("junit.xml"), &junit(std::slice::from_ref(&result))))
    .and_then(|_| results::write_html(&dir, &result));
    match written {
        Ok(_) => Ok(Saved { dir, result }),
        Err(source) => Err(Unsaved { dir, source }),
    }
}
