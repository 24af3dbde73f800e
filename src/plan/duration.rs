//! Durations as scenarios write them (`500ms`, `2m`, `1h 30m`): one rule for the compiler, which
//! checks the fixed ones, and the executor, which checks the ones templates render.

use std::time::Duration;

/// Why a text is not a duration, and how to write one.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct DurationError {
    /// What is wrong.
    pub message: String,
    /// How to write it.
    pub help: &'static str,
}

const DURATION_HELP: &str = "a duration is a number with a unit: `500ms`, `30s`, `2m`, `1h 30m`";

/// Parses a duration as scenarios write it: each number followed by its unit, no sign.
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let trimmed = text.trim();
    let fail = |message: String| DurationError {
        message,
        help: DURATION_HELP,
    };
    if trimmed.is_empty() {
        return Err(fail("the duration is empty".into()));
    }
    if trimmed.starts_with('-') {
        return Err(fail(format!("`{trimmed}` is negative; a duration cannot be")));
    }
    if trimmed.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return Err(fail(format!("`{trimmed}` has no unit")));
    }
    let unit_after_number =
        |part: &str| part.starts_with(|c: char| c.is_ascii_digit()) && part.contains(char::is_alphabetic);
    if !trimmed.split_whitespace().all(unit_after_number) {
        return Err(fail(format!(
            "`{trimmed}` is not a duration: write each unit right after its number"
        )));
    }
    humantime::parse_duration(trimmed).map_err(|e| fail(format!("`{trimmed}` is not a duration: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_need_units_right_after_their_numbers() {
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("1h 30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert!(parse_duration("5 minutes").unwrap_err().message.contains("right after"));
        assert!(parse_duration("1 0s").unwrap_err().message.contains("right after"));
        assert!(parse_duration("-1s").unwrap_err().message.contains("negative"));
        assert!(parse_duration("30").unwrap_err().message.contains("no unit"));
        assert!(parse_duration("").is_err());
        assert!(parse_duration("soon").is_err());
    }
}
