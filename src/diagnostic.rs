//! Located errors about a scenario file, rendered the way rustc renders them.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use annotate_snippets::{AnnotationKind, Group, Level, Origin, Renderer, Snippet};

use crate::source::{Pos, Source};

/// One problem in a scenario file, pointing at `file:line:col`.
///
/// The label and the help are `Box<str>`, not `String`: they never grow, and the capacity they
/// do without keeps a `Diagnostic` under clippy's `result_large_err` size, so that loading can
/// return one in a `Result` as it is.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    /// What is wrong, in one line.
    pub message: String,
    /// The file, when the problem is in one.
    pub file: Option<Arc<Source>>,
    /// A path that could not be read (no text to show).
    pub path: Option<PathBuf>,
    /// Where in the file; `None` for a problem with the file as a whole.
    pub at: Option<Pos>,
    /// How many bytes from `at` the marker covers (at least one character is marked).
    pub width: usize,
    /// A note under the marker.
    pub label: Option<Box<str>>,
    /// A hint how to fix it ("did you mean ...").
    pub help: Option<Box<str>>,
}

impl Diagnostic {
    /// A problem at a position in a file.
    pub fn at(file: &Arc<Source>, at: Pos, message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            file: Some(file.clone()),
            path: None,
            at: at.is_known().then_some(at),
            width: 0,
            label: None,
            help: None,
        }
    }

    /// A problem with a whole file, or with a path that could not be read.
    pub fn for_path(path: &Path, message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            file: None,
            path: Some(path.to_path_buf()),
            at: None,
            width: 0,
            label: None,
            help: None,
        }
    }

    /// Marks `width` bytes from the position.
    pub fn width(mut self, width: usize) -> Self {
        self.width = width;
        self
    }

    /// Adds a note under the marker.
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into().into_boxed_str());
        self
    }

    /// Adds a hint.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into().into_boxed_str());
        self
    }

    /// Adds a hint when there is one.
    pub fn maybe_help(self, help: Option<String>) -> Self {
        match help {
            Some(help) => self.help(help),
            None => self,
        }
    }

    /// The file path for display.
    pub fn path(&self) -> Option<&Path> {
        self.file.as_ref().map(|f| f.path()).or(self.path.as_deref())
    }

    /// Renders the diagnostic as plain text: a title, `--> file:line:col`, the line with a marker.
    pub fn render(&self) -> String {
        let path = self.path().map(|p| p.display().to_string()).unwrap_or_default();
        let mut group = Group::with_title(Level::ERROR.primary_title(self.message.as_str()));
        let window;
        match (&self.file, self.at) {
            (Some(file), Some(at)) => {
                window = LineWindow::around(&file.text, at, self.width);
                let mut annotation = AnnotationKind::Primary.span(window.marked.clone());
                if let Some(label) = &self.label {
                    annotation = annotation.label(&**label);
                }
                group = group.element(
                    Snippet::source(window.text)
                        .line_start(at.line as usize)
                        .path(path.as_str())
                        .annotation(annotation),
                );
            }
            _ if !path.is_empty() => group = group.element(Origin::path(path.as_str())),
            _ => {}
        }
        let mut report = vec![group];
        if let Some(help) = &self.help {
            report.push(Group::with_title(Level::HELP.secondary_title(&**help)));
        }
        Renderer::plain().render(&report)
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

/// The one line of a file that holds a marked span, so large files render as fast as small ones.
struct LineWindow<'a> {
    text: &'a str,
    marked: std::ops::Range<usize>,
}

impl<'a> LineWindow<'a> {
    fn around(text: &'a str, at: Pos, width: usize) -> Self {
        let offset = at.offset.min(text.len());
        let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
        let end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
        // A CRLF file's lines end in `\r`, which would show as a control picture.
        let line = text[start..end].trim_end_matches('\r');
        let from = (offset - start).min(line.len());
        let first_char = line[from..].chars().next().map_or(0, char::len_utf8);
        let to = (from + width.max(first_char)).min(line.len());
        Self {
            text: line,
            marked: from..to.max(from),
        }
    }
}

/// Every diagnostic of a run, rendered one after another with a count at the end.
pub fn render_all(diagnostics: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diagnostics {
        out.push_str(&d.render());
        out.push_str("\n\n");
    }
    let n = diagnostics.len();
    out.push_str(&format!("error: {n} problem{} found\n", if n == 1 { "" } else { "s" }));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_file_line_col_and_marker() {
        let src = Arc::new(Source::new("s.yaml", "name: x\nstpes: []\n"));
        let at = src.pos_at(2, 1);
        let d = Diagnostic::at(&src, at, "unknown key `stpes`")
            .width(5)
            .help("did you mean `steps`?");
        let text = d.render();
        assert!(text.contains("s.yaml:2:1"), "{text}");
        assert!(text.contains("^^^^^"), "{text}");
        assert!(text.contains("did you mean `steps`?"), "{text}");
    }

    #[test]
    fn crlf_lines_render_without_the_carriage_return() {
        let src = Arc::new(Source::new("s.yaml", "a: 1\r\nwait: 5 minutes\r\n"));
        let text = Diagnostic::at(&src, src.pos_at(2, 7), "bad").width(9).render();
        assert!(text.contains("wait: 5 minutes\n"), "{text}");
        let at_the_cr = Diagnostic::at(&src, src.pos_at(2, 16), "end").render();
        assert!(at_the_cr.contains("s.yaml:2:16"), "{at_the_cr}");
    }

    #[test]
    fn renders_a_path_without_position() {
        let d = Diagnostic::for_path(Path::new("gone.yaml"), "cannot read the file");
        assert!(d.render().contains("gone.yaml"));
    }
}
