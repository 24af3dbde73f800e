//! Step names (the keys of `counts`) and the names steps assign, gathered before compiling so a
//! template can be told apart "used too early" from "never defined".

use super::Compiler;
use crate::mask::Masker;
use crate::spec::{Spanned, Step, StepKind};

/// True for a client group's name: letters, digits, `_` and `-`. A group's name goes into its
/// result files' names and into every report line, so it is kept to what every file system and
/// terminal shows the same.
pub fn is_group_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// The name of a step: its `name:`, or its kind and subject (`heartbeat` for `call: heartbeat`).
/// An `http` step's URL is masked by the rules (`GET http://u:***@h/?token=***`): the name goes
/// to every report and into `counts`.
pub fn step_name(step: &Step) -> String {
    if let Some(name) = &step.name {
        return name.value.clone();
    }
    match &step.kind.value {
        StepKind::Call { tool, .. } => tool.value.clone(),
        StepKind::Request { method, .. } | StepKind::Notify { method, .. } => method.value.clone(),
        StepKind::Http(h) => {
            let method = h.method.as_ref().map_or("GET".into(), |m| m.value.to_uppercase());
            let target = h.path.as_ref().or(h.url.as_ref()).map_or("", |t| t.value.as_str());
            format!("{method} {}", Masker::default().text(target))
        }
        StepKind::Wait(d) => format!("wait {}", d.0.value),
        StepKind::Barrier(name) => format!("barrier {}", name.value),
        StepKind::Group { name, .. } => name.value.clone(),
        other => other.kind().key().to_string(),
    }
}

/// The nested steps of a step, if it has any.
pub fn children(step: &Step) -> &[Step] {
    match &step.kind.value {
        StepKind::Repeat { steps, .. } | StepKind::Group { steps, .. } => &steps.value,
        _ => &[],
    }
}

impl Compiler<'_> {
    /// Gathers every step name and every assigned name of the file.
    pub(super) fn collect_names(&mut self) {
        let spec = self.spec;
        let phases = spec.before.iter().chain(spec.after.iter()).map(|s| &s.value[..]);
        let groups = spec.clients.iter().map(|(_, g)| &g.steps.value[..]);
        for steps in phases.chain(groups) {
            self.collect_from(steps);
        }
    }

    fn collect_from(&mut self, steps: &[Step]) {
        for step in steps {
            let name = step_name(step);
            if !self.step_names.contains(&name) {
                self.step_names.push(name);
            }
            for (key, _) in step.save.iter() {
                self.assigned.entry(key.value.clone()).or_insert(key.at);
            }
            if let StepKind::Set(vars) = &step.kind.value {
                for (key, _) in vars.iter() {
                    self.assigned.entry(key.value.clone()).or_insert(key.at);
                }
            }
            self.collect_from(children(step));
        }
    }
}

impl Compiler<'_> {
    /// Refuses a name that is empty or only spaces: it would show as nothing in every report.
    pub(super) fn check_not_blank(&mut self, name: &Spanned<String>, what: &str) {
        if name.value.trim().is_empty() {
            self.error(name.at, format!("{what} is empty"))
                .width(name.value.len().max(2))
                .help("give it a name, or leave the key out for the default");
        }
    }

    /// Refuses a client group name that is not an identifier.
    pub(super) fn check_group_name(&mut self, name: &Spanned<String>) {
        if !is_group_name(&name.value) {
            let message = match name.value.as_str() {
                "" => "a client group's name is empty".to_string(),
                other => format!("`{other}` cannot name a client group"),
            };
            self.error(name.at, message)
                .width(name.value.len().max(2))
                .label("letters, digits, `_` and `-` only")
                .help("a group's name goes into its result files' names; e.g. `readers` or `load-2`");
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::compile::tests::compile_text;

    #[test]
    fn an_http_steps_default_name_hides_its_secrets() {
        let text = "clients:\n  a:\n    steps:\n      - http: { url: \"http://admin:pw1@127.0.0.1:1/x?password=pw2&token=t3&page=2\" }\n";
        let plan = compile_text(text).unwrap();
        assert_eq!(
            plan.groups[0].steps[0].name,
            "GET http://admin:***@127.0.0.1:1/x?password=***&token=***&page=2"
        );
    }
}
