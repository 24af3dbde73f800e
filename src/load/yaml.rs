//! YAML text → [`Scenario`], with parser errors turned into located diagnostics.

use std::sync::Arc;

use serde::de::DeserializeOwned;

use crate::diagnostic::Diagnostic;
use crate::source::Source;
use crate::spec::{Entries, Node, Scenario, Spanned, located};
use crate::suggest;

/// Parses a scenario file, or returns its problems: the first the parser meets, and the first
/// of each other section when that one is a wrong type or value (see [`sections`]).
pub fn parse_scenario(source: &Arc<Source>) -> Result<Scenario, Vec<Diagnostic>> {
    let error = match from_text::<Scenario>(&source.text) {
        Ok(scenario) => return Ok(scenario),
        Err(e) => e,
    };
    let first = diagnose(source, &error);
    if matches!(original(&error), serde_saphyr::Error::Budget { .. }) {
        // A broken limit (an alias bomb): not worth reading again. A syntax error needs no
        // check here: such a file cannot be cut into sections.
        return Err(vec![first]);
    }
    let mut problems = vec![first];
    for text in sections(&source.text) {
        let Err(e) = from_text::<Scenario>(&text) else { continue };
        // Blanking the other sections can only add problems about what they held (an alias to
        // an anchor there, a missing key); the values' own problems are kept.
        if matches!(original(&e), serde_saphyr::Error::Budget { .. }) || e.to_string().contains("anchor") {
            continue;
        }
        let problem = diagnose(source, &e);
        if !problems
            .iter()
            .any(|p| p.at == problem.at && p.message == problem.message)
        {
            problems.push(problem);
        }
    }
    problems.sort_by_key(|p| p.at.map(|at| at.offset));
    Err(problems)
}

/// Parses YAML text into any spec type, with our parser settings.
pub fn parse<T: DeserializeOwned>(source: &Arc<Source>) -> Result<T, Diagnostic> {
    from_text(&source.text).map_err(|e| diagnose(source, &e))
}

fn from_text<T: DeserializeOwned>(text: &str) -> Result<T, serde_saphyr::Error> {
    let options = serde_saphyr::options! {
        // `no`, `on` and `yes` stay strings; only `true` and `false` are booleans.
        strict_booleans: true,
    };
    serde_saphyr::from_str_with_options(text, options)
}

/// The file once per section, every other section blanked: each top-level key, and each client
/// group under `clients:` (with the `clients:` line kept).
///
/// Serde stops at the first error, and the parser cannot skip the rest of a value that failed,
/// so a second wrong value is only found by reading again without the first. Blanking replaces
/// every byte of the other lines but `\n` with a space, so lines, columns and byte offsets of
/// what is read stay those of the file. A section is a run of whole lines, so keys that share a
/// line (flow style, `{a: 1, b: 2}`) are not split.
fn sections(text: &str) -> Vec<String> {
    let Ok(root) = from_text::<Entries<Spanned<Node>>>(text) else {
        return Vec::new();
    };
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let start_of = |line: u32| line_starts.get(line.saturating_sub(1) as usize).copied();
    // Each section: the lines kept (for a client group, the `clients:` line and its own).
    let mut kept: Vec<[std::ops::Range<usize>; 2]> = Vec::new();
    let keys: Vec<u32> = root.iter().map(|(k, _)| k.at.line).collect();
    for (i, (key, value)) in root.iter().enumerate() {
        let (Some(from), end) = (start_of(key.at.line), keys.get(i + 1)) else {
            continue;
        };
        if end == Some(&key.at.line) || keys[..i].contains(&key.at.line) {
            continue;
        }
        let to = end.and_then(|l| start_of(*l)).unwrap_or(text.len());
        let groups = match (&key.value[..], &value.value) {
            ("clients", Node::Map(groups)) => groups.as_slice(),
            _ => &[],
        };
        let lines: Vec<u32> = groups.iter().map(|(g, _)| g.at.line).collect();
        let splittable = !lines.is_empty() && lines.windows(2).all(|w| w[0] < w[1]) && lines[0] > key.at.line;
        if !splittable {
            kept.push([from..to, 0..0]);
            continue;
        }
        let key_line = from..start_of(key.at.line + 1).unwrap_or(to);
        for (j, line) in lines.iter().enumerate() {
            let group_from = start_of(*line).unwrap_or(to);
            let group_to = lines.get(j + 1).and_then(|l| start_of(*l)).unwrap_or(to);
            kept.push([key_line.clone(), group_from..group_to]);
        }
    }
    if kept.len() < 2 {
        return Vec::new();
    }
    kept.into_iter()
        .map(|ranges| {
            text.char_indices()
                .map(|(i, c)| match c {
                    '\n' => "\n".to_string(),
                    c if ranges.iter().any(|r| r.contains(&i)) => c.to_string(),
                    c => " ".repeat(c.len_utf8()),
                })
                .collect()
        })
        .collect()
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
        crate::diagnostic::render_all(&parse_scenario(&source).unwrap_err())
    }

    #[test]
    fn unknown_top_level_key_suggests_the_right_one() {
        let text = error_of("name: x\nclinets: {}\n");
        assert!(text.contains("unknown key `clinets`"), "{text}");
        assert!(text.contains("t.yaml:2:1"), "{text}");
        assert!(text.contains("did you mean `clients`?"), "{text}");
    }

    #[test]
    fn wrong_values_in_two_sections_are_both_reported() {
        let text = error_of(
            "name: x\ntags: 3\nclients:\n  a:\n    count: 2\n    steps:\n      - wait: 1s\n        continue_on_failure: maybe\n  b:\n    steps: {}\n",
        );
        assert!(text.contains("t.yaml:2:7"), "{text}");
        assert!(text.contains("t.yaml:8:30"), "{text}");
        assert!(text.contains("t.yaml:10:12"), "{text}");
        assert!(text.ends_with("error: 3 problems found\n"), "{text}");
    }

    #[test]
    fn a_syntax_error_is_reported_alone() {
        let text = error_of("name: x\ntags: [\nclients:\n  a: {steps: [wait: 1s]}\n");
        assert!(text.ends_with("error: 1 problem found\n"), "{text}");
    }

    #[test]
    fn step_errors_point_at_the_key() {
        let text = error_of("clients:\n  a:\n    steps:\n      - wait: 1s\n        expcet: []\n");
        assert!(text.contains("t.yaml:5:9"), "{text}");
        assert!(text.contains("did you mean `expect`?"), "{text}");
    }
}
