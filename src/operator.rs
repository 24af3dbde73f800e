//! The operators of an assertion (`equals`, `gt`, `matches`, …): one word list that the
//! scenario language parses, the plan carries and the assertions apply, so it lives below all
//! three (like [`crate::source::Pos`]) and none of them needs another's copy.

use serde::Serialize;
use strum::{EnumIter, EnumString, IntoEnumIterator, IntoStaticStr};

/// A comparison applied to the value a JSONPath selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, EnumString, IntoStaticStr, Serialize)]
#[strum(serialize_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Operator {
    /// Equal (numbers compare by value: `1` equals `1.0`).
    Equals,
    NotEquals,
    /// The path selects something (`exists: true`) or nothing (`exists: false`).
    Exists,
    /// The path selects nothing (`absent: true`).
    Absent,
    /// A string holds a substring, a list holds an element, a map holds a key/value subset.
    Contains,
    /// A string matches a regular expression.
    Matches,
    /// Greater than.
    Gt,
    /// Greater than or equal.
    Gte,
    /// Less than.
    Lt,
    /// Less than or equal.
    Lte,
    /// The length of a string, list or map.
    Length,
    /// Equal to one of a list of values.
    OneOf,
    /// The JSON type: `string`, `number`, `integer`, `boolean`, `object`, `array` or `null`.
    Type,
}

impl Operator {
    /// The key, as written in the file.
    pub fn key(self) -> &'static str {
        self.into()
    }

    /// The operator of a key, if it is one.
    pub fn of_key(key: &str) -> Option<Operator> {
        key.parse().ok()
    }

    /// Every operator, in the order the docs list them.
    pub fn all() -> impl Iterator<Item = Operator> {
        Operator::iter()
    }
}

#[cfg(test)]
mod tests {
    use super::Operator;

    #[test]
    fn keys_read_back_as_their_operators() {
        for op in Operator::all() {
            assert_eq!(Operator::of_key(op.key()), Some(op));
        }
        assert_eq!(Operator::NotEquals.key(), "not_equals");
        assert_eq!(Operator::OneOf.key(), "one_of");
        assert_eq!(Operator::of_key("path"), None);
    }
}
