//! Reading a file's text, refusing what cannot be a scenario before the parser sees it.

use std::path::Path;

use crate::diagnostic::Diagnostic;
use crate::source::Source;

/// The largest scenario file accepted. Real scenarios are a few kilobytes; a larger file is
/// almost certainly not one, and refusing it early keeps validation fast and memory bounded.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// Reads a scenario file as UTF-8 text.
pub fn read(path: &Path) -> Result<Source, Diagnostic> {
    let size = std::fs::metadata(path)
        .map_err(|e| Diagnostic::for_path(path, format!("cannot read the file: {e}")))?
        .len();
    if size > MAX_FILE_BYTES {
        return Err(Diagnostic::for_path(
            path,
            format!(
                "the file is {:.1} MiB; a scenario file may be at most {} MiB",
                size as f64 / (1024.0 * 1024.0),
                MAX_FILE_BYTES / (1024 * 1024)
            ),
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| Diagnostic::for_path(path, format!("cannot read the file: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        Diagnostic::for_path(
            path,
            format!(
                "not a text file: invalid UTF-8 at byte {}",
                e.utf8_error().valid_up_to()
            ),
        )
    })?;
    if let Some(at) = text.find('\0') {
        return Err(Diagnostic::for_path(
            path,
            format!("not a text file: a NUL byte at byte {at}"),
        ));
    }
    if text.trim().is_empty() {
        return Err(Diagnostic::for_path(
            path,
            "the file is empty; a scenario needs at least `clients:`",
        ));
    }
    Ok(Source::new(path, text))
}
