//! The JSON Schema of a step: a `oneOf` with one object per kind, each with the common keys.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde_json::{Map, Value};

use super::step::{COMMON_KEYS, KIND_EXTRA_KEYS, KIND_KEYS};
use super::{Assertion, DurationText, HttpStep, InitializeStep, Node, Repeat, Retry, Step};

impl JsonSchema for Step {
    fn schema_name() -> Cow<'static, str> {
        "Step".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let common = common_properties(generator);
        let variants: Vec<Value> = KIND_KEYS
            .iter()
            .map(|kind| {
                let mut properties = common.clone();
                properties.insert((*kind).into(), kind_value(kind, generator).into());
                for (extra, takers) in KIND_EXTRA_KEYS {
                    if takers.contains(kind) {
                        properties.insert((*extra).into(), extra_value(extra, kind, generator).into());
                    }
                }
                let mut required = vec![Value::from(*kind)];
                if matches!(*kind, "repeat" | "group") {
                    required.push("steps".into());
                }
                json_schema!({
                    "type": "object",
                    "title": *kind,
                    "properties": properties,
                    "required": required,
                    "additionalProperties": false
                })
                .into()
            })
            .collect();
        json_schema!({
            "description": "One step: exactly one kind key beside the common keys.",
            "oneOf": variants
        })
    }
}

fn common_properties(generator: &mut SchemaGenerator) -> Map<String, Value> {
    let mut map = Map::new();
    for key in COMMON_KEYS {
        let schema: Schema = match *key {
            "name" => json_schema!({"type": "string", "description": "The step's name in reports and `counts`."}),
            "expect" => {
                let item = generator.subschema_for::<Assertion>();
                json_schema!({"type": "array", "items": item, "description": "Assertions on the result."})
            }
            "save" => json_schema!({
                "type": "object",
                "additionalProperties": {"type": "string"},
                "description": "Variables to capture: a JSONPath into the result (`$.session_id`) or a template."
            }),
            "timeout" => generator.subschema_for::<DurationText>(),
            "retry" => generator.subschema_for::<Retry>(),
            "continue_on_failure" => json_schema!({"type": "boolean"}),
            other => unreachable!("no schema for common key {other}"),
        };
        map.insert((*key).into(), schema.into());
    }
    map
}

fn kind_value(kind: &str, generator: &mut SchemaGenerator) -> Schema {
    match kind {
        "initialize" => {
            let settings = generator.subschema_for::<InitializeStep>();
            json_schema!({"anyOf": [{"type": "null"}, settings]})
        }
        "call" => json_schema!({"type": "string", "description": "The tool to call (`tools/call`)."}),
        "request" => json_schema!({"type": "string", "description": "A JSON-RPC method, e.g. `tools/list` or `ping`."}),
        "notify" => json_schema!({"type": "string", "description": "A JSON-RPC notification method."}),
        "close" | "forget" => json_schema!({"anyOf": [{"type": "null"}, {"type": "object", "maxProperties": 0}]}),
        "http" => generator.subschema_for::<HttpStep>(),
        "sql" => json_schema!({"type": "string", "description": "A SQL query with `$1`, `$2`, … placeholders."}),
        "wait" => generator.subschema_for::<DurationText>(),
        "repeat" => generator.subschema_for::<Repeat>(),
        "barrier" => json_schema!({"type": "string", "description": "The barrier's name."}),
        "set" => {
            let value = generator.subschema_for::<Node>();
            json_schema!({"type": "object", "additionalProperties": value})
        }
        "check" => json_schema!({"type": "string", "description": "A template that must render true."}),
        "group" => json_schema!({"type": "string", "description": "The group's name."}),
        other => unreachable!("no schema for step kind {other}"),
    }
}

fn extra_value(extra: &str, kind: &str, generator: &mut SchemaGenerator) -> Schema {
    match (extra, kind) {
        ("connection", _) => json_schema!({"type": "string", "description": "The connection to use."}),
        ("session_id", _) => json_schema!({
            "type": "string",
            "description": "The `Mcp-Session-Id` to send instead of the connection's session (e.g. one the server never issued)."
        }),
        ("params", "sql") => {
            let value = generator.subschema_for::<Node>();
            json_schema!({"type": "array", "items": value, "description": "Values bound to `$1`, `$2`, …"})
        }
        ("arguments" | "params", _) => generator.subschema_for::<Node>(),
        ("steps", _) => {
            let step = generator.subschema_for::<Step>();
            json_schema!({"type": "array", "items": step, "minItems": 1})
        }
        (other, _) => unreachable!("no schema for step key {other}"),
    }
}
