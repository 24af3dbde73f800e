//! YAML text → [`Scenario`], with parser errors turned into located diagnostics.

use std::sync::Arc;

use serde::de::DeserializeOwned;

use crate::diagnostic::Diagnostic;
use crate::source::Source;
use crate::spec::{Scenario, located};
use crate::suggest;

/// Parses a scenario file.
pub fn parse_scenario(source: &Arc<Source>) -> Result<Scenario, Diagnostic> {
    parse(source)
}

/// Parses YAML text into any spec type, with our parser settings.
pub fn parse<T: DeserializeOwned>(source: &Arc<Source>) -> Result<T, Diagnostic> {
    let options = serde_saphyr::options! {
        // `no`, `on` and `yes` stay strings; only `true` and `false` are booleans.
        strict_booleans: true,
    };
    serde_saphyr::from_str_with_options(&source.text, options).map_err(|e| diagnose(source, &e))
}

fn diagnose(source: &Arc<Source>, error: &serde_saphyr::Error) -> Diagnostic {
    let message = match original(error) {
        serde_saphyr::Error::Message { msg, .. } => msg.clone(),
        serde_saphyr::Error::Budget { breach, .. } => budget_message(breach),
        other => strip_position(&other.to_string()),
    };
    let parser_at = error
        .location()
        .filter(|l| l.line() > 0)
        .map(|l| source.pos_at(l.line() as u32, l.column() as u32));
    if let Some(located) = located::decode(&message) {
        let at = if located.at.is_known() {
            Some(located.at)
        } else {
            parser_at
        };
        return at
            .map_or_else(
                || Diagnostic::for_path(source.path(), &located.message),
                |at| Diagnostic::at(source, at, &located.message),
            )
            .width(located.width)
            .maybe_help(located.help);
    }
    let (message, help, width) = explain(&message);
    match parser_at {
        Some(at) => Diagnostic::at(source, at, message).width(width).maybe_help(help),
        None => Diagnostic::for_path(source.path(), message).maybe_help(help),
    }
}

/// The parser's own error, unwrapped from the snippet and alias layers it adds.
fn original(mut error: &serde_saphyr::Error) -> &serde_saphyr::Error {
    while let serde_saphyr::Error::WithSnippet { error: inner, .. }
    | serde_saphyr::Error::AliasError { error: inner, .. } = error
    {
        error = inner;
    }
    error
}

/// Removes the parser's positions (" at line N, column M", "(defined at line …) (used at …)"):
/// the diagnostic shows the position itself.
fn strip_position(message: &str) -> String {
    let cut = [" at line ", " (defined at line ", " (used at line "]
        .iter()
        .filter_map(|marker| message.find(marker))
        .min();
    match cut {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// Says in words which of the parser's limits a file broke (they stop alias bombs and runaway
/// nesting).
fn budget_message(breach: &serde_saphyr::budget::BudgetBreach) -> String {
    use serde_saphyr::budget::BudgetBreach as B;
    match breach {
        B::Depth { .. } => "the file nests maps and lists deeper than the parser allows (64 levels)".into(),
        B::Nodes { nodes } => format!(
            "the file expands to more than {} values; are aliases multiplying it?",
            nodes.saturating_sub(1)
        ),
        B::Aliases { .. } | B::AliasAnchorRatio { .. } => {
            "the file uses more aliases (`*name`) than the parser allows".into()
        }
        B::Anchors { .. } => "the file defines more anchors (`&name`) than the parser allows".into(),
        B::Events { .. } | B::ScalarBytes { .. } | B::InputBytes { .. } => {
            "the file is larger than the parser allows".into()
        }
        B::Documents { .. } => {
            "the file holds more YAML documents than the parser allows; a scenario is one document".into()
        }
        B::MergeKeys { .. } => "the file uses more merge keys (`<<`) than the parser allows".into(),
        _ => "the file's structure breaks the parser's limits (it may be truncated)".into(),
    }
}

/// Rewords serde's messages about unknown keys and values, adding "did you mean".
fn explain(message: &str) -> (String, Option<String>, usize) {
    for (prefix, what) in [("unknown field `", "key"), ("unknown variant `", "value")] {
        let Some(rest) = message.strip_prefix(prefix) else {
            continue;
        };
        let Some((word, tail)) = rest.split_once('`') else {
            continue;
        };
        let expected: Vec<String> = tail
            .trim_start_matches(", ")
            .trim_start_matches("expected one of ")
            .trim_start_matches("expected ")
            .split(", ")
            .map(|s| s.trim_matches('`').to_string())
            .filter(|s| !s.is_empty() && !s.starts_with("there are no"))
            .collect();
        let help = suggest::did_you_mean(word, expected.iter().map(String::as_str))
            .or_else(|| (!expected.is_empty()).then(|| format!("expected one of: {}", expected.join(", "))));
        return (format!("unknown {what} `{word}`"), help, word.len());
    }
    if message.starts_with("duplicate mapping key") {
        let key = message
            .trim_start_matches("duplicate mapping key: ")
            .split(',')
            .next()
            .unwrap_or_default();
        return (
            format!("duplicate key `{key}`"),
            Some("each key may appear once in a map; rename or merge the two entries".into()),
            key.len(),
        );
    }
    if let Some(field) = message
        .strip_prefix("missing field `")
        .and_then(|r| r.split('`').next())
    {
        return (
            format!("a required key is missing: `{field}`"),
            Some(format!("add `{field}:` to the map that ends here")),
            0,
        );
    }
    let plain = [
        ("expected string scalar", "expected a string here", None),
        (
            "expected sequence start",
            "expected a list here",
            Some("write a YAML list: `- item` lines, or `[a, b]`"),
        ),
        (
            "expected mapping start",
            "expected a map here",
            Some("write `key: value` lines, or `{key: value}`"),
        ),
        (
            "invalid boolean",
            "expected `true` or `false`",
            Some("only `true` and `false` are booleans; `yes`, `no`, `on` and `off` are strings"),
        ),
    ];
    for (prefix, reworded, help) in plain {
        if message.starts_with(prefix) {
            return (reworded.into(), help.map(Into::into), 0);
        }
    }
    (message.to_string(), None, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of(text: &str) -> String {
        let source = Arc::new(Source::new("t.yaml", text));
        parse_scenario(&source).unwrap_err().render()
    }

    #[test]
    fn unknown_top_level_key_suggests_the_right_one() {
        let text = error_of("name: x\nclinets: {}\n");
        assert!(text.contains("unknown key `clinets`"), "{text}");
        assert!(text.contains("t.yaml:2:1"), "{text}");
        assert!(text.contains("did you mean `clients`?"), "{text}");
    }

    #[test]
    fn step_errors_point_at_the_key() {
        let text = error_of("clients:\n  a:\n    steps:\n      - wait: 1s\n        expcet: []\n");
        assert!(text.contains("t.yaml:5:9"), "{text}");
        assert!(text.contains("did you mean `expect`?"), "{text}");
    }
}
