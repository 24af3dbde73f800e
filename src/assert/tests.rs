//! Every operator, passing and failing, with the messages a user reads.

use minijinja::context;
use serde_json::{Value, json};

use super::*;

fn path(source: &str) -> JsonPath {
    JsonPath::new(
        source.to_string(),
        jsonpath_rust::parser::parse_json_path(source).expect("a valid test path"),
    )
}

fn at() -> Pos {
    Pos {
        line: 3,
        col: 7,
        offset: 40,
    }
}

fn lit(v: Value) -> ValuePlan {
    ValuePlan::Literal(v)
}

/// A typed template `{{ expr }}`.
fn typed(engine: &mut TemplateEngine, expr: &str) -> Template {
    engine
        .add(&format!("{{{{ {expr} }}}}"), Some(expr))
        .expect("a valid template")
}

/// A text template.
fn text(engine: &mut TemplateEngine, source: &str) -> Template {
    engine.add(source, None).expect("a valid template")
}

fn ctx_for(doc: &Value) -> minijinja::Value {
    context! {
        result => minijinja::Value::from(minijinja::value::Serde(doc)),
        n => 3,
        status => 200,
        pattern => "^hel+o",
        bad_pattern => "(unclosed",
        word => "world",
        states => vec!["active", "idle"],
    }
}

fn literal_check(op: Operator, expected: Value) -> Check {
    let regex = match (&op, &expected) {
        (Operator::Matches, Value::String(p)) => regex::Regex::new(p).ok(),
        _ => None,
    };
    Check {
        op,
        expected: lit(expected),
        regex,
        written: String::new(),
    }
}

/// A path assertion as the compiler builds it: each check written out with its path and default.
fn path_plan(path: JsonPath, mut checks: Vec<Check>, default: Option<ValuePlan>) -> AssertionPlan {
    for check in &mut checks {
        check.written = super::written(&path.source, check.op, &check.expected, default.as_ref());
    }
    AssertionPlan::Path {
        at: at(),
        path,
        checks,
        default,
    }
}

/// Runs one check of `op` on `$path` in `doc`.
fn run_with(engine: &TemplateEngine, source: &str, check: Check, doc: &Value) -> AssertionResult {
    let assertion = path_plan(path(source), vec![check], None);
    let mut results = super::check(&assertion, doc, engine, &ctx_for(doc));
    assert_eq!(results.len(), 1);
    results.remove(0)
}

fn run(source: &str, op: Operator, expected: Value, doc: &Value) -> AssertionResult {
    run_with(&TemplateEngine::new(), source, literal_check(op, expected), doc)
}

#[track_caller]
fn passes(source: &str, op: Operator, expected: Value, doc: &Value) {
    let r = run(source, op, expected.clone(), doc);
    assert!(
        r.passed,
        "{source} {} {expected} should hold on {doc}: {:?}",
        op.key(),
        r.message
    );
    assert_eq!(r.message, None);
}

#[track_caller]
fn fails(source: &str, op: Operator, expected: Value, doc: &Value) -> String {
    let r = run(source, op, expected.clone(), doc);
    assert!(!r.passed, "{source} {} {expected} should fail on {doc}", op.key());
    let message = r.message.expect("a failure has a message");
    assert!(!message.contains('\n'), "one line: {message}");
    message
}

fn doc() -> Value {
    json!({
        "status": 200,
        "ratio": 1.0,
        "name": "hello world",
        "accent": "héllo",
        "flag": false,
        "nothing": null,
        "tags": ["a", "b", 1],
        "obj": {"a": 1, "b": {"c": [1, 2], "d": "x"}},
        "items": [{"id": 1, "state": "active"}, {"id": 2, "state": "idle"}],
        "one": [{"id": 7}],
        "rows": [{"status": "disconnected"}],
        "empty": [],
    })
}

#[test]
fn equals_passes_and_fails_with_expected_and_found() {
    let d = doc();
    passes("$.status", Operator::Equals, json!(200), &d);
    passes("$.name", Operator::Equals, json!("hello world"), &d);
    passes("$.nothing", Operator::Equals, json!(null), &d);
    passes(
        "$.obj",
        Operator::Equals,
        json!({"b": {"d": "x", "c": [1, 2]}, "a": 1}),
        &d,
    );
    assert_eq!(
        fails("$.status", Operator::Equals, json!(500), &d),
        "`$.status`: expected 500, found 200"
    );
    assert_eq!(
        fails("$.obj", Operator::Equals, json!({"a": 1}), &d),
        r#"`$.obj`: expected {"a":1}, found {"a":1,"b":{"c":[1,2],"d":"x"}}"#
    );
}

