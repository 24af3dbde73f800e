//! The operators: whether one holds between a selected value and an expected one, and if not, why.

use std::cmp::Ordering;

use regex::Regex;
use serde_json::Value;

use super::values::{is_integer, is_subset, json_eq, num_cmp, number_of, short, text_of};
use crate::json::kind;
use crate::spec::Operator;

/// The JSON types `type:` names.
const JSON_TYPES: &[&str] = &["string", "number", "integer", "boolean", "object", "array", "null"];

/// Checks one operator. `actual` is what the path selects (`None`: nothing); `regex` is the
/// operand of a `matches`, compiled once, when it was a literal. `Err` is the failure, without
/// the path.
pub(super) fn apply(
    op: Operator,
    expected: &Value,
    actual: Option<&Value>,
    regex: Option<&Regex>,
) -> Result<(), String> {
    let actual = match (op, actual) {
        (Operator::Exists | Operator::Absent, _) => return presence(op, expected, actual),
        (_, None) => return Err(format!("expected {}, selects nothing", wanted(op, expected))),
        (_, Some(actual)) => actual,
    };
    let holds = match op {
        Operator::Equals => json_eq(actual, expected),
        Operator::NotEquals => !json_eq(actual, expected),
        Operator::Contains => contains(actual, expected),
        Operator::OneOf => match expected {
            Value::Array(items) => items.iter().any(|item| json_eq(actual, item)),
            other => return Err(operand_error(op, "a list", other)),
        },
        Operator::Matches => return matches(expected, actual, regex),
        Operator::Gt | Operator::Gte | Operator::Lt | Operator::Lte => return compare(op, expected, actual),
        Operator::Length => return length(expected, actual),
        Operator::Type => return type_is(expected, actual),
        Operator::Exists | Operator::Absent => return presence(op, expected, Some(actual)),
    };
    if holds {
        Ok(())
    } else {
        Err(mismatch(op, expected, actual))
    }
}

/// `exists` and `absent`.
fn presence(op: Operator, expected: &Value, actual: Option<&Value>) -> Result<(), String> {
    let Value::Bool(flag) = expected else {
        return Err(operand_error(op, "`true` or `false`", expected));
    };
    let present = if op == Operator::Exists { *flag } else { !*flag };
    match (present, actual) {
        (true, Some(_)) | (false, None) => Ok(()),
        (true, None) => Err("selects nothing".into()),
        (false, Some(found)) => Err(format!("expected nothing, found {}", short(found))),
    }
}

/// `contains`: a substring, a list element, or a map's key/value subset.
fn contains(actual: &Value, expected: &Value) -> bool {
    match (actual, expected) {
        (Value::String(haystack), Value::String(needle)) => haystack.contains(needle.as_str()),
        // `contains: 42` on a text means the text "42".
        (Value::String(haystack), Value::Number(_) | Value::Bool(_)) => haystack.contains(&text_of(expected)),
        (Value::Array(items), _) => items.iter().any(|item| json_eq(item, expected)),
        (Value::Object(have), Value::Object(want)) => is_subset(want, have),
        _ => false,
    }
}

/// `matches`: a string against a regular expression, found anywhere in it.
fn matches(expected: &Value, actual: &Value, regex: Option<&Regex>) -> Result<(), String> {
    let compiled;
    let regex = match (regex, expected) {
        (Some(regex), _) => regex,
        (None, Value::String(pattern)) => {
            compiled = Regex::new(pattern).map_err(|e| {
                let reason = e.to_string();
                let last = reason.lines().last().unwrap_or("invalid").trim().to_string();
                format!("{} is not a valid regular expression: {last}", short(expected))
            })?;
            &compiled
        }
        (None, other) => {
            return Err(operand_error(
                Operator::Matches,
                "a regular expression, as a string",
                other,
            ));
        }
    };
    match actual {
        Value::String(text) if regex.is_match(text) => Ok(()),
        Value::String(_) => Err(mismatch(Operator::Matches, expected, actual)),
        other => Err(format!(
            "expected {}, found {} ({}, not a string)",
            wanted(Operator::Matches, expected),
            short(other),
            kind(other)
        )),
    }
}

