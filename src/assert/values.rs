//! JSON comparisons (numbers by value) and short, one-line renderings of values for messages.

use std::cmp::Ordering;

use serde_json::{Number, Value};

use crate::plan::Operator;

/// The most characters a value or a template takes in a message.
const SHORT: usize = 200;

/// JSON equality where numbers compare by value (`1` equals `1.0`), recursively.
pub(crate) fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => num_cmp(x, y) == Some(Ordering::Equal),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_eq(a, b)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

/// True when every key of `expected` is in `actual` with a matching value: maps recursively
/// by subset, anything else by [`json_eq`].
pub(crate) fn is_subset(expected: &serde_json::Map<String, Value>, actual: &serde_json::Map<String, Value>) -> bool {
    expected.iter().all(|(k, want)| {
        actual.get(k).is_some_and(|have| match (want, have) {
            (Value::Object(want), Value::Object(have)) => is_subset(want, have),
            _ => json_eq(want, have),
        })
    })
}

/// Compares two numbers by value: exactly when both are integers, as floats otherwise.
pub(crate) fn num_cmp(a: &Number, b: &Number) -> Option<Ordering> {
    match (as_int(a), as_int(b)) {
        (Some(x), Some(y)) => Some(x.cmp(&y)),
        _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
    }
}

fn as_int(n: &Number) -> Option<i128> {
    n.as_i64().map(i128::from).or_else(|| n.as_u64().map(i128::from))
}

/// True for a number with no fractional part (`3`, `3.0`).
pub(crate) fn is_integer(n: &Number) -> bool {
    n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.is_finite() && f.fract() == 0.0)
}

/// A value as compact JSON on one line, cut to about 200 characters with `…`.
pub(crate) fn short(v: &Value) -> String {
    cut(&serde_json::to_string(v).unwrap_or_else(|_| "?".into()))
}

/// A text (a template's source, a path) on one line, cut to about 200 characters with `…`.
pub(crate) fn one_line(text: &str) -> String {
    let flat: String = text
        .trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    cut(&flat)
}

fn cut(text: &str) -> String {
    match text.char_indices().nth(SHORT) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

/// The text a scalar stands for: a string's content, any other value's JSON.
pub(crate) fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A number from a number, or from a string that holds one (a template that rendered to text).
pub(crate) fn number_of(v: &Value) -> Option<Number> {
    match v {
        Value::Number(n) => Some(n.clone()),
        Value::String(s) => serde_json::from_str::<Number>(s.trim()).ok(),
        _ => None,
    }
}

/// A render error on one line, without the engine's internal template name.
pub(crate) fn template_error(e: &minijinja::Error) -> String {
    let text = match e.detail() {
        Some(detail) => format!("{}: {detail}", e.kind()),
        None => e.kind().to_string(),
    };
    one_line(&text)
}

/// What an operator wanted, as a phrase: `200`, `one of [1,2]`, `a number > 3`.
pub(super) fn wanted(op: Operator, expected: &Value) -> String {
    let e = short(expected);
    match op {
        Operator::Equals => e,
        Operator::NotEquals => format!("anything but {e}"),
        Operator::Exists | Operator::Absent => "a value".into(),
        Operator::Contains => format!("a value containing {e}"),
        Operator::Matches => format!("a string matching {e}"),
        Operator::Gt => format!("a number > {}", text_of(expected)),
        Operator::Gte => format!("a number >= {}", text_of(expected)),
        Operator::Lt => format!("a number < {}", text_of(expected)),
        Operator::Lte => format!("a number <= {}", text_of(expected)),
        Operator::Length => format!("length {}", text_of(expected)),
        Operator::OneOf => format!("one of {e}"),
        Operator::Type => format!("type {}", text_of(expected)),
    }
}
