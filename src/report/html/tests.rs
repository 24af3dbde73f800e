use super::*;
use crate::exec::{Lane, LaneEnd, MAX_LANES, MAX_MARKS, Mark, MarkKind, ThresholdResult, TimelineReport};
use crate::plan::metric::Unit;
use crate::report::fixtures::{client, scenario, step};

fn lane(n: u64, id: &str, marks: Vec<Mark>) -> Lane {
    Lane {
        n,
        session_id: id.into(),
        client: "users#1".into(),
        opened_ms: 100.0,
        reinitialized: false,
        ended_ms: Some(900.0),
        end: Some(LaneEnd::Expired),
        marks,
        omitted: 0,
        omitted_failed: 0,
    }
}

fn mark(ms: f64, step: &str, kind: MarkKind, failed: bool) -> Mark {
    Mark {
        ms,
        step: step.into(),
        kind,
        failed,
    }
}

fn count(page: &str, needle: &str) -> usize {
    page.matches(needle).count()
}

#[test]
fn every_session_is_a_lane_that_carries_its_id_with_its_marks() {
    let mut result = scenario("Idle <Expiry>", vec![client(1, "users", Status::Passed, None)]);
    result.timeline = TimelineReport {
        sessions: 2,
        every: 1,
        lanes: vec![
            lane(0, "s-1", vec![mark(200.0, "call echo", MarkKind::Call, false)]),
            lane(
                1,
                "s-2",
                vec![
                    mark(300.0, "call echo", MarkKind::Call, true),
                    mark(950.0, "row gone", MarkKind::Check, false),
                ],
            ),
        ],
    };
    let page = html(&result).unwrap();
    assert_eq!(count(&page, "data-session-id="), 2);
    assert!(
        page.contains(r#"<g class="lane expired" data-session-id="s-2""#),
        "{page}"
    );
    assert_eq!(count(&page, r#"class="call failed""#), 1);
    assert_eq!(count(&page, r#"class="check""#), 1);
    assert!(page.contains("Idle &lt;Expiry&gt;"), "the name is escaped");
    assert!(!page.contains("Sampled:"), "every session is drawn");
}

#[test]
fn a_run_without_sessions_draws_a_lane_per_client_with_its_steps() {
    let mut failed = client(2, "users", Status::Failed, Some("step `get` failed"));
    failed.steps = vec![
        step("get", Status::Passed, None),
        step("check", Status::Failed, Some("no")),
    ];
    let result = scenario("plain", vec![client(1, "users", Status::Passed, None), failed]);
    let page = html(&result).unwrap();
    assert!(page.contains("Client timeline"));
    assert_eq!(count(&page, "data-session-id="), 0);
    assert_eq!(count(&page, r#"data-client="users#"#), 2);
    assert_eq!(count(&page, r#"class="call failed""#), 1);
}

#[test]
fn the_summary_and_thresholds_are_plain_html_and_nothing_is_fetched() {
    let mut result = scenario("load", vec![client(1, "users", Status::Passed, None)]);
    result.thresholds = vec![ThresholdResult {
        metric: "call.latency.p99".into(),
        limit: "< 50ms".into(),
        value: Some(72.5),
        unit: Unit::Duration,
        passed: false,
    }];
    let page = html(&result).unwrap();
    let table = &page[page.find(r#"<table id="thresholds">"#).unwrap()..];
    assert!(table.contains(
        "<td>call.latency.p99</td><td>&lt; 50ms</td><td class=\"n\">72.5ms</td><td class=\"bad\">FAILED</td>"
    ));
    assert!(page.contains("<dt>clients passed</dt><dd>1 of 1</dd>"));
    for fetch in ["src=", "href=", "@import", "url("] {
        assert!(!page.contains(fetch), "the page fetches nothing: {fetch}");
    }
}

#[test]
fn ten_thousand_sessions_at_the_limits_stay_under_five_megabytes() {
    let name = "call a_tool_with_a_long_descriptive_name";
    let marks: Vec<Mark> = (0..MAX_MARKS)
        .map(|i| mark(i as f64 * 1000.0, name, MarkKind::Call, i % 7 == 0))
        .collect();
    let lanes = (0..MAX_LANES as u64)
        .map(|n| lane(n * 32, &uuid::Uuid::new_v4().to_string(), marks.clone()))
        .collect();
    let mut result = scenario("soak", Vec::new());
    result.elapsed_ms = 3_600_000.0;
    result.timeline = TimelineReport {
        sessions: 10_000,
        every: 32,
        lanes,
    };
    let page = html(&result).unwrap();
    assert_eq!(count(&page, "data-session-id="), MAX_LANES);
    assert!(page.len() < 5_000_000, "{} bytes", page.len());
    assert!(page.contains("Sampled: every 32nd session opened is drawn"));
}
