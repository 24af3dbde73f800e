//! The compiler's rules, pinned on small scenarios.

use std::sync::Arc;

use super::*;
use crate::load::parse_scenario;
use crate::plan::{Action, ConnectionKind, DurationPlan, Resolved};

/// A scenario's text (as `t.yaml`) loaded and compiled; other modules' tests use it too.
pub(crate) fn compile_text(text: &str) -> Result<Plan, Vec<Diagnostic>> {
    compile_with_env(text, &[])
}

fn compile_with_env(text: &str, env: &[(&str, &str)]) -> Result<Plan, Vec<Diagnostic>> {
    let source = Arc::new(Source::new("t.yaml", text));
    let spec = parse_scenario(&source)?;
    let options = CompileOptions {
        env: env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
    };
    compile(&Loaded { source, spec }, &options)
}

/// The messages and `line:col` of every problem.
fn problems(text: &str) -> Vec<String> {
    compile_text(text)
        .err()
        .unwrap_or_default()
        .iter()
        .map(|d| format!("{} @{}", d.message, d.at.map_or("?".into(), |p| p.to_string())))
        .collect()
}

const MCP: &str = "connections:\n  s: { mcp: { url: http://127.0.0.1:1/mcp } }\n";

#[test]
fn session_names_exist_after_initialize_only() {
    let text = format!(
        "{MCP}clients:\n  a:\n    steps:\n      - call: echo\n        arguments: {{ id: \"{{{{ session_id }}}}\" }}\n      - initialize: {{}}\n      - call: echo\n        arguments: {{ id: \"{{{{ session_id }}}}\" }}\n"
    );
    let found = problems(&text);
    assert_eq!(found, ["`session_id` is not available here @7:30"], "{found:?}");
}

#[test]
fn saved_names_exist_after_the_step_that_saves_them() {
    let text = format!(
        "{MCP}clients:\n  a:\n    steps:\n      - call: echo\n        arguments: {{ t: \"{{{{ first }}}}\" }}\n      - initialize: {{}}\n        save: {{ first: $.session_id }}\n      - check: \"{{{{ first != '' }}}}\"\n"
    );
    let found = problems(&text);
    assert_eq!(found, ["`first` is used before it is saved @7:29"], "{found:?}");
}

#[test]
fn result_exists_in_expect_and_save_only() {
    let text = format!(
        "{MCP}clients:\n  a:\n    steps:\n      - call: \"{{{{ result }}}}\"\n        expect:\n          - that: \"{{{{ result.status == 200 }}}}\"\n"
    );
    let found = problems(&text);
    assert_eq!(found, ["`result` is not available here @6:19"], "{found:?}");
}

#[test]
fn iteration_exists_inside_repeat_only() {
    let text = format!(
        "{MCP}clients:\n  a:\n    steps:\n      - repeat: {{ times: 2 }}\n        steps:\n          - call: echo\n            arguments: {{ n: \"{{{{ iteration }}}}\" }}\n      - set: {{ n: \"{{{{ iteration }}}}\" }}\n"
    );
    let found = problems(&text);
    assert_eq!(found, ["`iteration` is not available here @10:23"], "{found:?}");
}

#[test]
fn vars_render_in_order_from_env_and_keep_their_types() {
    let text = "vars:\n  n: \"{{ env.N | int }}\"\n  twice: \"{{ vars.n * 2 }}\"\n  label: \"n={{ vars.n }}\"\nclients:\n  a:\n    count: \"{{ vars.twice }}\"\n    steps:\n      - wait: 1s\n";
    let plan = compile_with_env(text, &[("N", "3")]).unwrap();
    assert_eq!(plan.vars["twice"], 6);
    assert_eq!(plan.vars["label"], "n=3");
    assert!(matches!(plan.groups[0].instances, crate::plan::Instances::Count(6)));
}

#[test]
fn a_variable_cannot_use_one_declared_below_it() {
    let text = "vars:\n  a: \"{{ vars.b }}\"\n  b: 1\nclients:\n  x:\n    steps:\n      - wait: 1s\n";
    assert_eq!(problems(text), ["`vars.b` is declared below this variable @2:10"]);
}

#[test]
fn a_missing_environment_variable_needs_a_default() {
    let text = "vars:\n  a: \"{{ env.NOPE_NOT_SET }}\"\n  b: \"{{ env.NOPE_NOT_SET | default('x') }}\"\nclients:\n  x:\n    steps:\n      - wait: 1s\n";
    assert_eq!(
        problems(text),
        ["the environment variable `NOPE_NOT_SET` is not set @2:10"]
    );
}

