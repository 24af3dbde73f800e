//! What a template refers to: its free names (and the attribute read from each), its filters and
//! tests.
//!
//! Offsets are bytes into the template text, so the compiler can point at the exact name.

use minijinja::machinery::Span;
use minijinja::machinery::ast::{CallArg, Expr, Stmt};

/// A free name in a template.
#[derive(Debug, Clone, PartialEq)]
pub struct NameRef {
    /// The root name (`vars` in `vars.timeout`).
    pub name: String,
    /// The attribute read from it, when it is a constant (`timeout`).
    pub attr: Option<String>,
    /// Byte offset of the name in the template.
    pub offset: usize,
    /// Byte length of `name` or `name.attr`.
    pub len: usize,
    /// True under `default(…)` or `is defined`: an undefined value is expected here.
    pub guarded: bool,
}

/// A filter or test used in a template, with its offset.
#[derive(Debug, Clone, PartialEq)]
pub struct Use {
    /// Its name.
    pub name: String,
    /// Byte offset in the template.
    pub offset: usize,
}

/// Everything a template refers to.
#[derive(Debug, Default)]
pub struct Refs {
    /// Free names, in source order.
    pub names: Vec<NameRef>,
    /// Filters.
    pub filters: Vec<Use>,
    /// Tests.
    pub tests: Vec<Use>,
}

/// Collects the references of a parsed template.
pub fn scan(template: &Stmt<'_>) -> Refs {
    let mut scanner = Scanner::default();
    scanner.stmt(template);
    scanner.refs
}

#[derive(Default)]
struct Scanner {
    refs: Refs,
    locals: Vec<String>,
    guard_depth: usize,
    guarded_names: Vec<String>,
}

