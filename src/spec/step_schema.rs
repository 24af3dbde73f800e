//! The JSON Schema of a step: a `oneOf` with one object per kind, each with the common keys.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde_json::{Map, Value};
use strum::IntoEnumIterator;

use super::step_key::Common;
use super::{Assertion, DurationText, HttpStep, InitializeStep, Node, Repeat, Retry, Step};
use crate::kind::{Extra, Kind};

impl JsonSchema for Step {
    fn schema_name() -> Cow<'static, str> {
        "Step".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let common = common_properties(generator);
        let variants: Vec<Value> = Kind::all()
            .map(|kind| variant(kind, &common, generator).into())
            .collect();
        json_schema!({
            "description": "One step: exactly one kind key beside the common keys.",
            "oneOf": variants
        })
    }
}

/// The object of one kind: its key, its extra keys and the common keys.
fn variant(kind: Kind, common: &Map<String, Value>, generator: &mut SchemaGenerator) -> Schema {
    let mut properties = common.clone();
    properties.insert(kind.key().into(), kind_value(kind, generator).into());
    for extra in Extra::all().filter(|extra| kind.takes(*extra)) {
        properties.insert(extra.key().into(), extra_value(extra, kind, generator).into());
    }
    let mut required = vec![kind.key()];
    if kind.nests() {
        required.push(Extra::Steps.key());
    }
    json_schema!({
        "type": "object",
        "title": kind.key(),
        "properties": properties,
        "required": required,
        "additionalProperties": false
    })
}

fn common_properties(generator: &mut SchemaGenerator) -> Map<String, Value> {
    let mut map = Map::new();
    for key in Common::iter() {
        let schema: Schema = match key {
            Common::Name => json_schema!({"type": "string", "description": "The step's name in reports and `counts`."}),
            Common::Expect => {
                let item = generator.subschema_for::<Assertion>();
                json_schema!({"type": "array", "items": item, "description": "Assertions on the result."})
            }
            Common::Save => json_schema!({
                "type": "object",
                "additionalProperties": {"type": "string"},
                "description": "Variables to capture: a JSONPath into the result (`$.session_id`) or a template."
            }),
            Common::Timeout => generator.subschema_for::<DurationText>(),
            Common::Retry => generator.subschema_for::<Retry>(),
            Common::ContinueOnFailure => json_schema!({"type": "boolean"}),
        };
        map.insert(key.key().into(), schema.into());
    }
    map
}

fn kind_value(kind: Kind, generator: &mut SchemaGenerator) -> Schema {
    match kind {
        Kind::Initialize => {
            let settings = generator.subschema_for::<InitializeStep>();
            json_schema!({"anyOf": [{"type": "null"}, settings]})
        }
        Kind::Call => json_schema!({"type": "string", "description": "The tool to call (`tools/call`)."}),
        Kind::Request => {
            json_schema!({"type": "string", "description": "A JSON-RPC method, e.g. `tools/list` or `ping`."})
        }
        Kind::Notify => json_schema!({"type": "string", "description": "A JSON-RPC notification method."}),
        Kind::Close | Kind::Forget => {
            json_schema!({"anyOf": [{"type": "null"}, {"type": "object", "maxProperties": 0}]})
        }
        Kind::Http => generator.subschema_for::<HttpStep>(),
        Kind::Sql => json_schema!({"type": "string", "description": "A SQL query with `$1`, `$2`, … placeholders."}),
        Kind::Wait => generator.subschema_for::<DurationText>(),
        Kind::Repeat => generator.subschema_for::<Repeat>(),
        Kind::Barrier => json_schema!({"type": "string", "description": "The barrier's name."}),
        Kind::Set => {
            let value = generator.subschema_for::<Node>();
            json_schema!({"type": "object", "additionalProperties": value})
        }
        Kind::Check => json_schema!({"type": "string", "description": "A template that must render true."}),
        Kind::Group => json_schema!({"type": "string", "description": "The group's name."}),
    }
}

fn extra_value(extra: Extra, kind: Kind, generator: &mut SchemaGenerator) -> Schema {
    match extra {
        Extra::Connection => json_schema!({"type": "string", "description": "The connection to use."}),
        Extra::SessionId => json_schema!({
            "type": "string",
            "description": "The `Mcp-Session-Id` to send instead of the connection's session (e.g. one the server never issued)."
        }),
        Extra::Params if kind == Kind::Sql => {
            let value = generator.subschema_for::<Node>();
            json_schema!({"type": "array", "items": value, "description": "Values bound to `$1`, `$2`, …"})
        }
        Extra::Arguments | Extra::Params => generator.subschema_for::<Node>(),
        Extra::Steps => {
            let step = generator.subschema_for::<Step>();
            json_schema!({"type": "array", "items": step, "minItems": 1})
        }
    }
}
