//! The executor's timing and flow, on tokio's paused clock: deterministic, and instant.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::*;
use crate::compile::{CompileOptions, compile};
use crate::load::{Loaded, parse_scenario};
use crate::source::Source;

pub(super) fn plan(text: &str) -> Arc<crate::plan::Plan> {
    let source = Arc::new(Source::new("t.yaml", text));
    let spec = parse_scenario(&source).unwrap();
    let plan = compile(&Loaded { source, spec }, &CompileOptions::default()).unwrap_or_else(|d| {
        panic!("{}", crate::diagnostic::render_all(&d));
    });
    Arc::new(plan)
}

async fn run(text: &str) -> ScenarioResult {
    run_recording(text, Record::Bounded).await
}

async fn run_recording(text: &str, record: Record) -> ScenarioResult {
    // Nobody listens: every event is dropped at once, and no client waits for room.
    let (events, _) = mpsc::channel(1);
    let run = Run {
        record,
        ..Run::new(CancellationToken::new())
    };
    run_scenario(plan(text), &run, events).await
}

fn kept(step: &StepResult) -> Vec<u64> {
    step.iterations.iter().map(|i| i.iteration).collect()
}

#[tokio::test(start_paused = true)]
async fn fixed_rate_loops_keep_their_schedule_and_record_lateness() {
    // Each pass takes 3s on a 2s schedule: passes start at 0, 3, 6 (due 0, 2, 4), so lateness
    // grows by 1s a pass, and the loop ends once a pass would be due at or after 6s.
    let result = run(
        "clients:\n  a:\n    steps:\n      - repeat: { every: 2s, for: 6s }\n        steps:\n          - wait: 3s\n      - check: \"{{ counts.repeat == 1 }}\"\n",
    )
    .await;
    assert_eq!(result.status, Status::Passed, "{:?}", result.error);
    let repeat = &result.clients[0].steps[0];
    let lateness: Vec<f64> = repeat.iterations.iter().map(|i| i.lateness_ms.unwrap()).collect();
    assert_eq!(lateness, [0.0, 1000.0, 2000.0]);
}

#[tokio::test(start_paused = true)]
async fn a_slow_pass_does_not_shift_the_next() {
    let result = run(
        "clients:\n  a:\n    steps:\n      - repeat: { every: 2s, times: 3 }\n        steps:\n          - wait: \"{{ '3s' if iteration == 1 else '100ms' }}\"\n      - check: \"{{ true }}\"\n",
    )
    .await;
    let repeat = &result.clients[0].steps[0];
    let lateness: Vec<f64> = repeat.iterations.iter().map(|i| i.lateness_ms.unwrap()).collect();
    // The second pass is late (the first overran), the third is back on its 4s slot.
    assert_eq!(lateness, [0.0, 1000.0, 0.0]);
}

/// 1,000 passes, of which 3 and 500 fail and the loop goes on.
const THOUSAND_PASSES: &str = "clients:\n  a:\n    steps:\n      - repeat: { times: 1000 }\n        steps:\n          - check: \"{{ iteration not in [3, 500] }}\"\n            continue_on_failure: true\n";

#[tokio::test(start_paused = true)]
async fn a_long_loop_keeps_its_first_failed_and_last_passes_and_counts_them_all() {
    let result = run(THOUSAND_PASSES).await;
    let repeat = &result.clients[0].steps[0];
    // Pass 3 failed too, and is among the first ten.
    assert_eq!(kept(repeat), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 500, 1000]);
    assert_eq!(repeat.iterations[2].status, Status::Failed);
    assert_eq!(repeat.iterations[10].status, Status::Failed);
    assert_eq!(repeat.iterations[11].status, Status::Passed);
    let passes = repeat.passes.as_ref().unwrap();
    assert_eq!(
        (passes.total, passes.passed, passes.failed, passes.interrupted),
        (1000, 998, 2, 0)
    );
    assert_eq!((passes.kept, passes.omitted), (12, 988));
    assert_eq!(passes.lateness_ms, None, "a closed loop has no schedule");
    assert!(passes.elapsed_ms.is_some());
    // The error and the status are those of a loop that kept everything.
    assert_eq!(repeat.status, Status::Failed);
    let last_failure = StepResult::first_error(&repeat.iterations[10].steps);
    assert!(last_failure.is_some());
    assert_eq!(repeat.error, last_failure);
    assert_eq!(result.clients[0].status, Status::Failed);
}

