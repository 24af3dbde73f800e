//! Values that are known at compile time or rendered from a template at run time.

use serde::Serialize;

use serde_json::Value;

use super::{Template, TemplateEngine};

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
