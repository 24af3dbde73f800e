//! `vars:` rendered in file order: each variable may use `env` and the variables above it.

use super::Compiler;
use super::durations::Zero;
use super::scope::Scope;
use crate::plan::LabPlan;
use crate::spec::LabSettings;

use std::time::Duration;

impl Compiler<'_> {
    /// Renders every variable; the result is the plan's `vars` and the context of fixed templates.
    pub(super) fn vars(&mut self) -> serde_json::Map<String, serde_json::Value> {
        let mut declared = Vec::new();
        for (key, node) in self.spec.vars.iter() {
            let scope = Scope::fixed(declared.clone());
            let plan = self.value(node, &scope);
            if let Some(value) = self.render_fixed(&plan, node.at) {
                self.vars.insert(key.value.clone(), value);
            }
            declared.push(key.value.clone());
        }
        self.vars.clone()
    }

    /// The lab's settings, with its defaults.
    pub(super) fn lab(&mut self, lab: &LabSettings) -> LabPlan {
        LabPlan {
            session_timeout: self.fixed_duration(lab.session_timeout.as_ref(), Duration::from_secs(300), Zero::Refused),
            cleanup_interval: self.fixed_duration(
                lab.cleanup_interval.as_ref(),
                Duration::from_secs(60),
                Zero::Refused,
            ),
            max_sessions: lab.max_sessions.as_ref().map(|c| self.fixed_count(Some(c), 1)),
        }
    }
}
