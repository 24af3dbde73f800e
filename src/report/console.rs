//! The console: everything `run`, `validate` and `plan` print to stdout and stderr goes through
//! here, with secrets masked ([`crate::mask::masker`]) and terminal controls escaped, so that a
//! name or a server's text can neither leak a secret nor repaint the terminal.
//!
//! Escaped (as `\u{1b}`): control characters (C0, DEL, C1 — an ANSI escape starts with one) and
//! the Unicode bidi controls that reorder what the eye sees (U+061C, U+200E, U+200F,
//! U+202A–U+202E, U+2066–U+2069). Text keeps its newlines and tabs; a name ([`shown`]) keeps
//! neither. The crate denies `print!`/`eprint!` and their `ln` forms outside the lab, so a line
//! cannot bypass this module.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::Write;

use serde::Serialize;

use crate::mask::masker;

/// Writes `text` to stdout, masked and escaped; a closed pipe (`runner plan x | head`) is not an
/// error.
pub fn out(text: &str) {
    write(&mut std::io::stdout().lock(), &clean(text, true));
}

/// Writes `text` to stderr, masked and escaped.
pub fn err(text: &str) {
    write(&mut std::io::stderr().lock(), &clean(text, true));
}

/// Writes `text` to stdout as it is: only for text the runner itself wrote, with no value from a
/// scenario, the command line or a server in it (the JSON Schema, whose examples look like
/// secrets to the rules).
pub fn out_verbatim(text: &str) {
    write(&mut std::io::stdout().lock(), text);
}

/// Writes `value` to stdout as pretty JSON and a newline, masked; bidi controls are written as
/// JSON escapes (`\u202e`), as JSON already writes control characters.
pub fn out_json<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<()> {
    let mut value = serde_json::to_value(value)?;
    masker().value(&mut value);
    let text = serde_json::to_string_pretty(&value)?;
    let mut escaped = replace_chars(&text, is_bidi, |out, c| {
        let _ = write!(out, "\\u{:04x}", u32::from(c));
    })
    .into_owned();
    escaped.push('\n');
    write(&mut std::io::stdout().lock(), &escaped);
    Ok(())
}

/// A name (scenario, group, step) or one line of text as the console shows it: masked, and every
/// control character escaped, newlines and tabs included.
pub fn shown(text: &str) -> String {
    clean(text, false).into_owned()
}

/// `text` masked, then escaped; newlines and tabs kept when `lines`.
fn clean(text: &str, lines: bool) -> Cow<'_, str> {
    match masker().text(text) {
        Cow::Borrowed(text) => escape(text, lines),
        Cow::Owned(masked) => Cow::Owned(escape(&masked, lines).into_owned()),
    }
}

/// `text` with every control character (but newlines and tabs when `lines`) and every bidi
/// control written as `\u{…}`; borrowed when there is none.
fn escape(text: &str, lines: bool) -> Cow<'_, str> {
    let unsafe_char = |c: char| (c.is_control() && !(lines && matches!(c, '\n' | '\t'))) || is_bidi(c);
    replace_chars(text, unsafe_char, |out, c| {
        let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
    })
}

/// `text` with every character `pick` picks written by `with`; borrowed when there is none.
fn replace_chars(text: &str, pick: impl Fn(char) -> bool, with: impl Fn(&mut String, char)) -> Cow<'_, str> {
    if !text.chars().any(&pick) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if pick(c) {
            with(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// The Unicode bidi controls: embeddings, overrides, isolates and marks.
fn is_bidi(c: char) -> bool {
    matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn write(out: &mut impl Write, text: &str) {
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_ansi_and_bidi_are_escaped() {
        assert_eq!(
            escape("ok\x1b[2J\x1b]0;pwned\x07 \r\u{9b}31m", true),
            "ok\\u{1b}[2J\\u{1b}]0;pwned\\u{7} \\u{d}\\u{9b}31m"
        );
        assert_eq!(
            escape("abc\u{202e}fed\u{2066}x\u{2069}\u{200f}\u{061c}", true),
            "abc\\u{202e}fed\\u{2066}x\\u{2069}\\u{200f}\\u{61c}"
        );
        assert_eq!(escape("line 1\n\tline 2\n", true), "line 1\n\tline 2\n");
        assert_eq!(escape("name\nfake line\t", false), "name\\u{a}fake line\\u{9}");
        assert_eq!(escape("\u{7f}\0", false), "\\u{7f}\\u{0}");
    }

    #[test]
    fn plain_text_is_borrowed() {
        for text in [
            "",
            "heartbeat: 5/5 passed\n",
            "Normal lifecycle ×5 — ünïcödé 日本",
            "\\u{1b} typed",
        ] {
            assert!(matches!(escape(text, true), Cow::Borrowed(_)), "{text}");
        }
    }

    #[test]
    fn shown_names_are_masked_and_escaped() {
        assert_eq!(
            shown("GET http://u:pw@h/?token=t \x1b[31m"),
            "GET http://u:***@h/?token=*** \\u{1b}[31m"
        );
    }
}