impl Scanner {
    fn stmts(&mut self, stmts: &[Stmt<'_>]) {
        for stmt in stmts {
            self.stmt(stmt);
        }
    }

    /// Runs `f` with extra local names, then forgets them.
    fn with_locals(&mut self, names: Vec<String>, f: impl FnOnce(&mut Self)) {
        let depth = self.locals.len();
        self.locals.extend(names);
        f(self);
        self.locals.truncate(depth);
    }

    fn stmt(&mut self, stmt: &Stmt<'_>) {
        match stmt {
            Stmt::Template(t) => self.stmts(&t.children),
            Stmt::EmitExpr(e) => self.expr(&e.expr),
            Stmt::EmitRaw(_) => {}
            Stmt::ForLoop(f) => {
                self.expr(&f.iter);
                let mut names = targets(&f.target);
                names.push("loop".into());
                self.with_locals(names, |s| {
                    if let Some(filter) = &f.filter_expr {
                        s.expr(filter);
                    }
                    s.stmts(&f.body);
                });
                self.stmts(&f.else_body);
            }
            Stmt::IfCond(i) => {
                self.expr(&i.expr);
                let depth = self.guarded_names.len();
                self.guarded_names.extend(defined_tests(&i.expr));
                self.stmts(&i.true_body);
                self.guarded_names.truncate(depth);
                self.stmts(&i.false_body);
            }
            Stmt::WithBlock(w) => {
                let mut names = Vec::new();
                for (target, value) in &w.assignments {
                    self.expr(value);
                    names.extend(targets(target));
                }
                self.with_locals(names, |s| s.stmts(&w.body));
            }
            Stmt::Set(set) => {
                self.expr(&set.expr);
                self.locals.extend(targets(&set.target));
            }
            Stmt::SetBlock(set) => {
                self.stmts(&set.body);
                if let Some(filter) = &set.filter {
                    self.expr(filter);
                }
                self.locals.extend(targets(&set.target));
            }
            Stmt::AutoEscape(a) => {
                self.expr(&a.enabled);
                self.stmts(&a.body);
            }
            Stmt::FilterBlock(f) => {
                self.expr(&f.filter);
                self.stmts(&f.body);
            }
            Stmt::Do(d) => {
                self.expr(&d.call.expr);
                self.args(&d.call.args);
            }
            Stmt::Continue(_) | Stmt::Break(_) => {}
        }
    }

    fn args(&mut self, args: &[CallArg<'_>]) {
        for arg in args {
            match arg {
                CallArg::Pos(e) | CallArg::Kwarg(_, e) | CallArg::PosSplat(e) | CallArg::KwargSplat(e) => self.expr(e),
            }
        }
    }

    fn expr(&mut self, expr: &Expr<'_>) {
        match expr {
            Expr::Var(v) => self.name(v.id, None, v.span()),
            Expr::GetAttr(g) => match &g.expr {
                Expr::Var(v) => self.name(v.id, Some(g.name), g.span()),
                inner => self.expr(inner),
            },
            Expr::GetItem(g) => match (&g.expr, &g.subscript_expr) {
                (Expr::Var(v), Expr::Const(c)) if c.value.as_str().is_some() => {
                    self.name(v.id, c.value.as_str(), g.span());
                }
                (inner, subscript) => {
                    self.expr(inner);
                    self.expr(subscript);
                }
            },
            Expr::Const(_) => {}
            Expr::Slice(s) => {
                self.expr(&s.expr);
                for part in [&s.start, &s.stop, &s.step].into_iter().flatten() {
                    self.expr(part);
                }
            }
            Expr::UnaryOp(u) => self.expr(&u.expr),
            Expr::BinOp(b) => {
                self.expr(&b.left);
                self.expr(&b.right);
            }
            Expr::Compare(c) => {
                self.expr(&c.expr);
                for op in &c.ops {
                    self.expr(&op.expr);
                }
            }
            Expr::IfExpr(i) => {
                self.expr(&i.test_expr);
                let depth = self.guarded_names.len();
                self.guarded_names.extend(defined_tests(&i.test_expr));
                self.expr(&i.true_expr);
                self.guarded_names.truncate(depth);
                if let Some(f) = &i.false_expr {
                    self.expr(f);
                }
            }
            Expr::Filter(f) => {
                self.refs.filters.push(Use {
                    name: f.name.into(),
                    offset: f.span().start_offset as usize,
                });
                if let Some(inner) = &f.expr {
                    self.guarded(matches!(f.name, "default" | "d"), |s| s.expr(inner));
                }
                self.args(&f.args);
            }
            Expr::Test(t) => {
                self.refs.tests.push(Use {
                    name: t.name.into(),
                    offset: t.span().start_offset as usize,
                });
                self.guarded(matches!(t.name, "defined" | "undefined"), |s| s.expr(&t.expr));
                self.args(&t.args);
            }
            Expr::Call(c) => {
                self.expr(&c.expr);
                self.args(&c.args);
            }
            Expr::List(l) => l.items.iter().for_each(|e| self.expr(e)),
            Expr::Tuple(t) => t.items.iter().for_each(|e| self.expr(e)),
            Expr::Map(m) => m.keys.iter().chain(&m.values).for_each(|e| self.expr(e)),
        }
    }

    fn guarded(&mut self, on: bool, f: impl FnOnce(&mut Self)) {
        self.guard_depth += usize::from(on);
        f(self);
        self.guard_depth -= usize::from(on);
    }

    fn name(&mut self, name: &str, attr: Option<&str>, span: Span) {
        if self.locals.iter().any(|l| l == name) {
            return;
        }
        let guarded = self.guard_depth > 0 || self.guarded_names.iter().any(|g| g == name);
        self.refs.names.push(NameRef {
            name: name.into(),
            attr: attr.map(Into::into),
            offset: span.start_offset as usize,
            len: (span.end_offset - span.start_offset) as usize,
            guarded,
        });
    }
}

/// The names an assignment target binds (`x`, or `a, b`).
fn targets(target: &Expr<'_>) -> Vec<String> {
    match target {
        Expr::Var(v) => vec![v.id.to_string()],
        Expr::Tuple(t) => t.items.iter().flat_map(targets).collect(),
        _ => Vec::new(),
    }
}

/// The names an `if` condition proves defined (`x is defined`, `x.y is defined and …`).
fn defined_tests(expr: &Expr<'_>) -> Vec<String> {
    match expr {
        Expr::Test(t) if t.name == "defined" => match &t.expr {
            Expr::Var(v) => vec![v.id.to_string()],
            Expr::GetAttr(g) => match &g.expr {
                Expr::Var(v) => vec![v.id.to_string()],
                _ => Vec::new(),
            },
            _ => Vec::new(),
        },
        Expr::BinOp(b) => defined_tests(&b.left)
            .into_iter()
            .chain(defined_tests(&b.right))
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use minijinja::machinery::parse;
    use minijinja::syntax::SyntaxConfig;

    fn refs(source: &str) -> Refs {
        let ast = parse(source, "<t>", SyntaxConfig::default()).unwrap();
        scan(&ast)
    }

    fn names(source: &str) -> Vec<(String, Option<String>, bool)> {
        refs(source)
            .names
            .into_iter()
            .map(|n| (n.name, n.attr, n.guarded))
            .collect()
    }

    #[test]
    fn free_names_carry_their_attribute_and_offset() {
        let r = refs("x={{ vars.timeout }} {{ session_id }}");
        assert_eq!(r.names[0].name, "vars");
        assert_eq!(r.names[0].attr.as_deref(), Some("timeout"));
        assert_eq!(r.names[0].offset, 5);
        assert_eq!(r.names[0].len, "vars.timeout".len());
        assert_eq!(r.names[1].name, "session_id");
    }

    #[test]
    fn locals_of_loops_sets_and_withs_are_not_free() {
        let found = names("{% for s in clients %}{{ s.id }}{{ loop.index }}{% endfor %}{% set n = 1 %}{{ n }}");
        assert_eq!(found, vec![("clients".into(), None, false)]);
    }

    #[test]
    fn default_and_defined_guard_their_subject() {
        let found = names("{{ env.TOKEN | default('x') }}{{ a if a is defined else b }}");
        assert_eq!(
            found,
            vec![
                ("env".into(), Some("TOKEN".into()), true),
                ("a".into(), None, true),
                ("a".into(), None, true),
                ("b".into(), None, false),
            ]
        );
    }

    #[test]
    fn filters_and_tests_are_listed() {
        let r = refs("{{ x | upper | nosuch }}{{ x is odd }}");
        let filters: Vec<_> = r.filters.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(filters, ["nosuch", "upper"]);
        assert_eq!(r.tests[0].name, "odd");
    }

    #[test]
    fn item_access_with_a_constant_is_an_attribute() {
        let found = names("{{ counts['tools/list'] }}");
        assert_eq!(found, vec![("counts".into(), Some("tools/list".into()), false)]);
    }
}