#[test]
fn numbers_compare_by_value() {
    let d = doc();
    passes("$.status", Operator::Equals, json!(200.0), &d);
    passes("$.ratio", Operator::Equals, json!(1), &d);
    passes("$.obj.b.c", Operator::Equals, json!([1.0, 2.0]), &d);
    passes(
        "$.obj",
        Operator::Equals,
        json!({"a": 1.0, "b": {"c": [1, 2.0], "d": "x"}}),
        &d,
    );
    fails("$.ratio", Operator::NotEquals, json!(1), &d);
    passes("$.tags", Operator::Contains, json!(1.0), &d);
    passes("$.status", Operator::OneOf, json!([404, 200.0]), &d);
    let big = json!({"n": u64::MAX});
    passes("$.n", Operator::Equals, json!(u64::MAX), &big);
    fails("$.n", Operator::Equals, json!(i64::MAX), &big);
}

#[test]
fn a_string_and_a_number_that_look_alike_are_named_by_type() {
    assert_eq!(
        fails("$.status", Operator::Equals, json!("200"), &doc()),
        r#"`$.status`: expected "200" (a string), found 200 (a number)"#
    );
}

#[test]
fn not_equals() {
    let d = doc();
    passes("$.status", Operator::NotEquals, json!(500), &d);
    passes("$.status", Operator::NotEquals, json!("200"), &d);
    assert_eq!(
        fails("$.status", Operator::NotEquals, json!(200), &d),
        "`$.status`: expected anything but 200, found 200"
    );
}

#[test]
fn exists_and_absent() {
    let d = doc();
    passes("$.status", Operator::Exists, json!(true), &d);
    passes("$.nothing", Operator::Exists, json!(true), &d);
    passes("$.missing", Operator::Exists, json!(false), &d);
    passes("$.missing", Operator::Absent, json!(true), &d);
    passes("$.status", Operator::Absent, json!(false), &d);
    passes("$.empty[*]", Operator::Absent, json!(true), &d);
    assert_eq!(
        fails("$.result.isError", Operator::Exists, json!(true), &d),
        "`$.result.isError`: selects nothing"
    );
    assert_eq!(
        fails("$.missing", Operator::Absent, json!(false), &d),
        "`$.missing`: selects nothing"
    );
    assert_eq!(
        fails("$.status", Operator::Absent, json!(true), &d),
        "`$.status`: expected nothing, found 200"
    );
    assert_eq!(
        fails("$.status", Operator::Exists, json!(false), &d),
        "`$.status`: expected nothing, found 200"
    );
    assert_eq!(
        fails("$.status", Operator::Exists, json!("yes"), &d),
        "`$.status`: `exists` takes `true` or `false`, but the expected value is \"yes\""
    );
}

#[test]
fn contains_strings_lists_and_maps() {
    let d = doc();
    passes("$.name", Operator::Contains, json!("lo wo"), &d);
    passes("$.tags", Operator::Contains, json!("b"), &d);
    passes("$.obj", Operator::Contains, json!({"b": {"c": [1, 2]}}), &d);
    passes("$.obj", Operator::Contains, json!({}), &d);
    passes("$.items", Operator::Contains, json!({"id": 2, "state": "idle"}), &d);
    passes("$.accent", Operator::Contains, json!("él"), &d);
    passes(
        "$",
        Operator::Contains,
        json!({"status": 200.0}),
        &json!({"status": 200, "x": 1}),
    );
    passes("$.s", Operator::Contains, json!(42), &json!({"s": "answer: 42"}));
    assert_eq!(
        fails("$.name", Operator::Contains, json!("bye"), &d),
        r#"`$.name`: expected a value containing "bye", found "hello world""#
    );
    fails("$.tags", Operator::Contains, json!("c"), &d);
    fails("$.tags", Operator::Contains, json!(["a"]), &d);
    fails("$.obj", Operator::Contains, json!({"b": {"d": "y"}}), &d);
    fails("$.obj", Operator::Contains, json!({"z": 1}), &d);
    fails("$.obj", Operator::Contains, json!("a"), &d);
    fails("$.items", Operator::Contains, json!({"id": 2}), &d);
    assert_eq!(
        fails("$.status", Operator::Contains, json!(2), &d),
        "`$.status`: expected a value containing 2, found 200"
    );
}

