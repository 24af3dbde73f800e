//! `runner plan`: the compiled step graph as an indented tree.

use std::fmt::Write;

use crate::count::thousands;
use crate::duration_text::format_duration;
use crate::plan::step::{Barrier, Check, Group, Repeat, Set};
use crate::plan::{
    Action, AssertionPlan, Body, DurationPlan, GroupPlan, Instances, Plan, Resolved, SaveFrom, StepPlan, ValuePlan,
};
use crate::report::console::shown;

/// Renders a plan as a readable tree: phases, client groups with counts, every step with its
/// durations, loops, retries, and who meets at each barrier. Names are escaped to one line;
/// [`crate::report::console`] masks and escapes the whole when it prints it.
pub fn plan_tree(plan: &Plan) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "scenario {} ({})", shown(&plan.name), plan.path.display());
    if let Some(description) = &plan.description {
        let _ = writeln!(out, "  {}", description.trim());
    }
    if !plan.tags.is_empty() {
        let _ = writeln!(out, "  tags: {}", plan.tags.join(", "));
    }
    if let Some(lab) = &plan.lab {
        let max = lab.max_sessions.map_or("no limit".into(), |n| n.to_string());
        let _ = writeln!(
            out,
            "  lab: session timeout {}, cleanup every {}, max sessions {max}",
            format_duration(lab.session_timeout),
            format_duration(lab.cleanup_interval)
        );
    }
    for connection in &plan.connections {
        let _ = writeln!(out, "  connection {} ({})", connection.name, connection.kind.key());
    }
    let mut tree = Tree { out, plan };
    tree.phase("before", &plan.before);
    for group in &plan.groups {
        tree.group(group);
    }
    tree.phase("after", &plan.after);
    let mut out = tree.out;
    for barrier in &plan.barriers {
        let groups: Vec<String> = barrier.groups.iter().map(|(g, n)| format!("{g} ×{n}")).collect();
        let _ = writeln!(
            out,
            "barrier {}: {} parties ({})",
            barrier.name,
            barrier.parties(),
            groups.join(", ")
        );
    }
    for threshold in &plan.thresholds {
        let abort = match threshold.abort {
            Some(after) if after.is_zero() => ", aborts the run".to_string(),
            Some(after) => format!(", aborts the run after {}", format_duration(after)),
            None => String::new(),
        };
        let _ = writeln!(
            out,
            "threshold {} {}{abort}",
            shown(&threshold.metric),
            shown(&threshold.limit.text)
        );
    }
    out
}

struct Tree<'p> {
    out: String,
    plan: &'p Plan,
}

impl Tree<'_> {
    fn phase(&mut self, name: &str, steps: &[StepPlan]) {
        if steps.is_empty() {
            return;
        }
        let _ = writeln!(self.out, "{name} (once)");
        self.steps(steps, 1);
    }

    fn group(&mut self, group: &GroupPlan) {
        let mut timing = String::new();
        if !group.start_after.is_zero() {
            let _ = write!(timing, ", start after {}", format_duration(group.start_after));
        }
        if !group.ramp_up.is_zero() {
            let _ = write!(timing, ", ramp up over {}", format_duration(group.ramp_up));
        }
        let name = shown(&group.name);
        let _ = match &group.instances {
            Instances::Count(count) => {
                let plural = if *count == 1 { "" } else { "s" };
                writeln!(self.out, "clients {name} ×{count} instance{plural}{timing}")
            }
            Instances::Arrivals(arrivals) => writeln!(
                self.out,
                "clients {name} arrivals {} ({} scheduled, at most {} active){timing}",
                arrivals.describe(),
                thousands(arrivals.scheduled()),
                thousands(arrivals.max_active)
            ),
        };
        self.steps(&group.steps, 1);
        if !group.record.is_empty() {
            let keys: Vec<&str> = group.record.iter().map(|(k, _)| k.as_str()).collect();
            let _ = writeln!(self.out, "  record: {}", keys.join(", "));
        }
    }

    fn steps(&mut self, steps: &[StepPlan], depth: usize) {
        for step in steps {
            self.step(step, depth);
        }
    }

    fn step(&mut self, step: &StepPlan, depth: usize) {
        let indent = "  ".repeat(depth);
        let _ = writeln!(
            self.out,
            "{indent}- {} [{}]{}",
            self.describe(&step.action),
            step.at,
            modifiers(step)
        );
        for assertion in &step.expect {
            let _ = writeln!(self.out, "{indent}    expect {}", assertion_text(assertion));
        }
        for save in &step.save {
            let from = match &save.from {
                SaveFrom::Path(p) => p.source.clone(),
                SaveFrom::Template(t) => t.source.clone(),
            };
            let _ = writeln!(self.out, "{indent}    save {} = {from}", save.name);
        }
        match &step.action {
            Action::Repeat(Repeat { steps, .. }) | Action::Group(Group { steps }) => self.steps(steps, depth + 1),
            _ => {}
        }
    }

    fn describe(&self, action: &Action) -> String {
        let text = self.describe_kind(action);
        match action.chosen_session() {
            Some(session) => format!("{text} with session id {}", value(session)),
            None => text,
        }
    }

    fn describe_kind(&self, action: &Action) -> String {
        match action {
            Action::Initialize(a) => format!("initialize on {}", a.connection),
            Action::Call(a) => format!("call {} on {}", value(&a.tool), a.connection),
            Action::Request(a) => format!("request {} on {}", value(&a.message.method), a.message.connection),
            Action::Notify(a) => format!("notify {} on {}", value(&a.message.method), a.message.connection),
            Action::Close(a) => format!("close the session on {}", a.connection),
            Action::Forget(a) => format!("forget the session on {}", a.connection),
            Action::Http(a) => {
                let on = a.connection.as_ref().map_or(String::new(), |c| format!(" on {c}"));
                let body = match a.body {
                    Body::None => "",
                    Body::Json(_) => " with a JSON body",
                    Body::Text(_) => " with a body",
                };
                format!("http {} {}{on}{body}", a.method, value(&a.target))
            }
            Action::Sql(a) => {
                let query = a.query.text.split_whitespace().collect::<Vec<_>>().join(" ");
                format!("sql on {}: {query} ({} params)", a.connection, a.params.len())
            }
            Action::Wait(a) => format!("wait {}", duration(&a.duration)),
            Action::Repeat(Repeat { repeat, .. }) => {
                let mut parts = Vec::new();
                if let Some(times) = &repeat.times {
                    parts.push(match times {
                        Resolved::Fixed(n) => format!("{n} times"),
                        Resolved::Template(t) => format!("{} times", t.source),
                    });
                }
                if let Some(d) = &repeat.for_ {
                    parts.push(format!("for {}", duration(d)));
                }
                if let Some(d) = &repeat.every {
                    parts.push(format!("every {} (fixed rate)", duration(d)));
                }
                format!("repeat {}", parts.join(", "))
            }
            Action::Barrier(Barrier { barrier }) => {
                let parties = self
                    .plan
                    .barriers
                    .iter()
                    .find(|b| &b.name == barrier)
                    .map_or(0, |b| b.parties());
                format!("barrier {barrier} (waits for {parties})")
            }
            Action::Set(Set { vars }) => {
                let names: Vec<&str> = vars.iter().map(|(k, _)| k.as_str()).collect();
                format!("set {}", names.join(", "))
            }
            Action::Check(Check { that }) => format!("check {}", that.source),
            Action::Group(_) => "group".into(),
        }
    }
}

