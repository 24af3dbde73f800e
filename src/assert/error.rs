//! Why a capture, a predicate or an operator did not come out as wanted. `Display` is the text
//! that result files and the console show, so each variant's text is part of the output.

use serde_json::Value;

use super::values::{one_line, short, wanted};
use crate::json::kind;
use crate::plan::Operator;

/// Why a `save` capture or a `check` predicate has no value.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AssertError {
    /// A template does not render; `reason` is the engine's error, on one line.
    #[error("`{}` fails: {reason}", one_line(.template))]
    Render { template: String, reason: String },
    /// A `save` path selects nothing, so there is no value to keep.
    #[error("`{}` selects nothing in the result", one_line(.path))]
    NothingToSave { path: String },
}

/// Why one operator does not hold between what a path selects and its expected value (the
/// message without the path).
#[derive(Debug, thiserror::Error)]
pub(super) enum Unmet<'a> {
    /// The operator needs a value, and the path selects nothing.
    #[error("expected {}, selects nothing", wanted(*.op, .expected))]
    NothingSelected { op: Operator, expected: &'a Value },
    /// `exists: true` or `absent: false`, and the path selects nothing.
    #[error("selects nothing")]
    Missing,
    /// `exists: false` or `absent: true`, and the path selects something.
    #[error("expected nothing, found {}", short(.found))]
    Present { found: &'a Value },
    /// The expected value is of a kind the operator cannot use (a template rendered to it);
    /// `wants` says what it takes.
    #[error("`{}` takes {wants}, but the expected value is {}", .op.key(), short(.expected))]
    Operand {
        op: Operator,
        wants: String,
        expected: &'a Value,
    },
    /// The pattern of a `matches` is not a regular expression.
    #[error("{} is not a valid regular expression: {reason}", short(.pattern))]
    BadRegex { pattern: &'a Value, reason: String },
    /// The selected value's JSON type is not one the operator compares (`matches` on a number,
    /// `gt` on a string); `needs` names the type it does.
    #[error("expected {}, found {} ({}, not {needs})", wanted(*.op, .expected), short(.found), kind(.found))]
    WrongType {
        op: Operator,
        expected: &'a Value,
        found: &'a Value,
        needs: &'static str,
    },
    /// `length` on a value that has none (a number, a boolean, null).
    #[error("expected length {want}, found {} ({}, which has no length)", short(.found), kind(.found))]
    NoLength { want: u64, found: &'a Value },
    /// `length` on a value of another length.
    #[error("expected length {want}, found length {have}: {}", short(.found))]
    Length { want: u64, have: usize, found: &'a Value },
    /// `type` on a value of another type; `found_type` is the type it has, in words.
    #[error("expected type {name}, found {} ({found_type})", short(.found))]
    Type {
        name: &'static str,
        found: &'a Value,
        found_type: &'static str,
    },
    /// `equals` between two values that print alike but are of different JSON types
    /// (`"200"` and `200`).
    #[error("expected {} ({}), found {} ({})", short(.expected), kind(.expected), short(.found), kind(.found))]
    LookAlike { expected: &'a Value, found: &'a Value },
    /// Any other operator that does not hold.
    #[error("expected {}, found {}", wanted(*.op, .expected), short(.found))]
    Differs {
        op: Operator,
        expected: &'a Value,
        found: &'a Value,
    },
}
