//! The names a template may use at a given place in a scenario (docs/scenario-language.md §10).

use std::collections::BTreeSet;

/// Names every template may use: the scenario's variables, the environment, and minijinja's
/// global functions.
const ALWAYS: &[&str] = &["vars", "env", "range", "dict", "namespace", "debug"];

/// Names set by an `initialize` step.
pub const SESSION_NAMES: &[&str] = &["session_id", "session_ids", "protocol_version", "server_info"];

/// Names the runner defines; a step may not `save` or `set` into them.
pub const RESERVED: &[&str] = &[
    "vars",
    "env",
    "range",
    "dict",
    "namespace",
    "debug",
    "run",
    "client",
    "counts",
    "clients",
    "last",
    "result",
    "iteration",
    "loop",
    "session_id",
    "session_ids",
    "protocol_version",
    "server_info",
];

/// Where in a scenario a template stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Fixed before the run starts: `vars`, `lab`, counts and durations of client groups.
    Static,
    /// `before:` steps.
    Before,
    /// The steps of a client group.
    Clients,
    /// `after:` steps.
    After,
}

/// The names in scope at one place, and the declared variables.
#[derive(Debug, Clone)]
pub struct Scope {
    /// Where we are.
    pub phase: Phase,
    names: BTreeSet<String>,
    vars: BTreeSet<String>,
}

impl Scope {
    /// The scope of a template that must be known before the run: `vars` (those given) and `env`.
    pub fn fixed(vars: impl IntoIterator<Item = String>) -> Self {
        Self {
            phase: Phase::Static,
            names: ALWAYS.iter().map(|s| s.to_string()).collect(),
            vars: vars.into_iter().collect(),
        }
    }

    /// The scope at the start of a phase's steps.
    pub fn phase(phase: Phase, vars: impl IntoIterator<Item = String>) -> Self {
        let mut scope = Self::fixed(vars);
        scope.phase = phase;
        scope.add_all(["run", "client", "counts"]);
        if phase == Phase::After {
            scope.add("clients");
        }
        scope
    }

    /// Adds a name.
    pub fn add(&mut self, name: &str) {
        self.names.insert(name.to_string());
    }

    /// Adds several names.
    pub fn add_all<'a>(&mut self, names: impl IntoIterator<Item = &'a str>) {
        for name in names {
            self.add(name);
        }
    }

    /// A copy with one more name.
    pub fn with(&self, name: &str) -> Self {
        let mut scope = self.clone();
        scope.add(name);
        scope
    }

    /// Forgets a name (a loop's `iteration` after the loop).
    pub fn remove(&mut self, name: &str) {
        self.names.remove(name);
    }

    /// True when the name is in scope.
    pub fn has(&self, name: &str) -> bool {
        self.names.contains(name)
    }

    /// True when `vars.<name>` is declared (and, in `vars:` itself, declared above).
    pub fn has_var(&self, name: &str) -> bool {
        self.vars.contains(name)
    }

    /// The names in scope, for "did you mean".
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(String::as_str)
    }

    /// The declared variables, for "did you mean".
    pub fn vars(&self) -> impl Iterator<Item = &str> {
        self.vars.iter().map(String::as_str)
    }

    /// True when every name a template may use here is known before the run.
    pub fn is_fixed(&self) -> bool {
        self.phase == Phase::Static
    }

    /// Why a name the runner defines is not available here, when it is one of those.
    pub fn why_missing(&self, name: &str) -> Option<String> {
        if !RESERVED.contains(&name) || ALWAYS.contains(&name) {
            return None;
        }
        let why = match name {
            _ if self.phase == Phase::Static => format!(
                "`{name}` is only known once the scenario runs, but this value must be fixed before it starts (from `vars` and `env`)"
            ),
            n if SESSION_NAMES.contains(&n) => {
                format!("`{name}` is set by an `initialize` step, and no `initialize` comes before this one")
            }
            "result" => "`result` is the step's own result; it exists in `expect` and `save` only".into(),
            "last" => "`last` is the previous step's result, and this is the first step".into(),
            "clients" => "`clients` holds every client's results, in `after:` steps only".into(),
            "iteration" => "`iteration` is the loop counter; it exists inside `repeat` only".into(),
            _ => return None,
        };
        Some(why)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_add_their_names() {
        let after = Scope::phase(Phase::After, ["a".to_string()]);
        assert!(after.has("clients") && after.has("client") && after.has("vars"));
        assert!(after.has_var("a"));
        let clients = Scope::phase(Phase::Clients, []);
        assert!(!clients.has("clients"));
        assert!(clients.why_missing("session_id").unwrap().contains("initialize"));
        assert!(Scope::fixed([]).why_missing("client").unwrap().contains("fixed before"));
    }
}