fn modifiers(step: &StepPlan) -> String {
    let mut out = format!(" \"{}\"", shown(&step.name));
    if let Some(t) = &step.timeout {
        out.push_str(&format!(", timeout {}", duration(t)));
    }
    if let Some(r) = &step.retry {
        out.push_str(&format!(
            ", retry within {} every {}",
            duration(&r.within),
            duration(&r.every)
        ));
    }
    if step.continue_on_failure {
        out.push_str(", continues on failure");
    }
    out
}

fn duration(d: &DurationPlan) -> String {
    match d {
        DurationPlan::Fixed(d) => format_duration(*d),
        DurationPlan::Template(t) => t.source.clone(),
    }
}

fn value(v: &ValuePlan) -> String {
    match v {
        ValuePlan::Literal(serde_json::Value::String(s)) => s.clone(),
        ValuePlan::Literal(other) => other.to_string(),
        ValuePlan::Template(t) => t.source.clone(),
        ValuePlan::List(_) | ValuePlan::Map(_) => "(templated value)".into(),
    }
}

fn assertion_text(assertion: &AssertionPlan) -> String {
    match assertion {
        AssertionPlan::That { that, .. } => format!("that {}", that.source),
        AssertionPlan::Path {
            path, checks, default, ..
        } => {
            let checks: Vec<String> = checks
                .iter()
                .map(|c| format!("{} {}", c.op.key(), value(&c.expected)))
                .collect();
            let default = default.as_ref().map(|d| format!(" (default {})", value(d)));
            format!("{} {}{}", path.source, checks.join(", "), default.unwrap_or_default())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::plan_tree;
    use crate::compile::tests::compile_text;

    #[test]
    fn a_chosen_session_id_is_shown() {
        let text = "connections:\n  s: { mcp: { url: http://127.0.0.1:1/mcp } }\nclients:\n  a:\n    steps:\n      - request: ping\n        session_id: never-issued\n      - request: ping\n";
        let plan = compile_text(text).unwrap();
        let tree = plan_tree(&plan);
        assert!(
            tree.contains("request ping on s with session id never-issued"),
            "{tree}"
        );
        assert_eq!(tree.matches("with session id").count(), 1, "{tree}");
    }

    #[test]
    fn thresholds_are_listed_with_when_they_abort() {
        let text = "vars:\n  limit: 5%\nclients:\n  a:\n    steps:\n      - wait: 1s\nthresholds:\n  wait 1s.errors.rate: { limit: \"< {{ vars.limit }}\", abort: true, after: 10s }\n  a.failed: \"== 0\"\n";
        let tree = plan_tree(&compile_text(text).unwrap());
        assert!(
            tree.ends_with("threshold wait 1s.errors.rate < 5%, aborts the run after 10s\nthreshold a.failed == 0\n"),
            "{tree}"
        );
    }
}
