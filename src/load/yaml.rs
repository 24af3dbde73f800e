//! YAML text → [`Scenario`], with parser errors turned into located diagnostics.

use std::ops::Range;
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
        // an anchor there, a missing key) or about its cut (a syntax error where a step's lines
        // were not where its node said); the values' own problems are kept.
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

/// The file once per section, every other section blanked: each top-level key; each client
/// group under `clients:` (with the `clients:` line kept); and each step of a group's `steps:`
/// and of `before:` and `after:` (with the lines around the list kept, so no list is left
/// empty).
///
/// Serde stops at the first error, and the parser cannot skip the rest of a value that failed,
/// so a second wrong value is only found by reading again without the first. Blanking replaces
/// every byte of the other lines but `\n` with a space, so lines, columns and byte offsets of
/// what is read stay those of the file. A section is a run of whole lines, so keys or steps that
/// share a line (flow style, `{a: 1, b: 2}`, `[wait: 1s, wait: 2s]`) are not split.
fn sections(text: &str) -> Vec<String> {
    let Ok(root) = from_text::<Entries<Spanned<Node>>>(text) else {
        return Vec::new();
    };
    let lines = Lines::of(text);
    let mut kept: Vec<Vec<Range<usize>>> = Vec::new();
    let keys: Vec<u32> = root.iter().map(|(k, _)| k.at.line).collect();
    for (i, (key, value)) in root.iter().enumerate() {
        let (Some(from), end) = (lines.start(key.at.line), keys.get(i + 1)) else {
            continue;
        };
        if end == Some(&key.at.line) || keys[..i].contains(&key.at.line) {
            continue;
        }
        let to = end.and_then(|l| lines.start(*l)).unwrap_or(text.len());
        let split = match (&key.value[..], &value.value) {
            ("clients", Node::Map(groups)) => lines.groups(key.at.line, groups, from..to),
            ("before" | "after", Node::List(steps)) => lines.items(key.at.line, steps, from..to),
            _ => None,
        };
        kept.extend(split.unwrap_or_else(|| vec![vec![from..to]]));
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

/// Where each line of a text starts, for cutting it into sections of whole lines.
struct Lines<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    fn of(text: &'a str) -> Self {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self { text, starts }
    }

    /// The byte offset where a 1-based line starts.
    fn start(&self, line: u32) -> Option<usize> {
        self.starts.get(line.saturating_sub(1) as usize).copied()
    }

    /// The start of each line in `at`, when they are all below `parent` and in order: the
    /// entries can then be cut apart by lines.
    fn starts(&self, parent: u32, at: &[u32]) -> Option<Vec<usize>> {
        let ordered = !at.is_empty() && at.windows(2).all(|w| w[0] < w[1]) && at[0] > parent;
        ordered.then(|| at.iter().map(|l| self.start(*l)).collect()).flatten()
    }

    /// One section per client group (or per step of its `steps:`), each keeping the `clients:`
    /// line.
    fn groups(
        &self,
        key: u32,
        groups: &[(Spanned<String>, Spanned<Node>)],
        whole: Range<usize>,
    ) -> Option<Vec<Vec<Range<usize>>>> {
        let at: Vec<u32> = groups.iter().map(|(g, _)| g.at.line).collect();
        let starts = self.starts(key, &at)?;
        let key_line = whole.start..self.start(key + 1).unwrap_or(whole.end);
        let mut sections = Vec::new();
        for (j, (name, group)) in groups.iter().enumerate() {
            let range = starts[j]..starts.get(j + 1).copied().unwrap_or(whole.end);
            match self.steps(name.at.line, &group.value, range.clone()) {
                Some(each) => sections.extend(each.into_iter().map(|mut section| {
                    section.push(key_line.clone());
                    section
                })),
                None => sections.push(vec![key_line.clone(), range]),
            }
        }
        Some(sections)
    }

    /// One section per step of a group's `steps:`, each keeping the group's other keys.
    fn steps(&self, line: u32, group: &Node, range: Range<usize>) -> Option<Vec<Vec<Range<usize>>>> {
        let Node::Map(keys) = group else { return None };
        let n = keys.iter().position(|(k, _)| k.value == "steps")?;
        let Node::List(steps) = &keys[n].1.value else {
            return None;
        };
        // The list ends where the group's next key starts, or with the group.
        let end = keys
            .get(n + 1)
            .and_then(|(k, _)| self.start(k.at.line))
            .unwrap_or(range.end);
        let mut each = self.items(line, steps, range.start..end)?;
        for section in &mut each {
            section.push(end..range.end);
        }
        Some(each)
    }

    /// One section per item of a list whose key stands at line `key` and whose lines are
    /// `whole`: what comes before the first item, and the item.
    fn items(&self, key: u32, items: &[Spanned<Node>], whole: Range<usize>) -> Option<Vec<Vec<Range<usize>>>> {
        let at: Vec<u32> = items.iter().map(|item| item.at.line).collect();
        let starts = self.starts(key, &at)?;
        // Each item's `-` on its own first line, or cutting there would leave a stray value.
        let dashed = items.iter().zip(&starts).all(|(item, &start)| {
            let lead = self.text.get(start..item.at.offset);
            lead.is_some_and(|lead| lead.trim() == "-")
        });
        if !dashed {
            return None;
        }
        let head = whole.start..starts[0];
        let each = (0..starts.len())
            .map(|k| vec![head.clone(), starts[k]..starts.get(k + 1).copied().unwrap_or(whole.end)])
            .collect();
        Some(each)
    }
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
    fn wrong_values_in_two_steps_of_one_group_are_both_reported() {
        let text = error_of(
            "name: x\nbefore:\n  - wait: 1s\n    timeout: [soon]\n  - wait: 2s\n    retry: 3\nclients:\n  a:\n    count: 2\n    steps:\n      - wait: 1s\n        continue_on_failure: maybe\n      - name: two\n        wait: 1s\n      - wait: 1s\n        save: 3\n    record: { n: 1 }\n",
        );
        for at in ["t.yaml:4:14", "t.yaml:6:12", "t.yaml:12:30", "t.yaml:16:15"] {
            assert!(text.contains(at), "{at} missing:\n{text}");
        }
        assert!(text.ends_with("error: 4 problems found\n"), "{text}");
    }

    #[test]
    fn steps_whose_dash_stands_alone_are_not_cut_apart() {
        let text = error_of(
            "clients:\n  a:\n    steps:\n      -\n        wait: 1s\n        continue_on_failure: maybe\n      - wait: 1s\n",
        );
        assert!(text.contains("t.yaml:6:30"), "{text}");
        assert!(text.ends_with("error: 1 problem found\n"), "{text}");
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
