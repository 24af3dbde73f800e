//! A threshold's value under `thresholds:`: a limit (`"< 50ms"`), or a mapping that adds when it
//! may stop the run (`{ limit: "< 1%", abort: true, after: 10s }`).

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};

use super::{DurationText, Spanned, Text, located};

/// A limit on one metric.
#[derive(Debug, Clone)]
pub struct Threshold {
    /// A comparison and a value: `< 50ms`, `<= 1%`, `== 0`; may be a template of `vars`.
    pub limit: Text,
    /// Checked every second while the clients run; the first breach stops them.
    pub abort: Option<Spanned<bool>>,
    /// With `abort`: not judged before this much of the run has passed.
    pub after: Option<DurationText>,
}

/// The two ways to write a threshold, before the short one gets its position.
enum Written {
    Limit(String),
    Full(Threshold),
}

const KEYS: &[&str] = &["limit", "abort", "after"];

impl<'de> Deserialize<'de> for Threshold {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let written = Spanned::<Written>::deserialize(deserializer)?;
        Ok(match written.value {
            Written::Limit(limit) => Threshold {
                limit: Spanned::new(limit, written.at),
                abort: None,
                after: None,
            },
            Written::Full(threshold) => threshold,
        })
    }
}

impl<'de> Deserialize<'de> for Written {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(WrittenVisitor)
    }
}

struct WrittenVisitor;

impl<'de> Visitor<'de> for WrittenVisitor {
    type Value = Written;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a limit such as \"< 50ms\" or \"== 0\", or a map `{ limit: \"< 1%\", abort: true }`")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Written, E> {
        Ok(Written::Limit(v.to_string()))
    }

    // A bare number (`failed: 0`) is a limit without its comparison, which the compiler reports
    // where it stands, with how to write one.
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Written, E> {
        Ok(Written::Limit(v.to_string()))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Written, E> {
        Ok(Written::Limit(v.to_string()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Written, E> {
        Ok(Written::Limit(v.to_string()))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Written, A::Error> {
        let mut limit: Option<Text> = None;
        let mut abort = None;
        let mut after = None;
        let mut first: Option<Spanned<String>> = None;
        while let Some(key) = map.next_key::<Spanned<String>>()? {
            first.get_or_insert_with(|| key.clone());
            match key.value.as_str() {
                "limit" => limit = Some(map.next_value()?),
                "abort" => abort = Some(map.next_value()?),
                "after" => after = Some(map.next_value()?),
                other => {
                    return Err(located::error(
                        key.at,
                        other.len(),
                        format_args!("unknown threshold key `{other}`"),
                        crate::suggest::did_you_mean(other, KEYS.iter().copied())
                            .or_else(|| Some("a threshold's keys: `limit`, `abort`, `after`".into())),
                    ));
                }
            }
        }
        let Some(limit) = limit else {
            return Err(match first {
                Some(key) => located::error(
                    key.at,
                    key.value.len(),
                    "this threshold has no `limit`",
                    Some("add one: `limit: \"< 50ms\"`".into()),
                ),
                None => de::Error::missing_field("limit"),
            });
        };
        Ok(Written::Full(Threshold { limit, abort, after }))
    }
}

impl JsonSchema for Threshold {
    fn schema_name() -> Cow<'static, str> {
        "Threshold".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let duration = generator.subschema_for::<DurationText>();
        let limit = json_schema!({
            "type": "string",
            "description": "A comparison (`<`, `<=`, `>`, `>=`, `==`, `!=`) and a value in the metric's unit: a duration for latency and lateness (`< 50ms`), a percentage for a rate (`< 1%`), a whole number for a count (`== 0`); or a template of `vars` that renders to one.",
            "examples": ["< 50ms", "< 1%", "== 0", "< {{ vars.p99_limit }}"]
        });
        json_schema!({
            "description": "A limit on a metric, judged when the scenario ends; the map form may stop the run at the first breach.",
            "oneOf": [
                limit.clone(),
                {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["limit"],
                    "properties": {
                        "limit": limit,
                        "abort": {
                            "type": "boolean",
                            "description": "Check every second while the clients run, and stop them at the first breach."
                        },
                        "after": duration
                    }
                }
            ]
        })
    }
}