#[tokio::test(start_paused = true)]
async fn record_all_keeps_every_pass() {
    let result = run_recording(THOUSAND_PASSES, Record::All).await;
    let repeat = &result.clients[0].steps[0];
    assert_eq!(kept(repeat), (1..=1000).collect::<Vec<_>>());
    let passes = repeat.passes.as_ref().unwrap();
    assert_eq!(
        (passes.total, passes.failed, passes.kept, passes.omitted),
        (1000, 2, 1000, 0)
    );
    let bounded = run(THOUSAND_PASSES).await;
    assert_eq!(repeat.error, bounded.clients[0].steps[0].error);
}

#[tokio::test(start_paused = true)]
async fn a_fixed_rate_loop_sums_up_the_lateness_of_every_pass() {
    // Pass 500 takes 2.5s on a 1s schedule: 501 starts 1.5s late, 502 0.5s, 503 on time. Those
    // passes are not kept, but the aggregate has them.
    let result = run(
        "clients:\n  a:\n    steps:\n      - repeat: { every: 1s, times: 1000 }\n        steps:\n          - wait: \"{{ '2500ms' if iteration == 500 else '10ms' }}\"\n      - check: \"{{ true }}\"\n",
    )
    .await;
    assert_eq!(result.status, Status::Passed, "{:?}", result.error);
    let repeat = &result.clients[0].steps[0];
    assert_eq!(kept(repeat), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1000]);
    let passes = repeat.passes.as_ref().unwrap();
    assert_eq!(
        (passes.total, passes.passed, passes.kept, passes.omitted),
        (1000, 1000, 11, 989)
    );
    let within = |actual: f64, expected: f64| (actual - expected).abs() <= expected * 0.01 + 0.001;
    let lateness = passes.lateness_ms.unwrap();
    assert_eq!((lateness.p50, lateness.p99), (0.0, 0.0), "{lateness:?}");
    assert!(within(lateness.max, 1500.0), "{lateness:?}");
    let elapsed = passes.elapsed_ms.unwrap();
    assert!(within(elapsed.p50, 10.0) && within(elapsed.p99, 10.0), "{elapsed:?}");
    assert!(within(elapsed.max, 2500.0), "{elapsed:?}");
}

#[tokio::test(start_paused = true)]
async fn closed_loops_count_iterations_and_saved_values_flow() {
    let result = run(
        "clients:\n  a:\n    steps:\n      - set: { total: 0 }\n      - repeat: { times: 4 }\n        steps:\n          - set: { total: \"{{ total + iteration }}\" }\n      - check: \"{{ total == 10 }}\"\n    record:\n      total: \"{{ total }}\"\n",
    )
    .await;
    assert_eq!(result.status, Status::Passed, "{:?}", result.clients[0].error);
    assert_eq!(result.clients[0].record["total"], 10);
}

#[tokio::test(start_paused = true)]
async fn the_client_clock_measures_time_between_steps() {
    // An instance that starts 1.5s late still counts from its own start; `duration_ms` turns a
    // configured duration into the same unit for a comparison.
    let result = run(
        "vars: { silence: 2s }\nclients:\n  a:\n    start_after: 1500ms\n    steps:\n      - set: { from: \"{{ client.elapsed_ms }}\" }\n      - wait: \"{{ vars.silence }}\"\n      - set: { took: \"{{ client.elapsed_ms - from }}\" }\n      - check: \"{{ took >= vars.silence | duration_ms }}\"\n    record:\n      from: \"{{ from }}\"\n      took: \"{{ took }}\"\n",
    )
    .await;
    assert_eq!(result.status, Status::Passed, "{:?}", result.clients[0].error);
    assert_eq!(result.clients[0].record["from"], 0.0);
    assert_eq!(result.clients[0].record["took"], 2000.0);
}

