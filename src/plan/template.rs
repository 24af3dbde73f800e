//! Compiled templates and the engine that renders them.
//!
//! Every template of a scenario is parsed once, at compile time, into one shared environment;
//! at run time a step only looks its template up by id and renders it.

use minijinja::{AutoEscape, Environment, ErrorKind, UndefinedBehavior, Value};
use serde::Serialize;

/// How much work one render may do before it is stopped (a runaway loop in a template).
const FUEL: u64 = 100_000;

/// The variable a typed template stores its value in.
const TYPED_SLOT: &str = "__runner_value";

/// A compiled template.
#[derive(Debug, Clone, Serialize)]
pub struct Template {
    /// The template as written.
    pub source: String,
    /// True when the whole scalar is one `{{ expr }}`: the value keeps its type.
    pub typed: bool,
    #[serde(skip)]
    id: u32,
}

/// The environment that holds every template of a plan.
#[derive(Debug)]
pub struct TemplateEngine {
    env: Environment<'static>,
    next_id: u32,
}

impl Default for TemplateEngine {
    fn default() -> Self {
        Self::new()
    }
}

impl TemplateEngine {
    /// An empty engine: strict about undefined names, no auto-escaping, bounded work, no loader
    /// (so templates cannot read files).
    pub fn new() -> Self {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_auto_escape_callback(|_| AutoEscape::None);
        env.set_fuel(Some(FUEL));
        env.set_recursion_limit(100);
        env.add_filter("duration_ms", duration_ms);
        Self { env, next_id: 0 }
    }

    /// Compiles a template. A `typed` template is a single expression whose value keeps its type;
    /// `expr` is then that expression's source.
    pub fn add(&mut self, source: &str, typed_expr: Option<&str>) -> Result<Template, minijinja::Error> {
        let id = self.next_id;
        let body = match typed_expr {
            Some(expr) => format!("{{% set {TYPED_SLOT} = ({expr}) %}}"),
            None => source.to_string(),
        };
        self.env.add_template_owned(name(id), body)?;
        self.next_id += 1;
        Ok(Template {
            source: source.to_string(),
            typed: typed_expr.is_some(),
            id,
        })
    }

    /// Renders a template: a typed one to its value, any other to a string.
    pub fn render(&self, template: &Template, ctx: &Value) -> Result<serde_json::Value, minijinja::Error> {
        let compiled = self.env.get_template(&name(template.id))?;
        if !template.typed {
            return compiled.render(ctx).map(serde_json::Value::String);
        }
        let captured = compiled.render_captured(ctx)?;
        let value = captured.state().lookup(TYPED_SLOT).unwrap_or_default();
        serde_json::to_value(&value).map_err(|e| minijinja::Error::new(ErrorKind::BadSerialization, e.to_string()))
    }

    /// Renders a template once, without keeping it.
    pub fn render_str(&self, source: &str, ctx: Value) -> Result<String, minijinja::Error> {
        self.env.render_str(source, ctx)
    }

    /// True when the engine knows a filter of this name.
    pub fn has_filter(&self, name: &str) -> bool {
        self.probe(&format!("{{{{ 1 | {name} }}}}"), ErrorKind::UnknownFilter)
    }

    /// True when the engine knows a test of this name.
    pub fn has_test(&self, name: &str) -> bool {
        self.probe(&format!("{{{{ 1 is {name} }}}}"), ErrorKind::UnknownTest)
    }

    /// Renders a one-off probe and reports whether it failed with `missing`: any other outcome
    /// (success, a wrong argument) means the name exists.
    fn probe(&self, source: &str, missing: ErrorKind) -> bool {
        match self.env.render_str(source, ()) {
            Ok(_) => true,
            Err(e) => e.kind() != missing,
        }
    }
}

/// The `duration_ms` filter: a duration as scenarios write it (`"5m"`) to whole milliseconds
/// (`300000`), so a template can compare a measured time with a configured one.
fn duration_ms(text: &str) -> Result<u64, minijinja::Error> {
    let duration = super::parse_duration(text)
        .map_err(|e| minijinja::Error::new(ErrorKind::InvalidOperation, format!("duration_ms: {}", e.message)))?;
    Ok(u64::try_from(duration.as_millis()).unwrap_or(u64::MAX))
}

fn name(id: u32) -> String {
    format!("t{id}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use minijinja::context;

    #[test]
    fn typed_templates_keep_their_type_and_text_ones_render_strings() {
        let mut engine = TemplateEngine::new();
        let typed = engine.add("{{ n + 1 }}", Some("n + 1")).unwrap();
        let list = engine.add("{{ [n, 'a'] }}", Some("[n, 'a']")).unwrap();
        let text = engine.add("n={{ n }}", None).unwrap();
        let ctx = context! { n => 41 };
        assert_eq!(engine.render(&typed, &ctx).unwrap(), serde_json::json!(42));
        assert_eq!(engine.render(&list, &ctx).unwrap(), serde_json::json!([41, "a"]));
        assert_eq!(engine.render(&text, &ctx).unwrap(), serde_json::json!("n=41"));
    }

    #[test]
    fn undefined_names_are_errors() {
        let mut engine = TemplateEngine::new();
        let t = engine.add("{{ missing }}", None).unwrap();
        assert!(engine.render(&t, &context! {}).is_err());
    }

    #[test]
    fn runaway_templates_run_out_of_fuel() {
        let mut engine = TemplateEngine::new();
        let t = engine
            .add(
                "{% for i in range(1000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}",
                None,
            )
            .unwrap();
        let e = engine.render(&t, &context! {}).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::OutOfFuel);
    }

    #[test]
    fn duration_ms_turns_a_duration_into_milliseconds() {
        let mut engine = TemplateEngine::new();
        let t = engine.add("{{ d | duration_ms }}", Some("d | duration_ms")).unwrap();
        let ms = |d: &str| engine.render(&t, &context! { d => d });
        assert_eq!(ms("5m").unwrap(), serde_json::json!(300_000));
        assert_eq!(ms("1h 30m").unwrap(), serde_json::json!(5_400_000));
        assert_eq!(ms("250ms").unwrap(), serde_json::json!(250));
        let e = ms("90").unwrap_err();
        assert!(e.to_string().contains("has no unit"), "{e}");
    }

    #[test]
    fn filters_and_tests_are_probed() {
        let engine = TemplateEngine::new();
        assert!(engine.has_filter("default"));
        assert!(engine.has_filter("tojson"));
        assert!(engine.has_filter("duration_ms"));
        assert!(!engine.has_filter("no_such_filter"));
        assert!(engine.has_test("defined"));
        assert!(!engine.has_test("no_such_test"));
    }
}
