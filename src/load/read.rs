//! Reading a file's text, refusing what cannot be a scenario before the parser sees it.

use std::fs::{File, Metadata};
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use crate::diagnostic::Diagnostic;
use crate::source::Source;

/// The largest scenario file accepted. Real scenarios are a few kilobytes; a larger file is
/// almost certainly not one, and refusing it early keeps validation fast and memory bounded.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// Reads a scenario (or vars) file as UTF-8 text.
///
/// Only a regular file is opened: opening a fifo blocks until something writes to it, and a
/// device such as `/dev/zero` never ends, so either would hang the run.
pub fn read(path: &Path) -> Result<Source, Diagnostic> {
    let cannot = |e: std::io::Error| Diagnostic::for_path(path, format!("cannot read the file: {e}"));
    regular(path, &std::fs::metadata(path).map_err(cannot)?)?;
    let file = File::open(path).map_err(cannot)?;
    // The path may have been replaced between the two looks; the open file is what is read.
    let size = regular(path, &file.metadata().map_err(cannot)?)?;
    if size > MAX_FILE_BYTES {
        return Err(too_large(path, size));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    // A file that grows while it is read stops at the limit all the same.
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes).map_err(cannot)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large(path, bytes.len() as u64));
    }
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let bytes = e.into_bytes();
            let message = format!("not a text file: invalid UTF-8 (byte 0x{:02x})", bytes[valid]);
            return Err(at_byte(path, &bytes, valid, message));
        }
    };
    if let Some(at) = text.find('\0') {
        return Err(at_byte(path, text.as_bytes(), at, "not a text file: a NUL byte".into()));
    }
    if text.trim().is_empty() {
        return Err(Diagnostic::for_path(
            path,
            "the file is empty; a scenario needs at least `clients:`",
        ));
    }
    Ok(Source::new(path, text))
}

/// The file's size when it is a regular file; otherwise what it is, as an error.
fn regular(path: &Path, metadata: &Metadata) -> Result<u64, Diagnostic> {
    if metadata.is_file() {
        return Ok(metadata.len());
    }
    let what = if metadata.is_dir() {
        "a folder"
    } else {
        special_kind(metadata)
    };
    Err(Diagnostic::for_path(
        path,
        format!("not a regular file ({what}); a scenario or vars file must be a plain file"),
    ))
}

#[cfg(unix)]
fn special_kind(metadata: &Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let kind = metadata.file_type();
    if kind.is_fifo() {
        "a named pipe"
    } else if kind.is_char_device() || kind.is_block_device() {
        "a device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "a special file"
    }
}

#[cfg(not(unix))]
fn special_kind(_: &Metadata) -> &'static str {
    "a special file"
}

fn too_large(path: &Path, size: u64) -> Diagnostic {
    Diagnostic::for_path(
        path,
        format!(
            "the file is {:.1} MiB; a scenario file may be at most {} MiB",
            size as f64 / (1024.0 * 1024.0),
            MAX_FILE_BYTES / (1024 * 1024)
        ),
    )
}

/// A problem at byte `at` of a file that is not (all) text: located by the valid text before
/// it, which is all the line and column need.
fn at_byte(path: &Path, bytes: &[u8], at: usize, message: String) -> Diagnostic {
    let source = Arc::new(Source::new(path, String::from_utf8_lossy(bytes).into_owned()));
    let pos = source.pos_of_offset(at);
    // Line 1, column 1 is a position too; `Diagnostic::at` drops only unknown ones (line 0).
    Diagnostic::at(&source, pos, message).label(format!("byte {at} of the file"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of(bytes: &[u8]) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.yaml");
        std::fs::write(&path, bytes).unwrap();
        let d = read(&path).unwrap_err();
        d.render().replace(&dir.path().display().to_string(), "[TMP]")
    }

    #[test]
    fn invalid_utf8_is_located_by_line_and_column() {
        let text = error_of(b"name: x\nvars:\n  a: caf\xe9\n");
        assert!(text.contains("[TMP]/s.yaml:3:9"), "{text}");
        assert!(text.contains("invalid UTF-8 (byte 0xe9)"), "{text}");
        assert!(text.contains("byte 22 of the file"), "{text}");
    }

    #[test]
    fn a_nul_byte_is_located_by_line_and_column() {
        let text = error_of(b"name: x\nclients: {}\n  \0\n");
        assert!(text.contains("[TMP]/s.yaml:3:3"), "{text}");
        assert!(text.contains("a NUL byte"), "{text}");
    }

    #[test]
    fn devices_and_folders_are_not_read() {
        for path in ["/dev/null", "/dev/zero"] {
            let text = read(Path::new(path)).unwrap_err().render();
            assert!(text.contains("not a regular file (a device)"), "{text}");
        }
        let dir = tempfile::tempdir().unwrap();
        let text = read(dir.path()).unwrap_err().render();
        assert!(text.contains("not a regular file (a folder)"), "{text}");
    }
}
