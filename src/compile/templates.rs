//! Templates: parsed once, their names checked against the scope, errors placed at the exact
//! line and column of the file, values rendered at compile time when they depend on `vars` and
//! `env` only.

use minijinja::machinery::ast::Stmt;
use minijinja::machinery::parse;
use minijinja::syntax::SyntaxConfig;
use serde_json::Value;

use super::Compiler;
use super::scan::{NameRef, Refs, Use, scan};
use super::scope::Scope;
use crate::plan::{Template, ValuePlan};
use crate::source::Pos;
use crate::spec::{Node, Spanned, Text};
use crate::suggest;

/// Filters of minijinja offered in "did you mean" (only those the engine has are offered).
const KNOWN_FILTERS: &[&str] = &[
    "abs",
    "attr",
    "batch",
    "bool",
    "capitalize",
    "count",
    "default",
    "dictsort",
    "escape",
    "first",
    "float",
    "groupby",
    "indent",
    "int",
    "items",
    "join",
    "last",
    "length",
    "lines",
    "list",
    "lower",
    "map",
    "max",
    "min",
    "pprint",
    "reject",
    "rejectattr",
    "replace",
    "reverse",
    "round",
    "safe",
    "select",
    "selectattr",
    "slice",
    "sort",
    "split",
    "string",
    "sum",
    "title",
    "tojson",
    "trim",
    "unique",
    "upper",
    "urlencode",
    "chain",
    "zip",
];

/// Tests of minijinja offered in "did you mean".
const KNOWN_TESTS: &[&str] = &[
    "defined",
    "undefined",
    "none",
    "odd",
    "even",
    "divisibleby",
    "number",
    "integer",
    "float",
    "string",
    "sequence",
    "iterable",
    "mapping",
    "startingwith",
    "endingwith",
    "containing",
    "in",
    "true",
    "false",
    "boolean",
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "sameas",
    "lower",
    "upper",
];

/// True when a string holds template syntax.
pub fn is_template(text: &str) -> bool {
    text.contains("{{") || text.contains("{%") || text.contains("{#")
}

/// A compiled template and whether its value is known before the run.
pub struct Compiled {
    pub template: Template,
    /// True when it reads only `vars` and `env` (and so can be rendered now).
    pub fixed: bool,
}