/// `gt`, `gte`, `lt`, `lte`: numbers only.
fn compare(op: Operator, expected: &Value, actual: &Value) -> Result<(), String> {
    let Some(bound) = number_of(expected) else {
        return Err(operand_error(op, "a number", expected));
    };
    let Value::Number(n) = actual else {
        return Err(format!(
            "expected {}, found {} ({}, not a number)",
            wanted(op, expected),
            short(actual),
            kind(actual)
        ));
    };
    let ordering = num_cmp(n, &bound);
    let holds = match op {
        Operator::Gt => ordering == Some(Ordering::Greater),
        Operator::Gte => matches!(ordering, Some(Ordering::Greater | Ordering::Equal)),
        Operator::Lt => ordering == Some(Ordering::Less),
        _ => matches!(ordering, Some(Ordering::Less | Ordering::Equal)),
    };
    if holds {
        Ok(())
    } else {
        Err(mismatch(op, expected, actual))
    }
}

/// `length`: characters of a string, items of a list, keys of a map.
fn length(expected: &Value, actual: &Value) -> Result<(), String> {
    let want = number_of(expected).filter(is_integer).and_then(|n| {
        n.as_u64()
            .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
    });
    let Some(want) = want else {
        return Err(operand_error(
            Operator::Length,
            "a whole number of at least 0",
            expected,
        ));
    };
    let have = match actual {
        Value::String(s) => s.chars().count(),
        Value::Array(items) => items.len(),
        Value::Object(map) => map.len(),
        other => {
            return Err(format!(
                "expected length {want}, found {} ({}, which has no length)",
                short(other),
                kind(other)
            ));
        }
    };
    if u64::try_from(have).is_ok_and(|have| have == want) {
        Ok(())
    } else {
        Err(format!(
            "expected length {want}, found length {have}: {}",
            short(actual)
        ))
    }
}

/// `type`: the JSON type, where `integer` is a number with no fractional part.
fn type_is(expected: &Value, actual: &Value) -> Result<(), String> {
    let name = match expected {
        Value::String(name) if JSON_TYPES.contains(&name.as_str()) => name.as_str(),
        other => {
            return Err(operand_error(
                Operator::Type,
                &format!("one of {}", JSON_TYPES.join(", ")),
                other,
            ));
        }
    };
    let holds = match (name, actual) {
        ("string", Value::String(_))
        | ("number", Value::Number(_))
        | ("boolean", Value::Bool(_))
        | ("object", Value::Object(_))
        | ("array", Value::Array(_))
        | ("null", Value::Null) => true,
        ("integer", Value::Number(n)) => is_integer(n),
        _ => false,
    };
    if holds {
        return Ok(());
    }
    let found = match actual {
        Value::Number(n) if !is_integer(n) => "a number with a fraction",
        other => kind(other),
    };
    Err(format!("expected type {name}, found {} ({found})", short(actual)))
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

/// `expected X, found Y`, with the JSON types named when the two look alike (`"200"` and `200`).
fn mismatch(op: Operator, expected: &Value, actual: &Value) -> String {
    let alike = op == Operator::Equals && kind(expected) != kind(actual) && text_of(expected) == text_of(actual);
    if alike {
        return format!(
            "expected {} ({}), found {} ({})",
            short(expected),
            kind(expected),
            short(actual),
            kind(actual)
        );
    }
    format!("expected {}, found {}", wanted(op, expected), short(actual))
}

/// An operand of the wrong kind (a template rendered to something the operator cannot use).
fn operand_error(op: Operator, wants: &str, found: &Value) -> String {
    format!(
        "`{}` takes {wants}, but the expected value is {}",
        op.key(),
        short(found)
    )
}
