//! Compiled assertions and captures.

use jsonpath_rust::parser::model::{JpQuery, Segment, Selector};
use serde::{Serialize, Serializer};

use super::{Template, ValuePlan};
use crate::operator::Operator;
use crate::source::Pos;

/// A JSONPath, parsed once.
#[derive(Debug, Clone)]
pub struct JsonPath {
    /// The path as written.
    pub source: String,
    pub query: JpQuery,
    /// The names and indexes of a path that has nothing else (RFC 9535's singular query, as
    /// `$.result.content[0].text` is), walked directly: the library builds the text of the
    /// path it is at on every step, which was most of an assertion's cost.
    pub singular: Option<Vec<Member>>,
}

/// One step of a singular path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Member {
    /// An object's member by name.
    Name(String),
    /// An array's element; a negative index counts from the end.
    Index(i64),
}

impl JsonPath {
    pub fn new(source: String, query: JpQuery) -> Self {
        let singular = (query.segments.iter())
            .map(|segment| match segment {
                Segment::Selector(selector) => member(selector),
                Segment::Selectors(selectors) if selectors.len() == 1 => member(&selectors[0]),
                _ => None,
            })
            .collect();
        Self {
            source,
            query,
            singular,
        }
    }
}

fn member(selector: &Selector) -> Option<Member> {
    match selector {
        Selector::Name(name) => Some(Member::Name(name.clone())),
        Selector::Index(index) => Some(Member::Index(*index)),
        _ => None,
    }
}

impl Serialize for JsonPath {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.source)
    }
}

/// One assertion on a step's result.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AssertionPlan {
    /// Operators applied to the values a path selects.
    Path {
        /// Where the assertion stands in the file.
        at: Pos,
        path: JsonPath,
        /// The operators with their expected values.
        checks: Vec<Check>,
        /// What the operators see when the path selects nothing.
        #[serde(skip_serializing_if = "Option::is_none")]
        default: Option<ValuePlan>,
    },
    /// A template that must render to `true`.
    That {
        /// Where the assertion stands in the file.
        at: Pos,
        that: Template,
    },
}

/// One operator and its expected value.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub op: Operator,
    pub expected: ValuePlan,
    /// The regular expression of a `matches` whose operand is a literal string, compiled once;
    /// `None` for other operators and for a templated pattern (compiled when it renders).
    #[serde(skip)]
    pub regex: Option<regex::Regex>,
    /// The check as result files show it, with its path and default: `$.status equals 200`.
    /// Written once here, so that a check that holds costs no formatting when it runs.
    #[serde(skip)]
    pub written: String,
}

/// A value captured into a variable after a step.
#[derive(Debug, Clone, Serialize)]
pub struct Save {
    /// The variable's name.
    pub name: String,
    /// Where the value comes from.
    pub from: SaveFrom,
}

/// The source of a saved value.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SaveFrom {
    /// The value a JSONPath selects in the step's result (one value, or a list when it selects several).
    Path(JsonPath),
    /// A template, with `result` in scope.
    Template(Template),
}