impl Compiler<'_> {
    /// Parses and checks a template. `None` when it has errors (already reported).
    pub(super) fn template(&mut self, text: &Text, scope: &Scope) -> Option<Compiled> {
        let ast = match parse(&text.value, "<template>", SyntaxConfig::default()) {
            Ok(ast) => ast,
            Err(e) => {
                let offset = e.range().map_or(0, |r| r.start);
                let (at, _) = self.place(text, offset, 0);
                let detail = e.detail().unwrap_or("syntax error").to_string();
                let help = detail
                    .starts_with("unknown statement")
                    .then(|| "scenario templates cannot include or import files, or define macros".to_string());
                self.error(at, format!("template syntax error: {detail}"))
                    .label("the template breaks here")
                    .maybe_help(help);
                return None;
            }
        };
        let refs = scan(&ast);
        let errors = self.diagnostics.len();
        self.check_refs(text, scope, &refs);
        if self.diagnostics.len() > errors {
            return None;
        }
        let fixed = refs.names.iter().all(|n| n.name == "vars" || n.name == "env");
        let typed = typed_expression(&text.value, &ast);
        match self.engine.add(&text.value, typed) {
            Ok(template) => Some(Compiled { template, fixed }),
            Err(e) => {
                self.error(
                    text.at,
                    format!("template error: {}", e.detail().unwrap_or("cannot compile")),
                );
                None
            }
        }
    }

    /// Stands in for a template that failed to compile. An error has been reported, so the plan
    /// that holds it is never run.
    pub(super) fn failed_template(&mut self) -> Template {
        self.engine.add("", None).expect("an empty template compiles")
    }

    /// A string that may be a template: a literal, or a compiled template.
    pub(super) fn text(&mut self, text: &Text, scope: &Scope) -> ValuePlan {
        if !is_template(&text.value) {
            return ValuePlan::Literal(Value::String(text.value.clone()));
        }
        match self.template(text, scope) {
            Some(c) => ValuePlan::Template(c.template),
            None => ValuePlan::Literal(Value::Null),
        }
    }

    /// Any YAML value with templates inside.
    pub(super) fn value(&mut self, node: &Spanned<Node>, scope: &Scope) -> ValuePlan {
        match &node.value {
            Node::String(s) => self.text(&Spanned::new(s.clone(), node.at), scope),
            Node::List(items) => {
                let items: Vec<_> = items.iter().map(|i| self.value(i, scope)).collect();
                if items.iter().all(|i| matches!(i, ValuePlan::Literal(_))) {
                    ValuePlan::Literal(node.value.to_json())
                } else {
                    ValuePlan::List(items)
                }
            }
            Node::Map(entries) => {
                let entries: Vec<_> = entries
                    .iter()
                    .map(|(k, v)| (k.value.clone(), self.value(v, scope)))
                    .collect();
                if entries.iter().all(|(_, v)| matches!(v, ValuePlan::Literal(_))) {
                    ValuePlan::Literal(node.value.to_json())
                } else {
                    ValuePlan::Map(entries)
                }
            }
            other => ValuePlan::Literal(other.to_json()),
        }
    }

    /// A string that must be known before the run: as written, or its template rendered from
    /// `vars` and `env`, and whether it was a template. `None` on an error (reported).
    pub(super) fn fixed_text(&mut self, text: &Text) -> Option<(String, bool)> {
        if !is_template(&text.value) {
            return Some((text.value.clone(), false));
        }
        let compiled = self.template(text, &Scope::fixed(self.var_names()))?;
        match self.render_fixed(&ValuePlan::Template(compiled.template), text.at)? {
            Value::String(s) => Some((s, true)),
            other => Some((other.to_string(), true)),
        }
    }

    /// Renders a value that depends on `vars` and `env` only. `None` when rendering failed
    /// (reported at `at`).
    pub(super) fn render_fixed(&mut self, plan: &ValuePlan, at: Pos) -> Option<Value> {
        let ctx = minijinja::context! {
            vars => minijinja::Value::from(minijinja::value::Serde(&self.vars)),
            env => minijinja::Value::from(minijinja::value::Serde(self.env)),
        };
        match plan.render(&self.engine, &ctx) {
            Ok(value) => Some(value),
            Err(e) => {
                let detail = e.detail().map_or_else(|| e.kind().to_string(), str::to_string);
                self.error(at, format!("this template fails: {detail}"));
                None
            }
        }
    }

    fn check_refs(&mut self, text: &Text, scope: &Scope, refs: &Refs) {
        for name in &refs.names {
            self.check_name(text, scope, name);
        }
        let filters = refs
            .filters
            .iter()
            .filter(|f| !self.engine.has_filter(&f.name))
            .map(|f| ("filter", f));
        let tests = refs
            .tests
            .iter()
            .filter(|t| !self.engine.has_test(&t.name))
            .map(|t| ("test", t));
        let unknown: Vec<_> = filters.chain(tests).collect();
        for (kind, used) in unknown {
            let (at, width) = self.place_name(text, used);
            let known: Vec<&str> = match kind {
                "filter" => KNOWN_FILTERS
                    .iter()
                    .copied()
                    .filter(|f| self.engine.has_filter(f))
                    .collect(),
                _ => KNOWN_TESTS
                    .iter()
                    .copied()
                    .filter(|t| self.engine.has_test(t))
                    .collect(),
            };
            let help = suggest::did_you_mean(&used.name, known);
            self.error(at, format!("unknown {kind} `{}`", used.name))
                .width(width)
                .maybe_help(help);
        }
    }

    /// Places a filter or test by its name (its expression starts at what it filters).
    fn place_name(&self, text: &Text, used: &Use) -> (Pos, usize) {
        let offset = floor_char_boundary(&text.value, used.offset);
        let name_at = text.value[offset..]
            .find(used.name.as_str())
            .map_or(offset, |i| offset + i);
        self.place(text, name_at, used.name.len())
    }

    fn check_name(&mut self, text: &Text, scope: &Scope, name: &NameRef) {
        let (at, width) = self.place(text, name.offset, name.len);
        let name_width = if width == 0 { 0 } else { name.name.len() };
        let attr = name.attr.as_deref();
        if scope.has(&name.name) {
            match (name.name.as_str(), attr) {
                (_, _) if name.guarded => {}
                ("vars", Some(var)) if !scope.has_var(var) => self.unknown_var(at, width, var, scope),
                ("env", Some(var)) if !self.env.contains_key(var) => {
                    self.error(at, format!("the environment variable `{var}` is not set"))
                        .width(width)
                        .help(format!(
                            "set it, or give a default: `{{{{ env.{var} | default('…') }}}}`"
                        ));
                }
                ("counts", Some(step)) if !self.step_names.iter().any(|s| s == step) => {
                    let help = suggest::did_you_mean(step, self.step_names.iter().map(String::as_str));
                    self.error(at, format!("no step is named `{step}`, so `counts` has no such key"))
                        .width(width)
                        .maybe_help(
                            help.or_else(|| Some("`counts` is keyed by step name; give the step a `name:`".into())),
                        );
                }
                _ => {}
            }
            return;
        }
        if name.guarded {
            return;
        }
        let width = name_width;
        if let Some(why) = scope.why_missing(&name.name) {
            self.error(at, format!("`{}` is not available here", name.name))
                .width(width)
                .help(why);
        } else if let Some(saved_at) = self.assigned.get(&name.name).copied().filter(|_| !scope.is_fixed()) {
            let (message, help) = if saved_at > at {
                (
                    format!("`{}` is used before it is saved", name.name),
                    format!("it is saved or set at line {}, after this point", saved_at.line),
                )
            } else {
                (
                    format!("`{}` is saved where this step cannot see it", name.name),
                    format!(
                        "it is saved at line {} by another client group or phase; values saved in `before:` are seen everywhere, and a client's values reach `after:` through `clients`",
                        saved_at.line
                    ),
                )
            };
            self.error(at, message).width(width).help(help);
        } else {
            let help = if scope.has_var(&name.name) {
                Some(format!("to read the variable, write `vars.{}`", name.name))
            } else {
                let candidates: Vec<String> = scope
                    .names()
                    .chain(super::scope::RESERVED.iter().copied())
                    .map(str::to_string)
                    .chain(self.assigned.keys().cloned())
                    .collect();
                suggest::did_you_mean(&name.name, candidates.iter().map(String::as_str))
            };
            self.error(at, format!("undefined variable `{}`", name.name))
                .width(width)
                .maybe_help(help);
        }
    }

    fn unknown_var(&mut self, at: Pos, width: usize, var: &str, scope: &Scope) {
        if self.spec.vars.get(var).is_some() {
            self.error(at, format!("`vars.{var}` is declared below this variable"))
                .width(width)
                .help("a variable can use only the variables above it");
            return;
        }
        let help = suggest::did_you_mean(var, scope.vars()).map(|h| h.replacen('`', "`vars.", 1));
        self.error(at, format!("the variable `{var}` is not declared"))
            .width(width)
            .maybe_help(help.or_else(|| Some(format!("declare it under `vars:`, e.g. `vars: {{{var}: …}}`"))));
    }

    /// Where `width` bytes at `offset` of a template stand in the file, and how wide to mark
    /// them. Where the text cannot be found (escapes in a quoted string), the scalar's start,
    /// unmarked.
    pub(super) fn place(&self, text: &Text, offset: usize, width: usize) -> (Pos, usize) {
        let offset = floor_char_boundary(&text.value, offset);
        match self
            .find_line_by_line(text, offset)
            .or_else(|| self.find_fragment(text, offset))
        {
            Some(at) => (at, width),
            None => (text.at, 0),
        }
    }

    /// Finds each line of the scalar in turn: plain, quoted and block scalars without escapes.
    fn find_line_by_line(&self, text: &Text, offset: usize) -> Option<Pos> {
        let file = &self.source.text;
        let value = &text.value;
        let target_line = value[..offset].matches('\n').count();
        let line_start = value[..offset].rfind('\n').map_or(0, |i| i + 1);
        let mut cursor = floor_char_boundary(file, text.at.offset);
        for (i, line) in value.split('\n').enumerate() {
            let needle = line.trim_start();
            if needle.is_empty() && i != target_line {
                continue;
            }
            let found = cursor + file[cursor..].find(needle)?;
            if i == target_line {
                let indent = line.len() - needle.len();
                let column = (offset - line_start).saturating_sub(indent);
                return Some(self.source.pos_of_offset(found + column));
            }
            cursor = found + needle.len();
        }
        None
    }

    /// Finds the text from `offset` to the end of its line near the scalar: folded scalars and
    /// strings with escapes before the spot.
    fn find_fragment(&self, text: &Text, offset: usize) -> Option<Pos> {
        let file = &self.source.text;
        let rest = &text.value[offset..];
        let fragment = rest.split('\n').next().unwrap_or_default();
        let fragment = &fragment[..floor_char_boundary(fragment, 40)];
        if fragment.trim().is_empty() {
            return None;
        }
        let start = floor_char_boundary(file, text.at.offset);
        let end = floor_char_boundary(file, start + 2 * text.value.len() + 256);
        let found = file[start..end].find(fragment)?;
        Some(self.source.pos_of_offset(start + found))
    }
}

/// The largest char boundary of `text` at or below `index`.
fn floor_char_boundary(text: &str, index: usize) -> usize {
    let mut index = index.min(text.len());
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

/// The expression of a template that is exactly `{{ expr }}`, whose value keeps its type.
fn typed_expression<'t>(source: &'t str, ast: &Stmt<'_>) -> Option<&'t str> {
    let Stmt::Template(t) = ast else { return None };
    let [Stmt::EmitExpr(_)] = t.children.as_slice() else {
        return None;
    };
    let inner = source.trim().strip_prefix("{{")?.strip_suffix("}}")?;
    Some(inner.trim_start_matches(['-', '+']).trim_end_matches(['-', '+']).trim())
}
