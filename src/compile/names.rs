//! Step names (the keys of `counts`) and the names steps assign, gathered before compiling so a
//! template can be told apart "used too early" from "never defined".

use minijinja::machinery::parse;
use minijinja::syntax::SyntaxConfig;

use super::Compiler;
use super::scan::{NameRef, scan};
use super::templates::is_template;
use crate::mask::{Masker, is_secret_name};
use crate::spec::{Spanned, Step, StepKind};

/// True for a client group's name: letters, digits, `_` and `-`. A group's name goes into its
/// result files' names and into every report line, so it is kept to what every file system and
/// terminal shows the same.
pub fn is_group_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// The nested steps of a step, if it has any.
pub fn children(step: &Step) -> &[Step] {
    match &step.kind.value {
        StepKind::Repeat { steps, .. } | StepKind::Group { steps, .. } => &steps.value,
        _ => &[],
    }
}

impl Compiler<'_> {
    /// The name of a step: its `name:`, or its kind and subject (`heartbeat` for `call: heartbeat`,
    /// `wait 2s` for `wait: "{{ vars.beat }}"`). An `http` step's URL is masked by the rules
    /// (`GET http://u:***@h/?token=***`): the name goes to every report and into `counts`.
    pub(super) fn step_name(&self, step: &Step) -> String {
        if let Some(name) = &step.name {
            return name.value.clone();
        }
        match &step.kind.value {
            StepKind::Call { tool, .. } => self.rendered(&tool.value),
            StepKind::Request { method, .. } | StepKind::Notify { method, .. } => self.rendered(&method.value),
            StepKind::Http(h) => {
                let method = h.method.as_ref().map_or("GET".into(), |m| m.value.to_uppercase());
                let target = h.path.as_ref().or(h.url.as_ref()).map_or("", |t| t.value.as_str());
                format!("{method} {}", Masker::default().text(&self.rendered(target)))
            }
            StepKind::Wait(d) => format!("wait {}", self.rendered(&d.0.value)),
            StepKind::Barrier(name) => format!("barrier {}", name.value),
            StepKind::Group { name, .. } => name.value.clone(),
            other => other.kind().key().to_string(),
        }
    }

    /// An argument as a default name shows it: a template that reads only `vars.NAME` rendered, since
    /// they are fixed before the run (`--set` included); any other as written, as its value is
    /// known only when it runs. A template that does not render keeps its text here: its error
    /// is reported where the step's argument is compiled.
    fn rendered(&self, text: &str) -> String {
        if !is_template(text) {
            return text.to_string();
        }
        let Ok(ast) = parse(text, "<name>", SyntaxConfig::default()) else {
            return text.to_string();
        };
        // A variable named like a secret stays a template: a name is printed everywhere.
        let shown = |n: &NameRef| n.name == "vars" && n.attr.as_deref().is_some_and(|var| !is_secret_name(var));
        if !scan(&ast).names.iter().all(shown) {
            return text.to_string();
        }
        let vars = minijinja::context! { vars => minijinja::Value::from(minijinja::value::Serde(&self.vars)) };
        self.engine.render_str(text, vars).unwrap_or_else(|_| text.to_string())
    }

    /// Gathers every step name and every assigned name of the file; after `vars`, which default
    /// names may show.
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
            let name = self.step_name(step);
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

    #[test]
    fn default_names_show_the_values_of_vars_and_the_text_of_run_time_templates() {
        let text = "vars:\n  beat: 2s\n  tool: echo\n  api_token: t0k\nconnections:\n  s: { mcp: { url: \"http://127.0.0.1:1/mcp\" } }\nclients:\n  a:\n    steps:\n      - wait: \"{{ vars.beat }}\"\n      - call: \"{{ vars.tool }}\"\n      - wait: \"{{ '1s' if client.id == 1 else vars.beat }}\"\n      - call: \"{{ vars.api_token }}\"\n      - check: \"{{ counts['wait 2s'] == 1 }}\"\n";
        let plan = compile_text(text).unwrap();
        let names: Vec<&str> = plan.groups[0].steps.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "wait 2s",
                "echo",
                "wait {{ '1s' if client.id == 1 else vars.beat }}",
                "{{ vars.api_token }}",
                "check"
            ]
        );
    }
}
