//! Values that are known at compile time or rendered from a template at run time.

use serde::Serialize;

use serde_json::Value;

use super::{Template, TemplateEngine};

/// The most a count may be: client instances in one group, iterations of one `repeat`. Every
/// instance and every iteration keeps its result until the run ends, so a mistyped count would
/// otherwise run the machine out of memory rather than fail.
pub const MAX_COUNT: u64 = 1_000_000;

/// A count past [`MAX_COUNT`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("a count may be at most {}, found {found}", grouped(MAX_COUNT))]
pub struct TooMany {
    pub found: u64,
}

/// `n`, or why it is more than a count may be.
pub fn count_within_limit(n: u64) -> Result<u64, TooMany> {
    match n <= MAX_COUNT {
        true => Ok(n),
        false => Err(TooMany { found: n }),
    }
}

/// `1000000` as `1,000,000`.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A value fixed at compile time, or a template that yields it at run time.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Resolved<T> {
    /// Known now (literal, or a template that only reads `vars` and `env`).
    Fixed(T),
    /// Rendered when the step runs.
    Template(Template),
}

/// A JSON value with templates inside (a request body, an expected value).
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum ValuePlan {
    /// No templates inside.
    Literal(serde_json::Value),
    /// A string template.
    Template(Template),
    /// A list with templates in it.
    List(Vec<ValuePlan>),
    /// A map with templates in it, in file order.
    Map(Vec<(String, ValuePlan)>),
}

/// A duration fixed at compile time, or a template checked when it renders.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum DurationPlan {
    /// Known now; serializes as `1m 30s`.
    Fixed(#[serde(with = "super::humantime_serde_compat")] std::time::Duration),
    /// Rendered, then parsed, when the step runs.
    Template(Template),
}

impl ValuePlan {
    /// Renders the value with a context.
    pub fn render(&self, engine: &TemplateEngine, ctx: &minijinja::Value) -> Result<Value, minijinja::Error> {
        Ok(match self {
            ValuePlan::Literal(v) => v.clone(),
            ValuePlan::Template(t) => engine.render(t, ctx)?,
            ValuePlan::List(items) => {
                Value::Array(items.iter().map(|i| i.render(engine, ctx)).collect::<Result<_, _>>()?)
            }
            ValuePlan::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), v.render(engine, ctx)?)))
                    .collect::<Result<_, minijinja::Error>>()?,
            ),
        })
    }
}
