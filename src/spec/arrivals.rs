//! `arrivals:`, a client group driven by a schedule of new instances (the open model) instead of
//! a fixed `count`.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer};

use super::{Count, DurationText, Spanned};

/// New instances on a schedule of their own: each runs the group's steps once, and a slow
/// server never delays the next.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Arrivals {
    /// Arrivals per unit of time (`50/s`, `600/m`): held for `for:`, or where `stages:` start
    /// from (default `0/s`).
    pub rate: Option<RateText>,
    /// How long `rate` is held.
    #[serde(rename = "for")]
    pub for_: Option<DurationText>,
    /// Rates that change, in order: `{ to: 50/s, over: 30s }` moves there linearly,
    /// `{ hold: 2m }` keeps the rate reached.
    pub stages: Option<Spanned<Vec<Spanned<Stage>>>>,
    /// Instances running at once beyond which an arrival is dropped and counted, never
    /// delayed. Default 1000.
    pub max_active: Option<Count>,
}

/// One stage: `{ to: RATE, over: DURATION }` or `{ hold: DURATION }`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    /// The rate at the stage's end.
    pub to: Option<RateText>,
    /// How long the rate takes to get to `to`.
    pub over: Option<DurationText>,
    /// How long the rate reached is kept.
    pub hold: Option<DurationText>,
}

/// A rate: `50/s`, `600/m`, `3600/h`, or a template that renders to one.
#[derive(Debug, Clone, PartialEq)]
pub struct RateText(pub Spanned<String>);

impl<'de> Deserialize<'de> for RateText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Spanned::deserialize(deserializer).map(Self)
    }
}

impl JsonSchema for RateText {
    fn schema_name() -> Cow<'static, str> {
        "Rate".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "Arrivals per unit of time (`50/s`, `600/m`, `3600/h`), or a template that renders to one.",
            "examples": ["50/s", "{{ vars.rate }}/s"]
        })
    }
}
