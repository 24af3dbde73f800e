//! The operators: whether one holds between a selected value and an expected one, and if not, why.

use std::cmp::Ordering;

use regex::Regex;
use serde_json::Value;

use super::error::Unmet;
use super::values::{is_integer, is_subset, json_eq, num_cmp, number_of, text_of};
use crate::json::kind;
use crate::plan::Operator;

/// The JSON types `type:` names.
const JSON_TYPES: &[&str] = &["string", "number", "integer", "boolean", "object", "array", "null"];

/// Checks one operator. `actual` is what the path selects (`None`: nothing); `regex` is the
/// operand of a `matches`, compiled once, when it was a literal.
pub(super) fn apply<'a>(
    op: Operator,
    expected: &'a Value,
    actual: Option<&'a Value>,
    regex: Option<&Regex>,
) -> Result<(), Unmet<'a>> {
    let actual = match (op, actual) {
        (Operator::Exists | Operator::Absent, _) => return presence(op, expected, actual),
        (_, None) => {
            return Err(Unmet::NothingSelected { op, expected });
        }
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
fn presence<'a>(op: Operator, expected: &'a Value, actual: Option<&'a Value>) -> Result<(), Unmet<'a>> {
    let Value::Bool(flag) = expected else {
        return Err(operand_error(op, "`true` or `false`", expected));
    };
    let present = if op == Operator::Exists { *flag } else { !*flag };
    match (present, actual) {
        (true, Some(_)) | (false, None) => Ok(()),
        (true, None) => Err(Unmet::Missing),
        (false, Some(found)) => Err(Unmet::Present { found }),
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
fn matches<'a>(expected: &'a Value, actual: &'a Value, regex: Option<&Regex>) -> Result<(), Unmet<'a>> {
    let compiled;
    let regex = match (regex, expected) {
        (Some(regex), _) => regex,
        (None, Value::String(pattern)) => {
            compiled = Regex::new(pattern).map_err(|e| {
                let reason = e.to_string();
                Unmet::BadRegex {
                    pattern: expected,
                    reason: reason.lines().last().unwrap_or("invalid").trim().to_string(),
                }
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
        other => Err(Unmet::WrongType {
            op: Operator::Matches,
            expected,
            found: other,
            needs: "a string",
        }),
    }
}

/// `gt`, `gte`, `lt`, `lte`: numbers only.
fn compare<'a>(op: Operator, expected: &'a Value, actual: &'a Value) -> Result<(), Unmet<'a>> {
    let Some(bound) = number_of(expected) else {
        return Err(operand_error(op, "a number", expected));
    };
    let Value::Number(n) = actual else {
        return Err(Unmet::WrongType {
            op,
            expected,
            found: actual,
            needs: "a number",
        });
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
fn length<'a>(expected: &'a Value, actual: &'a Value) -> Result<(), Unmet<'a>> {
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
            return Err(Unmet::NoLength { want, found: other });
        }
    };
    if u64::try_from(have).is_ok_and(|have| have == want) {
        Ok(())
    } else {
        Err(Unmet::Length {
            want,
            have,
            found: actual,
        })
    }
}

/// `type`: the JSON type, where `integer` is a number with no fractional part.
fn type_is<'a>(expected: &'a Value, actual: &'a Value) -> Result<(), Unmet<'a>> {
    let name = match expected
        .as_str()
        .and_then(|name| JSON_TYPES.iter().find(|t| **t == name))
    {
        Some(name) => *name,
        None => {
            return Err(operand_error(
                Operator::Type,
                &format!("one of {}", JSON_TYPES.join(", ")),
                expected,
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
    let found_type = match actual {
        Value::Number(n) if !is_integer(n) => "a number with a fraction",
        other => kind(other),
    };
    Err(Unmet::Type {
        name,
        found: actual,
        found_type,
    })
}

/// `expected X, found Y`, with the JSON types named when the two look alike (`"200"` and `200`).
fn mismatch<'a>(op: Operator, expected: &'a Value, found: &'a Value) -> Unmet<'a> {
    let alike = op == Operator::Equals && kind(expected) != kind(found) && text_of(expected) == text_of(found);
    if alike {
        Unmet::LookAlike { expected, found }
    } else {
        Unmet::Differs { op, expected, found }
    }
}

/// An operand of the wrong kind (a template rendered to something the operator cannot use).
fn operand_error<'a>(op: Operator, wants: &str, expected: &'a Value) -> Unmet<'a> {
    Unmet::Operand {
        op,
        wants: wants.to_string(),
        expected,
    }
}
