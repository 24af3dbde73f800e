//! Assertions at run time: JSONPath selections, operator checks, `that:` predicates, captures,
//! and the one-line messages that say why a check failed.
//!
//! Everything here is a pure function of a compiled plan item, a step's result document and the
//! template context: no I/O, no state, and no panics on any input.

mod error;
mod operators;
mod select;
mod values;

#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::plan::{AssertionPlan, Check, JsonPath, Operator, Save, SaveFrom, Template, TemplateEngine, ValuePlan};
use crate::source::Pos;

pub use error::AssertError;
pub use select::select;

pub(crate) use values::template_error;
use values::{one_line, short};

/// One assertion's outcome, as it goes in result files.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AssertionResult {
    /// Where the assertion stands (serializes as `line:col`).
    pub at: Pos,
    /// The assertion in readable form: `$.status equals 200`, `that {{ a != b }}`.
    pub assertion: String,
    /// Whether it held.
    pub passed: bool,
    /// The expected value, rendered (absent when it could not be rendered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<Value>,
    /// What the path selected, or what the `that` template rendered to (absent when nothing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual: Option<Value>,
    /// On failure: the path, what was expected and what was found, in one line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Runs every check of one assertion against a step's result document; `ctx` is the template
/// context (it already holds `result`). A Path assertion with several checks yields one
/// [`AssertionResult`] per check.
pub fn check(
    assertion: &AssertionPlan,
    result: &Value,
    engine: &TemplateEngine,
    ctx: &minijinja::Value,
) -> Vec<AssertionResult> {
    match assertion {
        AssertionPlan::Path {
            at,
            path,
            checks,
            default,
        } => {
            let seen = seen(path, default.as_ref(), result, engine, ctx);
            checks
                .iter()
                .map(|c| path_check(*at, path, c, &seen, engine, ctx))
                .collect()
        }
        AssertionPlan::That { at, that } => vec![that_check(*at, that, engine, ctx)],
    }
}

/// What a path's operators look at: the value it selects, else its `default`.
struct Seen {
    value: Option<Value>,
    /// True when `value` is the default because the path selected nothing.
    defaulted: bool,
    /// Why the default could not be rendered.
    broken_default: Option<String>,
}

fn seen(
    path: &JsonPath,
    default: Option<&ValuePlan>,
    result: &Value,
    engine: &TemplateEngine,
    ctx: &minijinja::Value,
) -> Seen {
    let selected = select(path, result);
    let mut seen = Seen {
        defaulted: selected.is_none() && default.is_some(),
        value: selected,
        broken_default: None,
    };
    if let (None, Some(default)) = (&seen.value, default) {
        match default.render(engine, ctx) {
            Ok(value) => seen.value = Some(value),
            Err(e) => {
                seen.broken_default = Some(format!(
                    "`{}` selects nothing, and its default {} fails: {}",
                    one_line(&path.source),
                    plan_text(default),
                    template_error(&e)
                ));
            }
        }
    }
    seen
}

/// The value a `save` entry captures, or why it could not.
pub fn capture(
    save: &Save,
    result: &Value,
    engine: &TemplateEngine,
    ctx: &minijinja::Value,
) -> Result<Value, AssertError> {
    match &save.from {
        SaveFrom::Path(path) => select(path, result).ok_or_else(|| AssertError::NothingToSave {
            path: path.source.clone(),
        }),
        SaveFrom::Template(template) => render(template, engine, ctx),
    }
}

/// A `check:` step / `that:` predicate: true, false, or why it does not render.
///
/// True when the template renders to `true`, or to the text `true` or `True` (how a text
/// template renders a boolean), surrounding whitespace ignored; false for any other value.
pub fn predicate(template: &Template, engine: &TemplateEngine, ctx: &minijinja::Value) -> Result<bool, AssertError> {
    render(template, engine, ctx).map(|v| is_true(&v))
}

fn is_true(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::String(s) => matches!(s.trim(), "true" | "True"),
        _ => false,
    }
}

