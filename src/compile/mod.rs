//! `Spec` → [`Plan`]: every template and JSONPath parsed once, every name resolved, every
//! duration and count checked. All problems of a file are reported together.

mod arrivals;
mod connections;
mod durations;
mod expect;
mod groups;
mod names;
mod scan;
mod scope;
mod steps;
mod templates;
mod thresholds;
mod vars;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::diagnostic::Diagnostic;
use crate::load::Loaded;
use crate::plan::{ConnectionPlan, Plan, StepPlan, TemplateEngine};
use crate::source::{Pos, Source};
use crate::spec::{Scenario, Spanned, Step};

use scope::{Phase, Scope};

/// What the compiler reads from the world: the environment that `env.*` templates see.
#[derive(Debug, Clone, Default)]
pub struct CompileOptions {
    /// Environment variables.
    pub env: BTreeMap<String, String>,
}

impl CompileOptions {
    /// Options with this process's environment.
    pub fn from_process() -> Self {
        Self {
            env: std::env::vars().collect(),
        }
    }
}

/// Compiles one loaded scenario, or returns every problem found in it.
pub fn compile(loaded: &Loaded, options: &CompileOptions) -> Result<Plan, Vec<Diagnostic>> {
    let mut compiler = Compiler::new(loaded, options);
    let plan = compiler.plan();
    if compiler.diagnostics.is_empty() {
        Ok(plan)
    } else {
        Err(compiler.diagnostics)
    }
}

/// The state of one compilation.
struct Compiler<'a> {
    source: &'a Arc<Source>,
    spec: &'a Scenario,
    env: &'a BTreeMap<String, String>,
    engine: TemplateEngine,
    diagnostics: Vec<Diagnostic>,
    /// The rendered variables (those that rendered).
    vars: serde_json::Map<String, serde_json::Value>,
    /// Every step name in the file: the keys of `counts`.
    step_names: Vec<String>,
    /// Every name a step saves or sets, with where: to tell "used before it is saved" from "unknown".
    assigned: BTreeMap<String, Pos>,
    /// Each barrier step: barrier name, client group, where.
    barrier_uses: Vec<groups::BarrierUse>,
    /// Names saved or set in `before:`: every client and `after:` sees them.
    from_before: Vec<String>,
    /// The compiled connections, which steps' handles point to.
    connections: Vec<ConnectionPlan>,
}

impl<'a> Compiler<'a> {
    fn new(loaded: &'a Loaded, options: &'a CompileOptions) -> Self {
        Self {
            source: &loaded.source,
            spec: &loaded.spec,
            env: &options.env,
            engine: TemplateEngine::new(),
            diagnostics: Vec::new(),
            vars: serde_json::Map::new(),
            step_names: Vec::new(),
            assigned: BTreeMap::new(),
            barrier_uses: Vec::new(),
            from_before: Vec::new(),
            connections: Vec::new(),
        }
    }

    /// Records a problem at a position; the returned handle adds details to it.
    fn error(&mut self, at: Pos, message: impl Into<String>) -> Reported<'_> {
        self.diagnostics.push(Diagnostic::at(self.source, at, message));
        Reported(self.diagnostics.last_mut().expect("just pushed"))
    }

    fn plan(&mut self) -> Plan {
        let spec = self.spec;
        if let Some(name) = &spec.name {
            self.check_not_blank(name, "the scenario's `name`");
        }
        let vars = self.vars();
        self.collect_names();
        let name = spec
            .name
            .as_ref()
            .map(|n| n.value.clone())
            .unwrap_or_else(|| file_stem(self.source));
        let lab = spec.lab.as_ref().map(|lab| self.lab(&lab.value));
        let connections = self.connections();
        let before = self.phase_steps(spec.before.as_ref(), Phase::Before);
        let groups = self.groups();
        let after = self.phase_steps(spec.after.as_ref(), Phase::After);
        let barriers = self.barriers();
        let thresholds = self.thresholds(
            before.iter().chain(groups.iter().flat_map(|g| &g.steps)).chain(&after),
            &groups,
        );
        Plan {
            name,
            description: spec.description.clone(),
            tags: spec.tags.iter().map(|t| t.value.clone()).collect(),
            path: self.source.path.clone(),
            vars,
            lab,
            connections,
            before,
            groups,
            after,
            barriers,
            thresholds,
            templates: std::mem::take(&mut self.engine),
        }
    }

    /// The names of every declared variable.
    fn var_names(&self) -> impl Iterator<Item = String> + use<'a> {
        self.spec
            .vars
            .keys()
            .map(str::to_string)
            .collect::<Vec<_>>()
            .into_iter()
    }

    /// The scope at the start of a phase or client group: what every step may use, plus the
    /// values `before:` saved.
    fn phase_scope(&self, phase: Phase) -> Scope {
        let mut scope = Scope::phase(phase, self.var_names());
        scope.add_all(self.from_before.iter().map(String::as_str));
        scope
    }

    fn phase_steps(&mut self, steps: Option<&Spanned<Vec<Step>>>, phase: Phase) -> Vec<StepPlan> {
        let Some(steps) = steps else { return Vec::new() };
        let mut scope = self.phase_scope(phase);
        let plans = self.steps(steps, &mut scope, None);
        if phase == Phase::Before {
            let saved = scope.names().filter(|n| self.assigned.contains_key(*n));
            self.from_before = saved.map(str::to_string).collect();
        }
        plans
    }
}

/// A diagnostic just recorded, to which details can be added.
struct Reported<'d>(&'d mut Diagnostic);

impl Reported<'_> {
    /// Marks `width` bytes.
    fn width(self, width: usize) -> Self {
        self.0.width = width;
        self
    }

    /// Adds a note under the marker.
    fn label(self, label: impl Into<String>) -> Self {
        self.0.label = Some(label.into().into_boxed_str());
        self
    }

    /// Adds a hint.
    fn help(self, help: impl Into<String>) -> Self {
        self.0.help = Some(help.into().into_boxed_str());
        self
    }

    /// Adds a hint when there is one.
    fn maybe_help(self, help: Option<String>) -> Self {
        match help {
            Some(help) => self.help(help),
            None => self,
        }
    }
}

/// The file name without its extension: a scenario's default name.
fn file_stem(source: &Source) -> String {
    source
        .path()
        .file_stem()
        .map_or_else(|| "scenario".into(), |s| s.to_string_lossy().into_owned())
}

#[cfg(test)]
pub(crate) mod tests;