#[test]
fn durations_from_vars_are_fixed_and_from_saved_values_stay_templates() {
    let text = format!(
        "{MCP}vars:\n  every: 2s\nclients:\n  a:\n    steps:\n      - initialize: {{}}\n        save: {{ pause: $.x }}\n      - wait: \"{{{{ vars.every }}}}\"\n      - wait: \"{{{{ pause }}}}\"\n"
    );
    let plan = compile_text(&text).unwrap();
    let waits: Vec<_> = plan.groups[0].steps[1..]
        .iter()
        .map(|s| match &s.action {
            Action::Wait(wait) => wait.duration.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert!(matches!(waits[0], DurationPlan::Fixed(d) if d.as_secs() == 2));
    assert!(matches!(&waits[1], DurationPlan::Template(t) if t.source == "{{ pause }}"));
}

#[test]
fn counts_are_keyed_by_step_names() {
    let text = format!(
        "{MCP}clients:\n  a:\n    steps:\n      - initialize: {{}}\n      - call: heartbeat\n    record:\n      sent: \"{{{{ counts.heartbeat }}}}\"\n      typo: \"{{{{ counts.hartbeat }}}}\"\n"
    );
    let found = problems(&text);
    assert_eq!(
        found,
        ["no step is named `hartbeat`, so `counts` has no such key @10:17"],
        "{found:?}"
    );
}

#[test]
fn every_problem_of_a_file_is_reported() {
    let text = format!(
        "{MCP}clients:\n  a:\n    count: 0\n    steps:\n      - wait: 5 minutes\n      - call: echo\n        retry: {{ within: 5s }}\n"
    );
    assert_eq!(problems(&text).len(), 3, "{:?}", problems(&text));
}

#[test]
fn a_step_picks_the_only_connection_of_its_kind_or_must_name_one() {
    let two = "connections:\n  s: { mcp: { url: http://a } }\n  t: { mcp: { url: http://b } }\nclients:\n  a:\n    steps:\n      - initialize: {}\n      - initialize: {}\n        connection: t\n";
    let found = problems(two);
    assert_eq!(
        found,
        ["this `initialize` step could use any of the `mcp` connections `s`, `t` @7:9"]
    );
    let one = format!("{MCP}clients:\n  a:\n    steps:\n      - initialize: {{}}\n");
    let plan = compile_text(&one).unwrap();
    assert!(matches!(&plan.groups[0].steps[0].action, Action::Initialize(i) if &*i.connection.name == "s"));
}

#[test]
fn repeat_times_may_come_from_a_saved_value() {
    let text = format!(
        "{MCP}clients:\n  a:\n    steps:\n      - initialize: {{}}\n        save: {{ n: $.result.n }}\n      - repeat: {{ times: \"{{{{ n }}}}\" }}\n        steps:\n          - wait: 0s\n"
    );
    let plan = compile_text(&text).unwrap();
    let Action::Repeat(repeat) = &plan.groups[0].steps[1].action else {
        panic!()
    };
    assert!(matches!(repeat.repeat.times, Some(Resolved::Template(_))));
}

#[test]
fn values_saved_in_before_are_seen_by_clients_and_after() {
    let text = format!(
        "{MCP}before:\n  - initialize: {{}}\n    save: {{ seeded: $.x }}\nclients:\n  a:\n    steps:\n      - call: echo\n        arguments: {{ id: \"{{{{ seeded }}}}\" }}\n        save: {{ mine: $.y }}\nafter:\n  - check: \"{{{{ seeded != '' }}}}\"\n  - check: \"{{{{ mine != '' }}}}\"\n"
    );
    let found = problems(&text);
    assert_eq!(
        found,
        ["`mine` is saved where this step cannot see it @14:16"],
        "{found:?}"
    );
}

#[test]
fn sql_braces_are_sql_but_a_template_expression_is_an_error() {
    let sql = "connections:\n  db: { sql: { url: \"sqlite://x.db\" } }\nclients:\n  a:\n    steps:\n";
    let arrays = format!("{sql}      - sql: \"select '{{{{1,2}},{{3,4}}}}'::int[]\"\n");
    assert!(compile_text(&arrays).is_ok(), "{:?}", problems(&arrays));
    let templated = format!("{sql}      - sql: \"select {{{{ client.id }}}}\"\n");
    assert_eq!(
        problems(&templated),
        ["SQL text is sent as written, never templated @6:14"]
    );
}

#[test]
fn a_default_goes_with_comparisons_on_a_path_only() {
    let step = |assertion: &str| {
        format!("{MCP}clients:\n  a:\n    steps:\n      - initialize: {{}}\n        expect:\n          - {assertion}\n")
    };
    assert_eq!(
        problems(&step("{ path: $.result.isError, equals: false, default: false }")),
        Vec::<String>::new()
    );
    let found = problems(&step("{ path: $.result.isError, exists: true, default: false }"));
    assert_eq!(
        found,
        ["`default` and `exists` cannot stand in one assertion: with a default the path always has a value @8:53"],
        "{found:?}"
    );
    let found = problems(&step("{ that: \"{{ true }}\", default: 1 }"));
    assert_eq!(
        found,
        ["`default` stands for a path's value when it selects nothing; a `that` assertion has no path @8:35"],
        "{found:?}"
    );
    let found = problems(&step("{ path: $.x, default: 1 }"));
    assert_eq!(
        found,
        ["this assertion names a path but no operator @8:21"],
        "{found:?}"
    );
    let found = problems(&step("{ path: $.x, equals: 1, defualt: 1 }"));
    assert!(found[0].starts_with("unknown assertion key `defualt`"), "{found:?}");
}

#[test]
fn a_default_is_compiled_into_the_plan_and_may_be_a_template() {
    let text = format!(
        "{MCP}clients:\n  a:\n    steps:\n      - initialize: {{}}\n        expect:\n          - {{ path: $.x, equals: 1, default: \"{{{{ client.id }}}}\" }}\n"
    );
    let plan = compile_text(&text).expect("compiles");
    let json = serde_json::to_value(&plan.groups[0].steps[0].expect[0]).unwrap();
    assert_eq!(json["default"]["source"], "{{ client.id }}", "{json}");
}

#[test]
fn session_id_goes_on_mcp_steps_that_send_on_a_session() {
    let text = format!(
        "{MCP}clients:\n  a:\n    steps:\n      - request: ping\n        session_id: \"never-{{{{ client.id }}}}\"\n      - notify: n\n        session_id: x\n      - call: echo\n        session_id: x\n      - close: {{}}\n        session_id: x\n      - request: ping\n"
    );
    let plan = compile_text(&text).expect("compiles");
    let steps = &plan.groups[0].steps;
    let json = serde_json::to_value(&steps[0].action).unwrap();
    assert_eq!(json["session_id"]["source"], "never-{{ client.id }}", "{json}");
    for step in &steps[1..4] {
        let json = serde_json::to_value(&step.action).unwrap();
        assert_eq!(json["session_id"], "x", "{json}");
    }
    let plain = serde_json::to_value(&steps[4].action).unwrap();
    assert!(plain.get("session_id").is_none(), "{plain}");
    for kind in ["initialize: {}", "forget: {}", "wait: 1s"] {
        let text = format!("{MCP}clients:\n  a:\n    steps:\n      - {kind}\n        session_id: x\n");
        let found = problems(&text);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with(&format!(
                "`session_id` does not go with a `{}` step",
                kind.split(':').next().unwrap()
            )),
            "{found:?}"
        );
    }
}

#[test]
fn max_answer_is_a_size_with_a_unit_and_more_than_zero() {
    let with = |size: &str| {
        format!(
            "connections:\n  s: {{ mcp: {{ url: http://a, max_answer: {size} }} }}\n  h: {{ http: {{ base_url: http://b, max_answer: 2KB }} }}\nclients:\n  a:\n    steps:\n      - initialize: {{}}\n"
        )
    };
    let plan = compile_text(&with("64KiB")).unwrap();
    let sizes: Vec<u64> = plan
        .connections
        .iter()
        .map(|c| match &c.kind {
            ConnectionKind::Mcp(m) => m.max_answer,
            ConnectionKind::Http(h) => h.max_answer,
            ConnectionKind::Sql(_) => 0,
        })
        .collect();
    assert_eq!(sizes, [64 * 1024, 2000]);
    let default = compile_text(&format!("{MCP}clients:\n  a:\n    steps:\n      - initialize: {{}}\n")).unwrap();
    assert!(matches!(&default.connections[0].kind, ConnectionKind::Mcp(m) if m.max_answer == 16 * 1024 * 1024));
    assert_eq!(problems(&with("0")), ["`max_answer` must be more than zero @2:42"]);
    let wrong = problems(&with("lots"));
    assert_eq!(wrong.len(), 1, "{wrong:?}");
    assert!(
        wrong[0].starts_with("`lots` is not a size: ") && wrong[0].ends_with("@2:42"),
        "{wrong:?}"
    );
}
