//! A scenario file's text, kept for diagnostics.

use std::path::{Path, PathBuf};

/// A position in a source file: 1-based line and column, plus the byte offset.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub col: u32,
    /// Byte offset from the start of the file.
    pub offset: usize,
}

impl std::fmt::Display for Pos {
    /// `line:col`, as diagnostics and plans show a position.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

impl serde::Serialize for Pos {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Pos {
    /// `line:col`, as a result file holds it; the byte offset is not kept there.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let parse = |part: Option<&str>| part.and_then(|p| p.parse().ok());
        let mut parts = text.split(':');
        match (parse(parts.next()), parse(parts.next()), parts.next()) {
            (Some(line), Some(col), None) => Ok(Pos { line, col, offset: 0 }),
            _ => Err(serde::de::Error::custom(format!("`{text}` is not a line:col position"))),
        }
    }
}

impl Pos {
    /// True when the position is known (the parser reports line 0 when it is not).
    pub fn is_known(&self) -> bool {
        self.line > 0
    }
}

/// One loaded file: its path as the user named it and its text.
#[derive(Debug, Clone)]
pub struct Source {
    /// The path, as given on the command line or found in a folder.
    pub path: PathBuf,
    /// The whole text (valid UTF-8).
    pub text: String,
}

impl Source {
    /// A source from a path and its text.
    pub fn new(path: impl Into<PathBuf>, text: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            text: text.into(),
        }
    }

    /// The path for display.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The position of a 1-based line and column (columns counted in characters).
    pub fn pos_at(&self, line: u32, col: u32) -> Pos {
        let Some(line_start) = self.line_start(line) else {
            return Pos {
                line,
                col,
                offset: self.text.len(),
            };
        };
        let rest = &self.text[line_start..];
        let offset = rest
            .char_indices()
            .nth(col.saturating_sub(1) as usize)
            .map_or(self.text.len(), |(i, _)| line_start + i);
        Pos { line, col, offset }
    }

    /// The position of a byte offset (clamped to the text and to a char boundary).
    pub fn pos_of_offset(&self, offset: usize) -> Pos {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &self.text[..offset];
        let line = before.matches('\n').count() as u32 + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = before[line_start..].chars().count() as u32 + 1;
        Pos { line, col, offset }
    }

    fn line_start(&self, line: u32) -> Option<usize> {
        if line <= 1 {
            return Some(0);
        }
        self.text.match_indices('\n').nth(line as usize - 2).map(|(i, _)| i + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_round_trip() {
        let src = Source::new("a.yaml", "ab\nçd: x\n");
        let pos = src.pos_at(2, 3);
        assert_eq!(pos.offset, 6);
        assert_eq!(&src.text[pos.offset..pos.offset + 1], ":");
        assert_eq!(src.pos_of_offset(pos.offset), pos);
    }

    #[test]
    fn positions_past_the_end_are_clamped() {
        let src = Source::new("a.yaml", "ab");
        assert_eq!(src.pos_at(9, 1).offset, 2);
        assert_eq!(src.pos_of_offset(99).offset, 2);
    }
}
