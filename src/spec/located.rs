//! Errors raised inside hand-written visitors, carrying their own position.
//!
//! The YAML parser attaches the position of the enclosing map to an error a visitor raises, which
//! is a whole step or assertion away from the key at fault. A visitor therefore writes the key's
//! position into the message, and the loader takes it back out.

use std::fmt::Display;

use serde::de;

use crate::source::Pos;

const MARK: char = '\u{1}';

/// An error at `at`, `width` bytes wide, with an optional hint.
pub(crate) fn error<E: de::Error>(at: Pos, width: usize, message: impl Display, help: Option<String>) -> E {
    E::custom(format_args!(
        "{MARK}{}:{}:{}:{width}{MARK}{message}{MARK}{}",
        at.line,
        at.col,
        at.offset,
        help.unwrap_or_default()
    ))
}

/// A message decoded from [`error`].
#[derive(Debug, PartialEq)]
pub struct Located {
    /// Where the problem is.
    pub at: Pos,
    /// How many bytes to mark.
    pub width: usize,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
}

/// Decodes a message written by [`error`]; `None` for any other message.
pub fn decode(message: &str) -> Option<Located> {
    let rest = message.strip_prefix(MARK)?;
    let mut parts = rest.splitn(3, MARK);
    let mut numbers = parts.next()?.split(':').map(str::parse::<usize>);
    let (line, col, offset, width) = (
        numbers.next()?.ok()?,
        numbers.next()?.ok()?,
        numbers.next()?.ok()?,
        numbers.next()?.ok()?,
    );
    let message = parts.next()?.to_string();
    let help = parts.next().filter(|h| !h.is_empty()).map(str::to_string);
    Some(Located {
        at: Pos {
            line: line as u32,
            col: col as u32,
            offset,
        },
        width,
        message,
        help,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Msg(String);
    impl std::fmt::Display for Msg {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(&self.0)
        }
    }
    impl std::error::Error for Msg {}
    impl de::Error for Msg {
        fn custom<T: Display>(msg: T) -> Self {
            Msg(msg.to_string())
        }
    }

    #[test]
    fn round_trips() {
        let at = Pos {
            line: 3,
            col: 5,
            offset: 40,
        };
        let e: Msg = error(at, 4, "bad key: x", Some("did you mean `y`?".into()));
        let located = decode(&e.0).unwrap();
        assert_eq!(located.at, at);
        assert_eq!(located.width, 4);
        assert_eq!(located.message, "bad key: x");
        assert_eq!(located.help.as_deref(), Some("did you mean `y`?"));
        assert_eq!(decode("plain message"), None);
    }
}