#[tokio::test(start_paused = true)]
async fn barriers_release_every_instance_together() {
    let result = run(
        "clients:\n  a:\n    count: 3\n    ramp_up: 3s\n    steps:\n      - barrier: go\n      - check: \"{{ true }}\"\n",
    )
    .await;
    assert_eq!(result.status, Status::Passed);
    // Instances start at 0s, 1s, 2s; all leave the barrier at 2s.
    let waited: Vec<f64> = result.clients.iter().map(|c| c.steps[0].elapsed_ms).collect();
    assert_eq!(waited, [2000.0, 1000.0, 0.0]);
    let left: Vec<f64> = result
        .clients
        .iter()
        .map(|c| c.start_ms + c.steps[0].elapsed_ms)
        .collect();
    assert_eq!(left, [2000.0; 3]);
}

#[tokio::test(start_paused = true)]
async fn a_shard_runs_its_own_instances_and_its_barriers_wait_for_them_alone() {
    let (events, _) = mpsc::channel(1);
    let shard = Shard { index: 1, count: 3 };
    let run = Run {
        shard,
        ..Run::new(CancellationToken::new())
    };
    let text = "clients:\n  a:\n    count: 5\n    ramp_up: 5s\n    steps:\n      - barrier: go\n      - check: \"{{ client.index < 5 }}\"\n  b:\n    count: 1\n    steps:\n      - check: \"{{ true }}\"\n";
    let result = run_scenario(plan(text), &run, events).await;
    assert_eq!(result.status, Status::Passed, "{:?}", result.error);
    // Instances 1 and 4 (from 0) of `a` are this shard's, with their ids, indexes and ramp-up
    // slots in the whole run; `b`'s one instance is shard 0's.
    let clients: Vec<_> = (result.clients.iter())
        .map(|c| (c.group.as_str(), c.client_id, c.index, c.start_ms))
        .collect();
    assert_eq!(clients, [("a", 2, 1, 1000.0), ("a", 5, 4, 4000.0)]);
    // The barrier opened once both of this shard's parties came, at 4 s.
    let left: Vec<f64> = result
        .clients
        .iter()
        .map(|c| c.start_ms + c.steps[0].elapsed_ms)
        .collect();
    assert_eq!(left, [4000.0; 2]);
    assert_eq!(result.shard, Some(shard));
}

#[tokio::test(start_paused = true)]
async fn a_shard_runs_its_share_of_an_arrival_rate() {
    let (events, _) = mpsc::channel(1);
    let run = Run {
        shard: Shard { index: 0, count: 2 },
        ..Run::new(CancellationToken::new())
    };
    let result = run_scenario(plan(&arrivals("{ rate: 10/s, for: 2s }", QUICK_CHECK)), &run, events).await;
    let group = &result.arrivals[0];
    assert_eq!((group.scheduled, group.started), (10, 10));
    let starts: Vec<f64> = group.instances.iter().take(2).map(|c| c.start_ms).collect();
    assert_eq!(starts, [0.0, 200.0], "5 a second");
    let ids: Vec<u64> = group.instances.iter().take(3).map(|c| c.client_id).collect();
    assert_eq!(
        ids,
        [1, 3, 5],
        "the whole run's arrivals 1, 3, 5…; shard 1's are 2, 4, 6…"
    );
    assert_eq!((group.kept, group.omitted), (10, 0), "its own first ten are kept");
    // Dealt out one by one, the schedule's arrivals add up across shards however they divide.
    let mut started = 0;
    for index in 0..3 {
        let (events, _) = mpsc::channel(1);
        let run = Run {
            shard: Shard { index, count: 3 },
            ..Run::new(CancellationToken::new())
        };
        let result = run_scenario(plan(&arrivals("{ rate: 10/s, for: 1s }", QUICK_CHECK)), &run, events).await;
        started += result.arrivals[0].started;
    }
    assert_eq!(started, 10);
}

