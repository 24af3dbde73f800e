//! `expect:` and `save:`: JSONPaths parsed once, operator operands checked.

use super::Compiler;
use super::scope::Scope;
use super::templates::is_template;
use crate::assert;
use crate::operator::Operator;
use crate::plan::{AssertionPlan, Check, JsonPath, Save, SaveFrom, ValuePlan};
use crate::spec::{Assertion, AssertionKind, Entries, Node, Spanned, Text};
use crate::suggest;

/// The names `type:` accepts.
const JSON_TYPES: &[&str] = &["string", "number", "integer", "boolean", "object", "array", "null"];

impl Compiler<'_> {
    pub(super) fn expect(&mut self, expect: Option<&Spanned<Vec<Assertion>>>, scope: &Scope) -> Vec<AssertionPlan> {
        let Some(expect) = expect else { return Vec::new() };
        if expect.value.is_empty() {
            self.error(expect.at, "`expect` is empty")
                .help("list at least one assertion, e.g. `- $.status: 200`");
        }
        expect.value.iter().filter_map(|a| self.assertion(a, scope)).collect()
    }

    fn assertion(&mut self, assertion: &Assertion, scope: &Scope) -> Option<AssertionPlan> {
        match &assertion.kind {
            AssertionKind::That(text) => {
                if !is_template(&text.value) {
                    self.error(text.at, "`that` takes a template that must be true")
                        .help("write e.g. `that: \"{{ result.status < 500 }}\"`");
                    return None;
                }
                let that = self.template(text, scope)?.template;
                Some(AssertionPlan::That { at: assertion.at, that })
            }
            AssertionKind::Path {
                path: path_text,
                checks,
                default,
            } => {
                let path = self.json_path(path_text);
                let mut checks: Vec<_> = checks
                    .iter()
                    .map(|(op, operand)| {
                        self.check_operand(op, operand);
                        let expected = self.value(operand, scope);
                        Check {
                            op: op.value,
                            regex: literal_regex(op.value, &expected),
                            expected,
                            written: String::new(),
                        }
                    })
                    .collect();
                let default = default.as_ref().map(|d| self.value(d, scope));
                for check in &mut checks {
                    check.written = assert::written(&path_text.value, check.op, &check.expected, default.as_ref());
                }
                Some(AssertionPlan::Path {
                    at: assertion.at,
                    path: path?,
                    checks,
                    default,
                })
            }
        }
    }

    /// Parses a JSONPath, reporting a bad one at its position.
    fn json_path(&mut self, path: &Spanned<String>) -> Option<JsonPath> {
        match jsonpath_rust::parser::parse_json_path(&path.value) {
            Ok(query) => Some(JsonPath::new(path.value.clone(), query)),
            Err(e) => {
                let (column, expected) = pest_position(&e.to_string());
                let (at, _) = self.place(path, column, 0);
                self.error(at, format!("`{}` is not a valid JSONPath", path.value))
                    .label(expected)
                    .help("a JSONPath starts at `$`: `$.result.content[0].text`, `$.rows[0].status`, `$.headers['mcp-session-id']`");
                None
            }
        }
    }

    /// Checks that an operator's operand has the type the operator compares.
    fn check_operand(&mut self, op: &Spanned<Operator>, operand: &Spanned<Node>) {
        let node = &operand.value;
        let templated = matches!(node, Node::String(s) if is_template(s));
        let wants = match (op.value, node) {
            (Operator::Exists | Operator::Absent, Node::Bool(_)) => return,
            (Operator::Exists | Operator::Absent, _) => "`true` or `false`",
            (Operator::Length, _) if !templated && node.to_json().as_u64().is_none() => "a whole number of at least 0",
            (Operator::Gt | Operator::Gte | Operator::Lt | Operator::Lte, _)
                if !templated && !matches!(node, Node::Number(_)) =>
            {
                "a number"
            }
            (Operator::OneOf, _) if !templated && !matches!(node, Node::List(_)) => "a list of values",
            (Operator::Matches, Node::String(pattern)) if !templated => {
                if let Err(e) = regex::Regex::new(pattern) {
                    let reason = e.to_string();
                    let last = reason.lines().last().unwrap_or("invalid").trim().to_string();
                    self.error(operand.at, format!("`{pattern}` is not a valid regular expression"))
                        .label(last);
                }
                return;
            }
            (Operator::Matches, Node::String(_)) => return,
            (Operator::Matches, _) => "a regular expression, as a string",
            (Operator::Type, Node::String(name)) if JSON_TYPES.contains(&name.as_str()) => return,
            (Operator::Type, Node::String(name)) => {
                let help = suggest::did_you_mean(name, JSON_TYPES.iter().copied()).or_else(|| match name.as_str() {
                    "list" | "sequence" | "seq" => Some("did you mean `array`?".into()),
                    "map" | "dict" | "mapping" => Some("did you mean `object`?".into()),
                    "bool" => Some("did you mean `boolean`?".into()),
                    _ => Some(format!("the JSON types: {}", JSON_TYPES.join(", "))),
                });
                self.error(operand.at, format!("`{name}` is not a JSON type"))
                    .width(name.len())
                    .maybe_help(help);
                return;
            }
            (Operator::Type, _) => "one of `string`, `number`, `integer`, `boolean`, `object`, `array`, `null`",
            _ => return,
        };
        self.error(
            operand.at,
            format!("`{}` takes {wants}, found {}", op.value.key(), node.type_name()),
        );
    }

    pub(super) fn save(&mut self, save: &Entries<Text>, scope: &Scope) -> Vec<Save> {
        save.iter()
            .filter_map(|(name, source)| {
                let from = if source.value.trim_start().starts_with('$') {
                    SaveFrom::Path(self.json_path(source)?)
                } else if is_template(&source.value) {
                    SaveFrom::Template(self.template(source, scope)?.template)
                } else {
                    self.error(
                        source.at,
                        format!("`{}` is neither a JSONPath nor a template", source.value),
                    )
                    .width(source.value.len())
                    .help("save a value from the result with `$.path`, or compute one with `\"{{ … }}\"`");
                    return None;
                };
                Some(Save {
                    name: name.value.clone(),
                    from,
                })
            })
            .collect()
    }
}

/// The regular expression of a `matches` whose operand is a literal string, compiled once (a bad
/// one is reported by `check_operand`). A templated one is compiled when it renders.
fn literal_regex(op: Operator, expected: &ValuePlan) -> Option<regex::Regex> {
    match (op, expected) {
        (Operator::Matches, ValuePlan::Literal(serde_json::Value::String(pattern))) => regex::Regex::new(pattern).ok(),
        _ => None,
    }
}

/// The byte column and the "expected …" note of a JSONPath parser error, whose text looks like
/// `Failed to parse rule:  --> 1:10 … = expected selector`.
fn pest_position(message: &str) -> (usize, String) {
    let column = message
        .split_once("--> 1:")
        .and_then(|(_, rest)| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse::<usize>().ok())
        .map_or(0, |n| n.saturating_sub(1));
    let expected = message
        .lines()
        .find_map(|l| l.trim().strip_prefix("= "))
        .unwrap_or("cannot parse here")
        .to_string();
    (column, expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parser_errors_give_their_column_and_expectation() {
        let error = jsonpath_rust::parser::parse_json_path("$.result[").unwrap_err();
        assert_eq!(pest_position(&error.to_string()), (9, "expected selector".to_string()));
    }
}
