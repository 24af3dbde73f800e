//! Assertions: `- $.path: value`, `- {path, <operator>: value, …}` and `- that: "{{ expr }}"`.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};

use super::{Node, Spanned, Text, located};
use crate::operator::Operator;
use crate::source::Pos;

/// One assertion on a step's result.
#[derive(Debug, Clone)]
pub struct Assertion {
    /// Where the assertion's first key stands.
    pub at: Pos,
    /// What it checks.
    pub kind: AssertionKind,
}

/// What an assertion checks.
#[derive(Debug, Clone)]
pub enum AssertionKind {
    /// Checks on the values a JSONPath selects.
    Path {
        /// The JSONPath, e.g. `$.result.isError`.
        path: Spanned<String>,
        /// Each operator with its operand, in file order.
        checks: Vec<(Spanned<Operator>, Spanned<Node>)>,
        /// `default:`, the value the operators see when the path selects nothing (an optional
        /// field that a server may leave out, such as `isError`).
        default: Option<Spanned<Node>>,
    },
    /// A template expression that must be true.
    That(Text),
}

impl<'de> Deserialize<'de> for Assertion {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(AssertionVisitor)
    }
}

struct AssertionVisitor;

impl<'de> Visitor<'de> for AssertionVisitor {
    type Value = Assertion;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an assertion: `$.path: value`, `{path: $.x, <operator>: value}` or `that: \"{{ expr }}\"`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Assertion, A::Error> {
        let mut at = None;
        let mut path = None;
        let mut that: Option<Text> = None;
        let mut checks = Vec::new();
        let mut default: Option<(Spanned<String>, Spanned<Node>)> = None;
        let mut first_key: Option<Spanned<String>> = None;
        while let Some(key) = map.next_key::<Spanned<String>>()? {
            at.get_or_insert(key.at);
            if key.value.starts_with('$') {
                if let Some(first) = &first_key {
                    return Err(shorthand_alone(&key, first));
                }
                let value: Spanned<Node> = map.next_value()?;
                let op = Spanned::new(Operator::Equals, key.at);
                checks.push((op, value));
                path = Some(key.clone());
                first_key = Some(key);
                continue;
            }
            if let Some(first) = first_key.as_ref().filter(|k| k.value.starts_with('$')) {
                return Err(shorthand_alone(first, &key));
            }
            first_key.get_or_insert_with(|| key.clone());
            match key.value.as_str() {
                "path" => path = Some(map.next_value()?),
                "that" => that = Some(map.next_value()?),
                "default" => default = Some((key.clone(), map.next_value()?)),
                k => match Operator::of_key(k) {
                    Some(op) => checks.push((Spanned::new(op, key.at), map.next_value()?)),
                    None => {
                        let known = ["path", "that", "default"]
                            .into_iter()
                            .chain(Operator::all().map(Operator::key));
                        return Err(located::error(
                            key.at,
                            k.len(),
                            format_args!("unknown assertion key `{k}`"),
                            crate::suggest::did_you_mean(k, known)
                                .or_else(|| Some(format!("operators: {}", operator_list()))),
                        ));
                    }
                },
            }
        }
        let at = at.unwrap_or_default();
        if let (None, Some(_), Some((op, _))) = (&path, &that, checks.first()) {
            return Err(located::error(
                op.at,
                0,
                format_args!(
                    "`{}` compares a path's value; a `that` assertion has none",
                    op.value.key()
                ),
                None,
            ));
        }
        if let (None, Some(_), Some((key, _))) = (&path, &that, &default) {
            return Err(located::error(
                key.at,
                key.value.len(),
                "`default` stands for a path's value when it selects nothing; a `that` assertion has no path",
                Some("write `{{ result.x | default(false) }}` inside the template instead".into()),
            ));
        }
        if let Some(((key, _), (op, _))) = default.as_ref().zip(
            checks
                .iter()
                .find(|(op, _)| matches!(op.value, Operator::Exists | Operator::Absent)),
        ) {
            return Err(located::error(
                key.at.max(op.at),
                0,
                format_args!(
                    "`default` and `{}` cannot stand in one assertion: with a default the path always has a value",
                    op.value.key()
                ),
                Some("write the presence check as an assertion of its own".into()),
            ));
        }
        let default = default.map(|(_, value)| value);
        let kind = match (path, that) {
            (Some(_), Some(that)) => {
                return Err(located::error(
                    that.at,
                    0,
                    "an assertion has either `path` or `that`, not both",
                    Some("write them as two assertions".into()),
                ));
            }
            (None, Some(that)) => AssertionKind::That(that),
            (Some(path), None) if checks.is_empty() => {
                return Err(located::error(
                    path.at,
                    0,
                    "this assertion names a path but no operator",
                    Some(format!("add one of: {}", operator_list())),
                ));
            }
            (Some(path), None) => AssertionKind::Path { path, checks, default },
            (None, None) => {
                return Err(located::error(
                    at,
                    0,
                    "this assertion has no `path` and no `that`",
                    Some("write `- $.status: 200` or `- {path: $.status, gte: 200}`".into()),
                ));
            }
        };
        Ok(Assertion { at, kind })
    }
}

fn shorthand_alone<E: de::Error>(key: &Spanned<String>, other: &Spanned<String>) -> E {
    located::error(
        key.at.max(other.at),
        0,
        format_args!("`{}` and `{}` cannot stand in one assertion", key.value, other.value),
        Some(
            "the shorthand `- $.path: value` stands alone; for more checks write `- {path: $.x, gte: 1, lte: 5}`"
                .into(),
        ),
    )
}

fn operator_list() -> String {
    Operator::all().map(Operator::key).collect::<Vec<_>>().join(", ")
}

impl JsonSchema for Assertion {
    fn schema_name() -> Cow<'static, str> {
        "Assertion".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let value = generator.subschema_for::<Node>();
        let mut operators = serde_json::Map::new();
        operators.insert(
            "path".into(),
            json_schema!({"type": "string", "pattern": "^\\$"}).into(),
        );
        for op in Operator::all() {
            operators.insert(op.key().into(), value.clone().into());
        }
        let mut default = value.clone();
        default.insert(
            "description".into(),
            "The value the operators see when the path selects nothing (not with `exists` / `absent`).".into(),
        );
        operators.insert("default".into(), default.into());
        json_schema!({
            "description": "An assertion on the step's result.",
            "oneOf": [
                {
                    "description": "Equality shorthand: `$.path: value`.",
                    "type": "object",
                    "patternProperties": { "^\\$": value },
                    "additionalProperties": false,
                    "minProperties": 1,
                    "maxProperties": 1
                },
                {
                    "description": "A path and one or more operators.",
                    "type": "object",
                    "properties": operators,
                    "required": ["path"],
                    "minProperties": 2,
                    "additionalProperties": false
                },
                {
                    "description": "A template expression that must be true.",
                    "type": "object",
                    "properties": { "that": { "type": "string" } },
                    "required": ["that"],
                    "additionalProperties": false
                }
            ]
        })
    }
}