#[tokio::test(start_paused = true)]
async fn a_barrier_whose_peer_failed_fails_with_the_reason() {
    let result = run(
        "clients:\n  a:\n    steps:\n      - barrier: go\n      - check: \"{{ true }}\"\n  b:\n    steps:\n      - check: \"{{ false }}\"\n      - barrier: go\n",
    )
    .await;
    assert_eq!(result.status, Status::Failed);
    let waiter = result.clients[0].error.as_deref().unwrap();
    assert!(
        waiter.contains("barrier `go` cannot open: b #1 failed without arriving"),
        "{waiter}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_barrier_times_out_after_its_step_timeout() {
    let result = run(
        "clients:\n  a:\n    steps:\n      - barrier: go\n        timeout: 10s\n  b:\n    steps:\n      - wait: 1h\n      - barrier: go\n",
    )
    .await;
    let a = &result.clients[0];
    assert_eq!(a.steps[0].elapsed_ms, 10_000.0);
    assert!(
        a.error
            .as_deref()
            .unwrap()
            .contains("timed out after 10s: 1 of 2 clients arrived")
    );
}

#[tokio::test(start_paused = true)]
async fn no_assertion_means_failure() {
    let result = run("clients:\n  a:\n    steps:\n      - wait: 1s\n").await;
    assert_eq!(result.status, Status::Failed);
    assert!(result.error.unwrap().starts_with("no assertion ran"));
}

#[tokio::test(start_paused = true)]
async fn a_failed_step_stops_its_client_unless_it_continues() {
    let result = run(
        "clients:\n  a:\n    steps:\n      - check: \"{{ false }}\"\n        continue_on_failure: true\n      - set: { after: 1 }\n      - check: \"{{ false }}\"\n      - set: { never: 1 }\n",
    )
    .await;
    let client = &result.clients[0];
    assert_eq!(client.status, Status::Failed);
    assert_eq!(client.steps.len(), 3);
    assert!(client.vars.contains_key("after") && !client.vars.contains_key("never"));
    assert!(
        client
            .error
            .as_deref()
            .unwrap()
            .starts_with("step `check` (t.yaml:4:9)"),
        "{:?}",
        client.error
    );
}

#[tokio::test(start_paused = true)]
async fn a_template_that_fails_at_run_time_fails_its_step() {
    let result = run(
        "clients:\n  a:\n    steps:\n      - set: { n: \"{{ 'x' }}\" }\n      - wait: \"{{ n }}\"\n      - check: \"{{ true }}\"\n",
    )
    .await;
    let error = result.clients[0].error.clone().unwrap();
    assert!(error.starts_with("step `wait {{ n }}` (t.yaml:5:9):"), "{error}");
    assert!(error.contains("`x`"), "{error}");
}

#[tokio::test(start_paused = true)]
async fn after_sees_every_client_and_before_values() {
    let result = run(
        "before:\n  - set: { seed: 7 }\nclients:\n  a:\n    count: 3\n    steps:\n      - set: { mine: \"{{ seed * client.id }}\" }\n      - check: \"{{ mine > 0 }}\"\nafter:\n  - check: \"{{ clients | map(attribute='vars') | map(attribute='mine') | sum == 42 }}\"\n",
    )
    .await;
    assert_eq!(result.status, Status::Passed, "{:?} {:?}", result.error, result.after);
}

#[tokio::test(start_paused = true)]
async fn cancellation_stops_a_long_wait_and_marks_the_run_interrupted() {
    let (events, _) = mpsc::channel(1);
    let cancel = CancellationToken::new();
    let run = Run::new(cancel.clone());
    let plan = plan("clients:\n  a:\n    count: 2\n    steps:\n      - wait: 1h\n      - check: \"{{ true }}\"\n");
    let task = tokio::spawn(async move { run_scenario(plan, &run, events).await });
    tokio::time::sleep(Duration::from_secs(5)).await;
    cancel.cancel();
    let result = task.await.unwrap();
    assert_eq!(result.status, Status::Interrupted);
    assert_eq!(result.clients.len(), 2);
    assert!(result.clients.iter().all(|c| c.status == Status::Interrupted));
    assert_eq!(result.elapsed_ms, 5000.0);
}

#[tokio::test(start_paused = true)]
async fn a_failure_that_continues_does_not_end_its_loop() {
    let result = run(
        "clients:\n  a:\n    steps:\n      - repeat: { times: 3 }\n        steps:\n          - check: \"{{ iteration != 2 }}\"\n            continue_on_failure: true\n      - set: { reached: true }\n",
    )
    .await;
    let client = &result.clients[0];
    assert_eq!(client.steps[0].iterations.len(), 3);
    assert_eq!(client.steps[0].status, Status::Failed);
    assert!(
        client.vars.contains_key("reached"),
        "the loop's contained failure does not stop the client"
    );
    assert_eq!(client.status, Status::Failed);
}

#[tokio::test(start_paused = true)]
async fn a_party_that_ends_before_anyone_arrives_still_releases_the_barrier() {
    let result = run(
        "clients:\n  a:\n    start_after: 5s\n    steps:\n      - barrier: go\n      - check: \"{{ true }}\"\n  b:\n    steps:\n      - check: \"{{ false }}\"\n      - barrier: go\n",
    )
    .await;
    let a = &result.clients[0];
    assert_eq!(
        a.steps[0].elapsed_ms, 0.0,
        "released at once, not after the barrier timeout"
    );
    assert!(a.error.as_deref().unwrap().contains("b #1 failed without arriving"));
}

#[tokio::test(start_paused = true)]
async fn counts_are_zero_until_a_step_first_succeeds() {
    // `heartbeat` never passes; `other` is a step of another group.
    let result = run(
        "clients:\n  a:\n    steps:\n      - check: \"{{ counts.heartbeat == 0 and counts.other == 0 }}\"\n      - name: heartbeat\n        check: \"{{ false }}\"\n        continue_on_failure: true\n    record:\n      heartbeats: \"{{ counts.heartbeat }}\"\n      others: \"{{ counts.other }}\"\n  b:\n    steps:\n      - name: other\n        wait: 1s\n",
    )
    .await;
    let a = result.clients.iter().find(|c| c.group == "a").unwrap();
    assert_eq!(a.steps[0].status, Status::Passed, "{:?}", a.steps[0].error);
    assert_eq!(a.record["heartbeats"], 0);
    assert_eq!(a.record["others"], 0);
    assert_eq!(a.counts.get("heartbeat"), Some(&0), "{:?}", a.counts);
    assert_eq!(a.counts.get("other"), None, "a result file counts its own steps");
}

#[tokio::test(start_paused = true)]
async fn a_templated_times_past_the_limit_fails_the_step() {
    let result = run(
        "vars:\n  n: 1\nclients:\n  a:\n    steps:\n      - set: { n: 2000000 }\n      - repeat: { times: \"{{ n }}\" }\n        steps:\n          - wait: 1ms\n",
    )
    .await;
    let error = result.clients[0].error.clone().unwrap_or_default();
    assert!(
        error.contains("a count may be at most 1,000,000, found 2000000"),
        "{error}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_slow_reporter_holds_the_clients_back_and_drops_only_progress() {
    const CAPACITY: usize = 4;
    let (events, mut rx) = mpsc::channel(CAPACITY);
    let run = Run::new(CancellationToken::new());
    let plan = plan(
        "clients:\n  a:\n    count: 5\n    steps:\n      - repeat: { times: 50 }\n        steps:\n          - set: { n: \"{{ iteration }}\" }\n      - check: \"{{ n == 50 }}\"\n",
    );
    let task = tokio::spawn(async move { run_scenario(plan, &run, events).await });
    let (mut queued, mut step_starts, mut finished, mut scenario_events) = (0, 0, 0, 0);
    loop {
        queued = rx.len().max(queued);
        let Some(event) = rx.recv().await else { break };
        match event {
            Event::StepStarted { .. } => step_starts += 1,
            Event::ClientFinished { actor, passed } if &*actor.group == "a" => {
                assert!(passed);
                finished += 1;
            }
            Event::ScenarioStarted { .. } | Event::ScenarioFinished { .. } => scenario_events += 1,
            _ => {}
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    assert_eq!(task.await.unwrap().status, Status::Passed);
    assert!(queued <= CAPACITY, "{queued}");
    assert_eq!((finished, scenario_events), (5, 2), "every result event arrives");
    assert!(step_starts < 5 * 52, "progress is dropped while the reporter is behind");
}

/// An arrival group of `arrivals`, whose instances take `steps`.
fn arrivals(arrivals: &str, steps: &str) -> String {
    format!("clients:\n  visitors:\n    arrivals: {arrivals}\n    steps:\n{steps}")
}

const QUICK_CHECK: &str = "      - wait: 50ms\n      - check: \"{{ client.id > 0 }}\"\n";

#[tokio::test(start_paused = true)]
async fn arrivals_start_on_their_schedule_and_are_counted_per_second() {
    let result = run(&arrivals("{ rate: 10/s, for: 2s }", QUICK_CHECK)).await;
    assert_eq!(result.status, Status::Passed, "{:?}", result.error);
    assert!(result.clients.is_empty());
    let group = &result.arrivals[0];
    assert_eq!(
        (group.scheduled, group.started, group.dropped, group.unreached),
        (20, 20, 0, 0)
    );
    assert_eq!((group.passed, group.failed, group.peak_active), (20, 0, 1));
    let lateness = group.lateness_ms.unwrap();
    assert_eq!((lateness.p50, lateness.max), (0.0, 0.0));
    let per_second: Vec<_> = group.series.iter().map(|p| (p.second, p.started, p.dropped)).collect();
    assert_eq!(per_second, [(0, 10, 0), (1, 10, 0)]);
    // Kept as a loop's passes are: the first ten and the last.
    let ids: Vec<u64> = group.instances.iter().map(|c| c.client_id).collect();
    assert_eq!(ids, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 20]);
    assert_eq!((group.kept, group.omitted), (11, 9));
    // Each instance started at its own slot: arrival k at k × 100 ms.
    let starts: Vec<f64> = group.instances.iter().map(|c| c.start_ms).collect();
    assert_eq!(&starts[..3], [0.0, 100.0, 200.0]);
    assert_eq!(starts[10], 1900.0);
    assert_eq!(result.client_counts(), (20, 20));
    assert_eq!(result.assertions_run, 20);
}

#[tokio::test(start_paused = true)]
async fn an_arrival_beyond_max_active_is_dropped_and_the_others_keep_their_slots() {
    // Each instance takes 950 ms and two may run: the arrivals at 0 and 0.1 s run, those up to
    // 0.9 s are dropped, then 1.0 and 1.1 s find the slots free again.
    let steps = "      - wait: 950ms\n      - check: \"{{ true }}\"\n";
    let result = run(&arrivals("{ rate: 10/s, for: 2s, max_active: 2 }", steps)).await;
    assert_eq!(result.status, Status::Passed, "{:?}", result.error);
    let group = &result.arrivals[0];
    assert_eq!((group.started, group.dropped, group.peak_active), (4, 16, 2));
    let ids: Vec<u64> = group.instances.iter().map(|c| c.client_id).collect();
    // Kept: the first ten by arrival number, and the last.
    assert_eq!(ids, [1, 2, 12]);
    assert_eq!(
        group.lateness_ms.unwrap().max,
        0.0,
        "a started arrival is never delayed"
    );
    let per_second: Vec<_> = group.series.iter().map(|p| (p.second, p.started, p.dropped)).collect();
    assert_eq!(per_second, [(0, 2, 8), (1, 2, 8)]);
}

#[tokio::test(start_paused = true)]
async fn a_dropped_arrival_breaches_its_threshold_and_an_aborting_one_stops_the_schedule() {
    let steps = "      - wait: 950ms\n      - check: \"{{ true }}\"\n";
    let group = arrivals("{ rate: 10/s, for: 2s, max_active: 2 }", steps);
    let result = run(&format!("{group}thresholds:\n  visitors.dropped: \"== 0\"\n  visitors.started: \"== 4\"\n  visitors.lateness.max: \"< 1ms\"\n")).await;
    assert_eq!(result.status, Status::Failed);
    let read: Vec<_> = result.thresholds.iter().map(|t| (t.value, t.passed)).collect();
    assert_eq!(read, [(Some(16.0), false), (Some(4.0), true), (Some(0.0), true)]);
    assert_eq!(
        result.error.as_deref(),
        Some("threshold `visitors.dropped` breached: value 16 (limit == 0)")
    );

    let result = run(&format!(
        "{group}thresholds:\n  visitors.dropped: {{ limit: \"== 0\", abort: true }}\n"
    ))
    .await;
    assert_eq!(result.status, Status::Failed);
    let group = &result.arrivals[0];
    // The watcher looks once a second: the drops of the first second stop the schedule there.
    assert!(group.unreached >= 9, "{group:?}");
    assert!(
        result
            .error
            .unwrap()
            .starts_with("threshold `visitors.dropped` breached at 1s")
    );
}

#[tokio::test(start_paused = true)]
async fn a_ramp_starts_arrivals_ever_closer() {
    let result = run(&arrivals(
        "{ stages: [ { to: 10/s, over: 2s }, { hold: 1s } ] }",
        QUICK_CHECK,
    ))
    .await;
    let group = &result.arrivals[0];
    assert_eq!((group.scheduled, group.started), (20, 20));
    let starts: Vec<f64> = group.instances.iter().map(|c| c.start_ms).collect();
    // 0 → 10/s over 2 s: arrival k (from 0) at sqrt(0.4 k) s; a paused clock wakes on whole
    // milliseconds.
    for (k, start) in starts[..10].iter().enumerate() {
        let expected = (0.4 * k as f64).sqrt() * 1000.0;
        assert!(
            *start >= expected && start - expected < 1.0,
            "{k}: {start} vs {expected}"
        );
    }
    // The held second: 10 more, every 100 ms from 2 s.
    assert_eq!(starts[10], 2900.0);
}

#[tokio::test(start_paused = true)]
async fn a_failed_arrival_fails_the_group_and_is_kept_in_full() {
    let steps = "      - check: \"{{ client.id != 15 }}\"\n";
    let result = run(&arrivals("{ rate: 5/s, for: 4s }", steps)).await;
    assert_eq!(result.status, Status::Failed);
    let group = &result.arrivals[0];
    assert_eq!((group.passed, group.failed, group.status), (19, 1, Status::Failed));
    let failed = group
        .instances
        .iter()
        .find(|c| c.client_id == 15)
        .expect("the failure is kept");
    assert_eq!(failed.status, Status::Failed);
    assert!(
        group.error.as_deref().unwrap().starts_with("visitors #15: "),
        "{:?}",
        group.error
    );
}

#[tokio::test(start_paused = true)]
async fn a_stop_ends_the_schedule_and_says_what_it_did_not_reach() {
    let cancel = CancellationToken::new();
    let run = Run::new(cancel.clone());
    let (events, _) = mpsc::channel(1);
    let plan = plan(&arrivals(
        "{ rate: 10/s, for: 10s }",
        "      - wait: 250ms\n      - check: \"{{ true }}\"\n",
    ));
    let task = tokio::spawn(async move { run_scenario(plan, &run, events).await });
    tokio::time::sleep(Duration::from_millis(1020)).await;
    cancel.cancel();
    let result = task.await.unwrap();
    assert_eq!(result.status, Status::Interrupted);
    let group = &result.arrivals[0];
    assert_eq!(group.status, Status::Interrupted);
    // Arrivals 0 to 1.0 s started; those of 0.8, 0.9 and 1.0 s were still waiting when the stop
    // came.
    assert_eq!((group.started, group.passed, group.interrupted), (11, 8, 3));
    assert_eq!(group.unreached, 89);
}

#[tokio::test(start_paused = true)]
async fn thresholds_are_checks_and_a_breach_fails_the_scenario() {
    let text = "clients:\n  a:\n    steps:\n      - wait: 1s\nthresholds:\n  wait 1s.passed: \"== 1\"\n";
    let result = run(text).await;
    assert_eq!(result.status, Status::Passed, "{:?}", result.error);
    assert_eq!(result.thresholds[0].value, Some(1.0));

    let result = run(&text.replace("== 1", "> 1")).await;
    assert_eq!(result.status, Status::Failed);
    assert_eq!(
        result.error.as_deref(),
        Some("threshold `wait 1s.passed` breached: value 1 (limit > 1)")
    );
    assert!(
        result.clients[0].status.passed(),
        "the clients passed; the threshold did not"
    );
}

#[tokio::test(start_paused = true)]
async fn an_aborting_threshold_stops_the_clients_and_fails_the_scenario() {
    // Passes at 0.5s, 1.5s, 2.5s, …; the third fails, and the watch at 3s sees it.
    let text = "clients:\n  a:\n    count: 2\n    start_after: 500ms\n    steps:\n      - name: beat\n        repeat: { every: 1s, for: 1h }\n        steps:\n          - check: \"{{ iteration != 3 }}\"\n            continue_on_failure: true\nafter:\n  - check: \"{{ false }}\"\nthresholds:\n  check.failed: { limit: \"== 0\", abort: true }\n  beat.lateness.max: \"< 1s\"\n";
    let (events, _) = mpsc::channel(1);
    let run = Run::new(CancellationToken::new());
    let started = tokio::time::Instant::now();
    let result = run_scenario(plan(text), &run, events).await;
    assert!(started.elapsed() < Duration::from_secs(4), "{:?}", started.elapsed());
    assert_eq!(result.status, Status::Failed);
    assert_eq!(
        result.error.as_deref(),
        Some("threshold `check.failed` breached at 3s: value 2 (limit == 0)")
    );
    assert!(result.clients.iter().all(|c| c.status == Status::Interrupted));
    assert!(result.after.is_empty(), "`after:` does not run after an abort");
    assert!(!run.cancel.is_cancelled(), "the run goes on to its next scenario");
    let judged: Vec<_> = result.thresholds.iter().map(|t| (t.value, t.passed)).collect();
    assert_eq!(judged, [(Some(2.0), false), (Some(0.0), true)]);
    let lateness = result.metrics.steps["beat"].lateness.as_ref().unwrap();
    assert_eq!(lateness.count, 6, "three passes of each client");
}

#[tokio::test(start_paused = true)]
async fn live_figures_come_every_second_and_steps_say_where_their_client_is() {
    // Passes at 0.01, 1.01 and 2.01 s; the second fails in both clients.
    let text = "clients:\n  a:\n    count: 2\n    steps:\n      - wait: 10ms\n      - repeat: { every: 1s, for: 3s }\n        steps:\n          - check: \"{{ iteration != 2 }}\"\n            continue_on_failure: true\n";
    let (events, mut rx) = mpsc::channel(1000);
    let run = Run::new(CancellationToken::new());
    run_scenario(plan(text), &run, events).await;
    let (mut live, mut positions) = (Vec::new(), Vec::new());
    while let Ok(event) = rx.try_recv() {
        match event {
            Event::Live { figures, .. } => live.push((figures.active, figures.errors, figures.rate)),
            Event::StepStarted { actor, at, .. } if actor.client_id == 1 => {
                positions.push((
                    at.step,
                    at.of,
                    at.pass.map(|p| (p.n, p.of, p.left.map(|l| l.as_secs()))),
                ));
            }
            _ => {}
        }
    }
    assert_eq!(
        live,
        [(2, 0, 0.0), (2, 2, 0.0)],
        "at 1 s and 2 s, and none after the clients"
    );
    assert_eq!(
        positions,
        [
            (1, 2, None),
            (2, 2, None),
            (2, 2, Some((1, Some(3), Some(3)))),
            (2, 2, Some((2, Some(3), Some(2)))),
            (2, 2, Some((3, Some(3), Some(1)))),
        ]
    );
}