/// Renders a template; its error names the template's source.
fn render(template: &Template, engine: &TemplateEngine, ctx: &minijinja::Value) -> Result<Value, AssertError> {
    engine.render(template, ctx).map_err(|error| AssertError::Render {
        template: template.source.clone(),
        reason: template_error(&error),
    })
}

fn that_check(at: Pos, that: &Template, engine: &TemplateEngine, ctx: &minijinja::Value) -> AssertionResult {
    let mut outcome = AssertionResult {
        at,
        assertion: format!("that {}", one_line(&that.source)),
        passed: false,
        expected: Some(Value::Bool(true)),
        actual: None,
        message: None,
    };
    match render(that, engine, ctx) {
        Ok(value) if is_true(&value) => {
            outcome.passed = true;
            outcome.actual = Some(value);
        }
        Ok(value) => {
            outcome.message = Some(format!("`{}` is {}, not true", one_line(&that.source), short(&value)));
            outcome.actual = Some(value);
        }
        Err(error) => outcome.message = Some(error.to_string()),
    }
    outcome
}

fn path_check(
    at: Pos,
    path: &JsonPath,
    check: &Check,
    seen: &Seen,
    engine: &TemplateEngine,
    ctx: &minijinja::Value,
) -> AssertionResult {
    let mut outcome = AssertionResult {
        at,
        assertion: check.written.clone(),
        passed: false,
        expected: None,
        actual: seen.value.clone(),
        message: seen.broken_default.clone(),
    };
    if outcome.message.is_some() {
        return outcome;
    }
    let shown_path = || one_line(&path.source);
    let expected = match check.expected.render(engine, ctx) {
        Ok(expected) => expected,
        Err(e) => {
            outcome.message = Some(format!(
                "`{}`: the expected value {} fails: {}",
                shown_path(),
                plan_text(&check.expected),
                template_error(&e)
            ));
            return outcome;
        }
    };
    match operators::apply(check.op, &expected, seen.value.as_ref(), check.regex.as_ref()) {
        Ok(()) => outcome.passed = true,
        Err(problem) if seen.defaulted => {
            outcome.message = Some(format!(
                "`{}`: {problem} (the default: the path selects nothing)",
                shown_path()
            ));
        }
        Err(problem) => outcome.message = Some(format!("`{}`: {problem}", shown_path())),
    }
    outcome.expected = Some(expected);
    outcome
}

/// A check of `path` as result files show it: `$.status equals 200`, with its default when it
/// has one: `$.n gt 1 (default 0)`.
pub fn written(path: &str, op: Operator, expected: &ValuePlan, default: Option<&ValuePlan>) -> String {
    let written_default = default.map_or(String::new(), |d| format!(" (default {})", plan_text(d)));
    format!("{} {}{written_default}", one_line(path), describe(op, expected))
}

/// A check as written: `equals 200`, `one_of [1,2]`, `exists`, `matches {{ vars.re }}`.
fn describe(op: Operator, expected: &ValuePlan) -> String {
    match (op, expected) {
        (Operator::Exists | Operator::Absent, ValuePlan::Literal(Value::Bool(true))) => op.key().to_string(),
        (op, expected) => format!("{} {}", op.key(), plan_text(expected)),
    }
}

/// An expected value as written: literals as JSON, templates as their source.
fn plan_text(plan: &ValuePlan) -> String {
    match plan {
        ValuePlan::Literal(v) => short(v),
        ValuePlan::Template(t) => one_line(&t.source),
        ValuePlan::List(items) => one_line(&format!(
            "[{}]",
            items.iter().map(plan_text).collect::<Vec<_>>().join(",")
        )),
        ValuePlan::Map(entries) => one_line(&format!(
            "{{{}}}",
            entries
                .iter()
                .map(|(k, v)| format!("{}:{}", short(&Value::String(k.clone())), plan_text(v)))
                .collect::<Vec<_>>()
                .join(",")
        )),
    }
}
