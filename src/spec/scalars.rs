//! Scalar kinds with a meaning of their own: templates, durations, counts.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer};

use super::{Node, Spanned};

/// A string that may hold `{{ templates }}`.
pub type Text = Spanned<String>;

/// A name that refers to something else in the file (a connection, a barrier).
pub type Name = Spanned<String>;

/// A duration: `500ms`, `2m`, `1h 30m`, or a template that renders to one.
#[derive(Debug, Clone, PartialEq)]
pub struct DurationText(pub Spanned<String>);

impl<'de> Deserialize<'de> for DurationText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Spanned::deserialize(deserializer).map(Self)
    }
}

impl JsonSchema for DurationText {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "A duration with a unit (`500ms`, `30s`, `2m`, `1h 30m`) or a template that renders to one.",
            "examples": ["500ms", "2m", "{{ vars.heartbeat_every }}"]
        })
    }
}

/// A whole number, or a template that renders to one (`count: "{{ vars.clients }}"`).
#[derive(Debug, Clone, PartialEq)]
pub struct Count(pub Spanned<Node>);

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Spanned::deserialize(deserializer).map(Self)
    }
}

impl JsonSchema for Count {
    fn schema_name() -> Cow<'static, str> {
        "Count".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A whole number from 1 to 1,000,000, or a template that renders to one.",
            "oneOf": [
                { "type": "integer", "minimum": 1, "maximum": crate::count::MAX_COUNT },
                { "type": "string", "pattern": "\\{\\{|^\\s*[1-9][0-9]*\\s*$" }
            ]
        })
    }
}