#[test]
fn matches_literal_regexes() {
    let d = doc();
    passes("$.name", Operator::Matches, json!("^hello"), &d);
    passes("$.name", Operator::Matches, json!("w.r"), &d);
    assert_eq!(
        fails("$.name", Operator::Matches, json!("^world"), &d),
        r#"`$.name`: expected a string matching "^world", found "hello world""#
    );
    assert_eq!(
        fails("$.status", Operator::Matches, json!("^2"), &d),
        r#"`$.status`: expected a string matching "^2", found 200 (a number, not a string)"#
    );
}

#[test]
fn matches_uses_the_precompiled_regex() {
    // The compiled regex wins over the operand: it is what the compiler checked.
    let check = Check {
        op: Operator::Matches,
        expected: lit(json!("^hello")),
        regex: Some(regex::Regex::new("world$").unwrap()),
        written: String::new(),
    };
    assert!(run_with(&TemplateEngine::new(), "$.name", check, &doc()).passed);
}

#[test]
fn matches_templated_regexes_and_reports_an_invalid_one() {
    let mut engine = TemplateEngine::new();
    let good = typed(&mut engine, "pattern");
    let bad = typed(&mut engine, "bad_pattern");
    let number = typed(&mut engine, "n");
    let d = doc();
    let check = |t: &Template| Check {
        op: Operator::Matches,
        expected: ValuePlan::Template(t.clone()),
        regex: None,
        written: String::new(),
    };
    let r = run_with(&engine, "$.name", check(&good), &d);
    assert!(r.passed, "{:?}", r.message);
    assert_eq!(r.assertion, "$.name matches {{ pattern }}");
    assert_eq!(r.expected, Some(json!("^hel+o")));

    let r = run_with(&engine, "$.name", check(&bad), &d);
    assert!(!r.passed);
    let message = r.message.unwrap();
    assert!(
        message.starts_with(r#"`$.name`: "(unclosed" is not a valid regular expression: "#),
        "{message}"
    );
    assert!(!message.contains('\n'), "{message}");

    let r = run_with(&engine, "$.name", check(&number), &d);
    assert_eq!(
        r.message.as_deref(),
        Some("`$.name`: `matches` takes a regular expression, as a string, but the expected value is 3")
    );
}

#[test]
fn ordering_operators() {
    let d = doc();
    passes("$.status", Operator::Gt, json!(199), &d);
    passes("$.status", Operator::Gte, json!(200), &d);
    passes("$.status", Operator::Gte, json!(199.5), &d);
    passes("$.status", Operator::Lt, json!(200.5), &d);
    passes("$.status", Operator::Lte, json!(200), &d);
    passes("$.ratio", Operator::Gt, json!(-1), &d);
    assert_eq!(
        fails("$.status", Operator::Gt, json!(200), &d),
        "`$.status`: expected a number > 200, found 200"
    );
    assert_eq!(
        fails("$.status", Operator::Gte, json!(201), &d),
        "`$.status`: expected a number >= 201, found 200"
    );
    assert_eq!(
        fails("$.status", Operator::Lt, json!(200), &d),
        "`$.status`: expected a number < 200, found 200"
    );
    assert_eq!(
        fails("$.status", Operator::Lte, json!(199.9), &d),
        "`$.status`: expected a number <= 199.9, found 200"
    );
    assert_eq!(
        fails("$.name", Operator::Lt, json!(5), &d),
        r#"`$.name`: expected a number < 5, found "hello world" (a string, not a number)"#
    );
    assert_eq!(
        fails("$.status", Operator::Gt, json!([1]), &d),
        "`$.status`: `gt` takes a number, but the expected value is [1]"
    );
}

#[test]
fn ordering_accepts_a_number_rendered_as_text() {
    let mut engine = TemplateEngine::new();
    let t = text(&mut engine, "{{ n }}0");
    let check = Check {
        op: Operator::Lt,
        expected: ValuePlan::Template(t),
        regex: None,
        written: String::new(),
    };
    let r = run_with(&engine, "$.status", check, &doc());
    assert!(!r.passed);
    assert_eq!(
        r.message.as_deref(),
        Some("`$.status`: expected a number < 30, found 200")
    );
}

#[test]
fn length_of_strings_lists_and_maps() {
    let d = doc();
    passes("$.accent", Operator::Length, json!(5), &d);
    passes("$.tags", Operator::Length, json!(3), &d);
    passes("$.obj", Operator::Length, json!(2), &d);
    passes("$.empty", Operator::Length, json!(0), &d);
    passes("$.tags", Operator::Length, json!(3.0), &d);
    assert_eq!(
        fails("$.tags", Operator::Length, json!(2), &d),
        r#"`$.tags`: expected length 2, found length 3: ["a","b",1]"#
    );
    assert_eq!(
        fails("$.status", Operator::Length, json!(3), &d),
        "`$.status`: expected length 3, found 200 (a number, which has no length)"
    );
    assert_eq!(
        fails("$.tags", Operator::Length, json!(-1), &d),
        "`$.tags`: `length` takes a whole number of at least 0, but the expected value is -1"
    );
    fails("$.tags", Operator::Length, json!(2.5), &d);
}

#[test]
fn one_of() {
    let d = doc();
    passes("$.status", Operator::OneOf, json!([200, 202]), &d);
    passes(
        "$.rows[0].status",
        Operator::OneOf,
        json!(["active", "disconnected"]),
        &d,
    );
    assert_eq!(
        fails("$.rows[0].status", Operator::OneOf, json!(["active"]), &d),
        r#"`$.rows[0].status`: expected one of ["active"], found "disconnected""#
    );
    fails("$.status", Operator::OneOf, json!([]), &d);
    assert_eq!(
        fails("$.status", Operator::OneOf, json!(200), &d),
        "`$.status`: `one_of` takes a list, but the expected value is 200"
    );
}

#[test]
fn types() {
    let d = doc();
    passes("$.name", Operator::Type, json!("string"), &d);
    passes("$.ratio", Operator::Type, json!("number"), &d);
    passes("$.status", Operator::Type, json!("number"), &d);
    passes("$.status", Operator::Type, json!("integer"), &d);
    passes("$.ratio", Operator::Type, json!("integer"), &d);
    passes("$.flag", Operator::Type, json!("boolean"), &d);
    passes("$.obj", Operator::Type, json!("object"), &d);
    passes("$.tags", Operator::Type, json!("array"), &d);
    passes("$.nothing", Operator::Type, json!("null"), &d);
    assert_eq!(
        fails("$.x", Operator::Type, json!("integer"), &json!({"x": 1.5})),
        "`$.x`: expected type integer, found 1.5 (a number with a fraction)"
    );
    assert_eq!(
        fails("$.name", Operator::Type, json!("object"), &d),
        r#"`$.name`: expected type object, found "hello world" (a string)"#
    );
    fails("$.nothing", Operator::Type, json!("object"), &d);
    fails("$.status", Operator::Type, json!("string"), &d);
    fails("$.name", Operator::Type, json!("text"), &d);
}

#[test]
fn several_selected_values_are_checked_as_a_list() {
    let d = doc();
    assert_eq!(select(&path("$.items[*].id"), &d), Some(json!([1, 2])));
    passes("$.items[*].id", Operator::Equals, json!([1, 2.0]), &d);
    passes("$.items[*].state", Operator::Contains, json!("idle"), &d);
    passes("$.items[*]", Operator::Length, json!(2), &d);
    passes("$.items[?@.state == 'active'].id", Operator::Equals, json!(1), &d);
    assert_eq!(
        fails("$.items[*].id", Operator::Equals, json!(1), &d),
        "`$.items[*].id`: expected 1, found [1,2]"
    );
    // One selected value is that value, even through a wildcard.
    assert_eq!(select(&path("$.one[*].id"), &d), Some(json!(7)));
    assert_eq!(select(&path("$.empty[*]"), &d), None);
    assert_eq!(select(&path("$"), &d), Some(d.clone()));
}

#[test]
fn a_singular_path_selects_what_the_library_selects() {
    let docs = [
        json!(null),
        json!("s"),
        json!([10, [20, 21], {"a": 30}]),
        json!({"a": {"b": [{"c": 1}, "x"]}, "0": "zero", "it's": {"\\": true}, "": 5}),
    ];
    let paths = [
        "$",
        "$.a",
        "$.a.b[0].c",
        "$.a.b[1]",
        "$.a.b[-1]",
        "$.a.b[-2].c",
        "$.a.b[-3]",
        "$.a.b[2]",
        "$[0]",
        "$[1][1]",
        "$[-1].a",
        "$[-9007199254740991]",
        "$[9007199254740991]",
        "$['0']",
        "$[0].a",
        "$.a[0]",
        "$['it\\'s']['\\\\']",
        "$['']",
        "$['a']['b'][0]",
        "$.missing.deeper",
    ];
    for source in paths {
        let jp = path(source);
        assert!(jp.singular.is_some(), "{source} is singular");
        let library = JsonPath {
            singular: None,
            ..jp.clone()
        };
        for d in &docs {
            assert_eq!(select(&jp, d), select(&library, d), "{source} on {d}");
        }
    }
    for source in ["$.a[*]", "$..a", "$['a','b']", "$[0:1]", "$[?@.a]"] {
        assert!(path(source).singular.is_none(), "{source} is not singular");
    }
}

#[test]
fn nothing_selected_fails_every_operator_but_exists_and_absent() {
    let d = doc();
    let cases = [
        (
            Operator::Equals,
            json!(false),
            "`$.result.isError`: expected false, selects nothing",
        ),
        (
            Operator::NotEquals,
            json!(1),
            "`$.result.isError`: expected anything but 1, selects nothing",
        ),
        (
            Operator::Contains,
            json!("x"),
            r#"`$.result.isError`: expected a value containing "x", selects nothing"#,
        ),
        (
            Operator::Matches,
            json!("x"),
            r#"`$.result.isError`: expected a string matching "x", selects nothing"#,
        ),
        (
            Operator::Gt,
            json!(1),
            "`$.result.isError`: expected a number > 1, selects nothing",
        ),
        (
            Operator::Gte,
            json!(1),
            "`$.result.isError`: expected a number >= 1, selects nothing",
        ),
        (
            Operator::Lt,
            json!(1),
            "`$.result.isError`: expected a number < 1, selects nothing",
        ),
        (
            Operator::Lte,
            json!(1),
            "`$.result.isError`: expected a number <= 1, selects nothing",
        ),
        (
            Operator::Length,
            json!(1),
            "`$.result.isError`: expected length 1, selects nothing",
        ),
        (
            Operator::OneOf,
            json!([1]),
            "`$.result.isError`: expected one of [1], selects nothing",
        ),
        (
            Operator::Type,
            json!("null"),
            "`$.result.isError`: expected type null, selects nothing",
        ),
    ];
    for (op, expected, message) in cases {
        let r = run("$.result.isError", op, expected, &d);
        assert!(!r.passed, "{op:?}");
        assert_eq!(r.actual, None);
        assert_eq!(r.message.as_deref(), Some(message));
    }
}

#[test]
fn templated_expected_values_are_rendered() {
    let mut engine = TemplateEngine::new();
    let status = typed(&mut engine, "status");
    let from_result = typed(&mut engine, "result.status");
    let greeting = text(&mut engine, "hello {{ word }}");
    let states = typed(&mut engine, "states");
    let missing = typed(&mut engine, "nope.deeper");
    let d = doc();
    let check = |op, expected| Check {
        op,
        expected,
        regex: None,
        written: String::new(),
    };

    let r = run_with(
        &engine,
        "$.status",
        check(Operator::Equals, ValuePlan::Template(status)),
        &d,
    );
    assert!(r.passed);
    assert_eq!(r.assertion, "$.status equals {{ status }}");
    assert_eq!(r.expected, Some(json!(200)));
    assert_eq!(r.actual, Some(json!(200)));

    let r = run_with(
        &engine,
        "$.status",
        check(Operator::Equals, ValuePlan::Template(from_result)),
        &d,
    );
    assert!(r.passed);

    let r = run_with(
        &engine,
        "$.name",
        check(Operator::Equals, ValuePlan::Template(greeting)),
        &d,
    );
    assert!(r.passed, "{:?}", r.message);

    let r = run_with(
        &engine,
        "$.items[0].state",
        check(Operator::OneOf, ValuePlan::Template(states.clone())),
        &d,
    );
    assert!(r.passed, "{:?}", r.message);

    // A template inside a list and a map.
    let list = ValuePlan::List(vec![lit(json!(404)), ValuePlan::Template(states)]);
    let r = run_with(
        &engine,
        "$.x",
        check(Operator::Equals, list),
        &json!({"x": [404, ["active", "idle"]]}),
    );
    assert!(r.passed, "{:?}", r.message);
    assert_eq!(r.assertion, "$.x equals [404,{{ states }}]");
    let map = ValuePlan::Map(vec![("id".into(), ValuePlan::Template(typed(&mut engine, "n")))]);
    let r = run_with(
        &engine,
        "$.items[*]",
        check(Operator::Contains, map),
        &json!({"items": [{"id": 3}]}),
    );
    assert!(r.passed, "{:?}", r.message);
    assert_eq!(r.assertion, r#"$.items[*] contains {"id":{{ n }}}"#);

    // A render error fails the check with the error.
    let r = run_with(
        &engine,
        "$.status",
        check(Operator::Equals, ValuePlan::Template(missing)),
        &d,
    );
    assert!(!r.passed);
    assert_eq!(r.expected, None);
    assert_eq!(r.actual, Some(json!(200)));
    let message = r.message.unwrap();
    assert!(
        message.starts_with("`$.status`: the expected value {{ nope.deeper }} fails: undefined value"),
        "{message}"
    );
}

#[test]
fn a_path_with_several_checks_gives_one_result_each() {
    let engine = TemplateEngine::new();
    let d = doc();
    let checks = vec![
        literal_check(Operator::Gte, json!(200)),
        literal_check(Operator::Lt, json!(200)),
        literal_check(Operator::Exists, json!(true)),
        literal_check(Operator::Exists, json!(false)),
    ];
    let assertion = path_plan(path("$.status"), checks, None);
    let results = check(&assertion, &d, &engine, &ctx_for(&d));
    let summary: Vec<_> = results.iter().map(|r| (r.assertion.as_str(), r.passed)).collect();
    assert_eq!(
        summary,
        [
            ("$.status gte 200", true),
            ("$.status lt 200", false),
            ("$.status exists", true),
            ("$.status exists false", false),
        ]
    );
    assert!(results.iter().all(|r| r.at == at()));
}

#[test]
fn that_passes_on_true_only() {
    let mut engine = TemplateEngine::new();
    let yes = typed(&mut engine, "n == 3");
    let yes_text = text(&mut engine, "{{ n == 3 }}");
    let no = typed(&mut engine, "n != 3");
    let number = typed(&mut engine, "n");
    let word = text(&mut engine, "yes");
    let false_text = text(&mut engine, "{{ n != 3 }}");
    let broken = typed(&mut engine, "n.x.y");
    let d = doc();
    let ctx = ctx_for(&d);
    let that = |t: &Template| {
        let plan = AssertionPlan::That {
            at: at(),
            that: t.clone(),
        };
        let mut results = check(&plan, &d, &engine, &ctx);
        assert_eq!(results.len(), 1);
        results.remove(0)
    };

    let r = that(&yes);
    assert!(r.passed);
    assert_eq!(r.assertion, "that {{ n == 3 }}");
    assert_eq!(
        (r.expected, r.actual, r.message),
        (Some(json!(true)), Some(json!(true)), None)
    );
    let r = that(&yes_text);
    assert!(r.passed, "{:?} {:?}", r.actual, r.message);

    let r = that(&no);
    assert!(!r.passed);
    assert_eq!(r.actual, Some(json!(false)));
    assert_eq!(r.message.as_deref(), Some("`{{ n != 3 }}` is false, not true"));
    assert_eq!(that(&number).message.as_deref(), Some("`{{ n }}` is 3, not true"));
    assert_eq!(that(&word).message.as_deref(), Some(r#"`yes` is "yes", not true"#));
    // A text template renders a boolean as `True`/`False`.
    assert_eq!(that(&yes_text).actual, Some(json!("True")));
    assert_eq!(
        that(&false_text).message.as_deref(),
        Some(r#"`{{ n != 3 }}` is "False", not true"#)
    );

    let r = that(&broken);
    assert!(!r.passed);
    assert_eq!(r.actual, None);
    let message = r.message.unwrap();
    assert!(message.starts_with("`{{ n.x.y }}` fails: "), "{message}");

    assert_eq!(predicate(&yes, &engine, &ctx), Ok(true));
    assert_eq!(predicate(&yes_text, &engine, &ctx), Ok(true));
    assert_eq!(predicate(&no, &engine, &ctx), Ok(false));
    assert_eq!(predicate(&number, &engine, &ctx), Ok(false));
    assert!(predicate(&broken, &engine, &ctx).is_err());
}

#[test]
fn capture_from_a_path_or_a_template() {
    let mut engine = TemplateEngine::new();
    let d = doc();
    let ctx = ctx_for(&d);
    let save = |from| Save { name: "x".into(), from };
    let from_path = |p: &str| save(SaveFrom::Path(path(p)));

    assert_eq!(capture(&from_path("$.status"), &d, &engine, &ctx), Ok(json!(200)));
    assert_eq!(
        capture(&from_path("$.items[*].state"), &d, &engine, &ctx),
        Ok(json!(["active", "idle"]))
    );
    assert_eq!(capture(&from_path("$.nothing"), &d, &engine, &ctx), Ok(json!(null)));
    assert_eq!(
        capture(&from_path("$.x"), &d, &engine, &ctx).map_err(|e| e.to_string()),
        Err("`$.x` selects nothing in the result".into())
    );

    let doubled = typed(&mut engine, "result.status * 2");
    let label = text(&mut engine, "status={{ result.status }}");
    let broken = typed(&mut engine, "result.missing.deeper");
    assert_eq!(
        capture(&save(SaveFrom::Template(doubled)), &d, &engine, &ctx),
        Ok(json!(400))
    );
    assert_eq!(
        capture(&save(SaveFrom::Template(label)), &d, &engine, &ctx),
        Ok(json!("status=200"))
    );
    let error = capture(&save(SaveFrom::Template(broken)), &d, &engine, &ctx)
        .unwrap_err()
        .to_string();
    assert!(error.starts_with("`{{ result.missing.deeper }}` fails: "), "{error}");
    assert!(!error.contains('\n'), "{error}");
}

#[test]
fn results_serialize_without_empty_fields() {
    let r = run("$.status", Operator::Equals, json!(500), &doc());
    assert_eq!(
        serde_json::to_value(&r).unwrap(),
        json!({
            "at": "3:7",
            "assertion": "$.status equals 500",
            "passed": false,
            "expected": 500,
            "actual": 200,
            "message": "`$.status`: expected 500, found 200",
        })
    );
    let r = run("$.missing", Operator::Absent, json!(true), &doc());
    assert_eq!(
        serde_json::to_value(&r).unwrap(),
        json!({"at": "3:7", "assertion": "$.missing absent", "passed": true, "expected": true})
    );
}

#[test]
fn long_values_are_cut_in_messages_but_kept_in_results() {
    let long = "x\n".repeat(500);
    let d = json!({ "s": long });
    let r = run("$.s", Operator::Equals, json!("y"), &d);
    let message = r.message.unwrap();
    assert!(message.ends_with('…'), "{message}");
    assert!(message.chars().count() < 300, "{message}");
    assert!(!message.contains('\n'));
    assert_eq!(r.actual, Some(json!(long)));
    let multibyte = json!({ "s": "é".repeat(500) });
    assert!(
        run("$.s", Operator::Length, json!(1), &multibyte)
            .message
            .unwrap()
            .ends_with('…')
    );
}

#[test]
fn odd_paths_on_odd_documents_do_not_panic() {
    let paths = [
        "$",
        "$.a",
        "$..a",
        "$.*",
        "$..*",
        "$[0]",
        "$[-1]",
        "$[-9007199254740991]",
        "$[9007199254740991]",
        "$[::-1]",
        "$[1:9007199254740991:9007199254740991]",
        "$[-9007199254740991:-1:-9007199254740991]",
        "$[::0]",
        "$[?@.a > 1]",
        "$[?length(@) > 1]",
        "$[?match(@, '[')]",
        "$[?search(@.a, '(')]",
        "$[?count(@.*) == 2]",
        "$[?value(@..a) == 1]",
        "$['a','a',0,0]",
    ];
    let docs = [
        json!(null),
        json!(1),
        json!("s"),
        json!([]),
        json!({}),
        json!([1, [2], {"a": 3}, "a", null]),
        json!({"a": {"a": [{"a": 1}, "x"]}, "b": [[], {}]}),
    ];
    let engine = TemplateEngine::new();
    for p in paths {
        let query = jsonpath_rust::parser::parse_json_path(p).expect("a valid test path");
        let jp = JsonPath::new(p.into(), query);
        for d in &docs {
            let _ = select(&jp, d);
            for (op, expected) in [
                (Operator::Equals, json!(1)),
                (Operator::Contains, json!({"a": 1})),
                (Operator::Length, json!(1)),
                (Operator::Gt, json!(0)),
                (Operator::Type, json!("integer")),
            ] {
                let plan = path_plan(jp.clone(), vec![literal_check(op, expected)], None);
                let _ = check(&plan, d, &engine, &ctx_for(d));
            }
        }
    }
}

#[test]
fn compiled_scenarios_carry_their_regexes() {
    use std::sync::Arc;

    use crate::compile::{CompileOptions, compile};
    use crate::load::{Loaded, parse_scenario};
    use crate::plan::Action;

    let text = "vars:\n  re: \"^hel\"\nconnections:\n  s: { mcp: { url: http://127.0.0.1:1/mcp } }\nclients:\n  a:\n    steps:\n      - initialize: {}\n        save: { sid: $.session_id }\n      - call: echo\n        expect:\n          - { path: $.name, matches: \"^hello\" }\n          - { path: $.name, matches: \"{{ vars.re }}\" }\n          - { path: $.name, matches: \"{{ sid }}\" }\n          - $.status: 200\n";
    let source = Arc::new(crate::source::Source::new("t.yaml", text));
    let spec = parse_scenario(&source).expect("parses");
    let plan = compile(&Loaded { source, spec }, &CompileOptions::default()).expect("compiles");
    let step = &plan.groups[0].steps[1];
    assert!(matches!(step.action, Action::Call(_)));
    let regexes: Vec<_> = step
        .expect
        .iter()
        .map(|a| match a {
            AssertionPlan::Path { checks, .. } => checks[0].regex.as_ref().map(|r| r.as_str().to_string()),
            AssertionPlan::That { .. } => None,
        })
        .collect();
    // A literal is compiled once; a template is compiled when it renders.
    assert_eq!(regexes[0].as_deref(), Some("^hello"));
    assert_eq!(regexes[1], None);
    assert_eq!(regexes[2], None);
    assert_eq!(regexes[3], None);

    let d = json!({"name": "hello", "status": 200, "session_id": "hel"});
    let ctx = context! { result => minijinja::Value::from(minijinja::value::Serde(&d)), sid => "^h", vars => context! { re => "^hel" } };
    for assertion in &step.expect {
        for r in check(assertion, &d, &plan.templates, &ctx) {
            assert!(r.passed, "{}: {:?}", r.assertion, r.message);
        }
    }
}

/// Runs `checks` on `$path` in `doc` with a `default`.
fn run_defaulted(source: &str, checks: Vec<Check>, default: ValuePlan, doc: &Value) -> Vec<AssertionResult> {
    let mut engine = TemplateEngine::new();
    let default = match default {
        ValuePlan::Literal(Value::String(expr)) if expr.starts_with("{{") => {
            let inner = expr.trim_start_matches("{{").trim_end_matches("}}").trim();
            ValuePlan::Template(typed(&mut engine, inner))
        }
        other => other,
    };
    let assertion = path_plan(path(source), checks, Some(default));
    check(&assertion, doc, &engine, &ctx_for(doc))
}

#[test]
fn a_default_stands_for_a_path_that_selects_nothing() {
    let absent = json!({"result": {"content": []}});
    let results = run_defaulted(
        "$.result.isError",
        vec![literal_check(Operator::Equals, json!(false))],
        lit(json!(false)),
        &absent,
    );
    assert!(results[0].passed, "{:?}", results[0].message);
    assert_eq!(results[0].assertion, "$.result.isError equals false (default false)");
    assert_eq!(results[0].actual, Some(json!(false)), "the default is what was seen");
}

#[test]
fn a_default_does_not_hide_a_value_that_is_there() {
    let failed = json!({"result": {"isError": true}});
    let results = run_defaulted(
        "$.result.isError",
        vec![literal_check(Operator::Equals, json!(false))],
        lit(json!(false)),
        &failed,
    );
    assert!(!results[0].passed);
    assert_eq!(
        results[0].message.as_deref(),
        Some("`$.result.isError`: expected false, found true")
    );
}

#[test]
fn a_failure_on_the_default_says_the_path_selected_nothing() {
    let absent = json!({"result": {}});
    let results = run_defaulted(
        "$.result.isError",
        vec![
            literal_check(Operator::Equals, json!(true)),
            literal_check(Operator::Type, json!("boolean")),
        ],
        lit(json!(false)),
        &absent,
    );
    assert!(!results[0].passed);
    assert_eq!(
        results[0].message.as_deref(),
        Some("`$.result.isError`: expected true, found false (the default: the path selects nothing)")
    );
    assert!(results[1].passed, "every check sees the default");
}

#[test]
fn a_templated_default_renders_and_a_broken_one_fails_every_check() {
    let absent = json!({});
    let results = run_defaulted(
        "$.code",
        vec![literal_check(Operator::Equals, json!(200))],
        lit(json!("{{ status }}")),
        &absent,
    );
    assert!(results[0].passed, "{:?}", results[0].message);
    let results = run_defaulted(
        "$.code",
        vec![
            literal_check(Operator::Equals, json!(200)),
            literal_check(Operator::Gt, json!(1)),
        ],
        lit(json!("{{ nothing.here }}")),
        &absent,
    );
    assert_eq!(results.len(), 2);
    for r in &results {
        assert!(!r.passed);
        let message = r.message.as_deref().unwrap();
        assert!(
            message.starts_with("`$.code` selects nothing, and its default {{ nothing.here }} fails:"),
            "{message}"
        );
    }
}
