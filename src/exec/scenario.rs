//! A scenario: `before:` once, every client instance concurrently, `after:` once with all the
//! clients' results in scope.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::Sender;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::abort;
use super::arrivals;
use super::client::{self, Finished, Instance};
use super::event::Event;
use super::live;
use super::result::{ClientResult, ScenarioResult, Status};
use super::run::Run;
use super::shard::Shard;
use super::shared::Shared;
use super::thresholds::judge_at_end;
use crate::duration_text::millis;
use crate::plan::{GroupPlan, Instances, Plan};

/// Runs one compiled scenario to its end (or to Ctrl-C) and returns everything it found.
pub async fn run_scenario(plan: Arc<Plan>, run: &Run, events: Sender<Event>) -> ScenarioResult {
    let shared = Arc::new(Shared::new(plan.clone(), run, events));
    shared
        .emit(Event::ScenarioStarted {
            scenario: shared.scenario.clone(),
            groups: plan
                .groups
                .iter()
                .map(|g| (g.name.as_str().into(), instances(g, run.shard)))
                .collect(),
        })
        .await;
    let started_at = chrono::Utc::now();
    let started = Instant::now();
    let mut assertions_run = 0;
    let mut tally = |ran: u64| assertions_run += ran;

    let before = phase(&shared, "before", &plan.before, None).await;
    tally(before.assertions_run);
    let mut error = before.result.error.clone().map(|e| format!("before: {e}"));
    let (mut clients, mut arrivals) = (Vec::new(), Vec::new());
    let mut breach = None;
    if before.result.status.passed() || plan.before.is_empty() {
        shared.set_before_saved(before.result.vars.clone());
        let (ran, stopped) = abort::watched(&shared, live::sampled(&shared, run_groups(&shared))).await;
        breach = stopped;
        for finished in ran.clients {
            tally(finished.assertions_run);
            clients.push(finished.result);
        }
        for done in ran.arrivals {
            tally(done.assertions_run);
            arrivals.push(done.result);
        }
    }
    let after = if error.is_none() && !shared.cancel.is_cancelled() {
        let summaries = serde_json::to_value(clients.iter().map(summary).collect::<Vec<_>>()).unwrap_or_default();
        let after = phase(&shared, "after", &plan.after, Some(summaries)).await;
        tally(after.assertions_run);
        error = after.result.error.clone().map(|e| format!("after: {e}"));
        after.result.steps
    } else {
        Vec::new()
    };

    let interrupted = shared.cancel.is_cancelled() && breach.is_none();
    if shared.cancel.is_cancelled() {
        // The stopped queries' cancel requests go out before the results are written and the
        // process ends.
        shared.databases.settle().await;
    }
    let clients_passed = clients.iter().all(|c| c.status.passed()) && arrivals.iter().all(|a| a.status.passed());
    let metrics = shared.metrics.final_report();
    let (thresholds, breached) = judge_at_end(&plan.thresholds, &metrics, breach);
    error = error.or(breached);
    // Only a run that went through without checking anything is "no assertion ran"; a run that
    // failed before its assertions says why already. Thresholds are checks.
    let checked = assertions_run > 0 || !thresholds.is_empty();
    if error.is_none() && clients_passed && !checked && !interrupted {
        error = Some("no assertion ran: a scenario must check something (`expect`, `check` or `thresholds`)".into());
    }
    let status = match (interrupted, error.is_none() && clients_passed) {
        (true, _) => Status::Interrupted,
        (false, true) => Status::Passed,
        (false, false) => Status::Failed,
    };
    shared
        .emit(Event::ScenarioFinished {
            scenario: shared.scenario.clone(),
            passed: status.passed(),
        })
        .await;
    ScenarioResult {
        name: plan.name.clone(),
        path: plan.path.clone(),
        status,
        error,
        started_at,
        elapsed_ms: millis(started.elapsed()),
        assertions_run,
        before: before.result.steps,
        clients,
        arrivals,
        after,
        latency: shared.metrics.latency(),
        metrics,
        thresholds,
        timeline: shared.metrics.timeline(),
        shard: run.shard.is_part().then_some(run.shard),
    }
}

/// Runs `before:` or `after:` as a single pseudo-client.
async fn phase(
    shared: &Arc<Shared>,
    name: &str,
    steps: &[crate::plan::StepPlan],
    clients: Option<serde_json::Value>,
) -> Finished {
    let instance = Instance {
        group: name.into(),
        client_id: 1,
        index: 0,
        delay: Duration::ZERO,
        shows_first: true,
    };
    client::run(shared.clone(), instance, steps, &[], clients).await
}

/// What the client groups did: each instance of the groups with a `count`, in group order then
/// by id, and each arrival group.
struct Groups {
    clients: Vec<Finished>,
    arrivals: Vec<arrivals::Done>,
}

/// A group's task at its end.
enum Ended {
    Client(usize, Finished),
    Arrivals(usize, arrivals::Done),
}

/// Starts every instance of every group at its time, and every arrival group's schedule, and
/// waits for all of them.
async fn run_groups(shared: &Arc<Shared>) -> Groups {
    let mut tasks = JoinSet::new();
    let started = Instant::now();
    // Instances are numbered across groups; arrivals after every counted instance, each group's
    // from where the schedule of the one before it ends.
    let counted: u64 = shared.plan.groups.iter().map(counted).sum();
    let (mut index, mut arrival_index) = (0, counted);
    for (g, group) in shared.plan.groups.iter().enumerate() {
        let shared = shared.clone();
        match &group.instances {
            Instances::Count(count) => {
                let first = index;
                index += count;
                let owned = (1..=*count).filter(|id| shared.shard.owns(id - 1));
                for id in owned {
                    let instance = Instance {
                        group: group.name.as_str().into(),
                        client_id: id,
                        index: first + id - 1,
                        delay: start_delay(group, *count, id),
                        shows_first: true,
                    };
                    let shared = shared.clone();
                    tasks.spawn(async move {
                        let group = &shared.plan.groups[g];
                        let finished = client::run(shared.clone(), instance, &group.steps, &group.record, None).await;
                        shared.metrics.client_ended(&group.name, finished.result.status);
                        Ended::Client(g, finished)
                    });
                }
            }
            Instances::Arrivals(plan) => {
                let (first, start) = (arrival_index, started + group.start_after);
                arrival_index += plan.scheduled();
                let plan = plan.clone();
                tasks.spawn(async move { Ended::Arrivals(g, arrivals::run(shared, g, &plan, start, first).await) });
            }
        }
    }
    let (mut clients, mut arrivals) = (Vec::with_capacity(index as usize), Vec::new());
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(Ended::Client(g, finished)) => clients.push((g, finished)),
            Ok(Ended::Arrivals(g, done)) => arrivals.push((g, done)),
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }
    clients.sort_by_key(|(g, f)| (*g, f.result.client_id));
    arrivals.sort_by_key(|(g, _)| *g);
    Groups {
        clients: clients.into_iter().map(|(_, f)| f).collect(),
        arrivals: arrivals.into_iter().map(|(_, a)| a).collect(),
    }
}

/// A group's instances in `shard` as the progress display counts them: its share of the
/// `count`, or of the arrivals its schedule holds.
fn instances(group: &GroupPlan, shard: Shard) -> u64 {
    match &group.instances {
        Instances::Count(count) => shard.share(*count),
        Instances::Arrivals(plan) => shard.share(plan.scheduled()),
    }
}

/// A group's instances with a number known before the run.
fn counted(group: &GroupPlan) -> u64 {
    match &group.instances {
        Instances::Count(count) => *count,
        Instances::Arrivals(_) => 0,
    }
}

/// `start_after`, plus this instance's share of `ramp_up`: starts spread evenly.
fn start_delay(group: &GroupPlan, count: u64, id: u64) -> Duration {
    let share = group.ramp_up.mul_f64((id - 1) as f64 / count as f64);
    group.start_after + share
}

/// What `after:` sees of a client under `clients`.
fn summary(client: &ClientResult) -> serde_json::Value {
    serde_json::json!({
        "client_id": client.client_id,
        "group": client.group,
        "index": client.index,
        "success": client.success,
        "status": client.status,
        "session_id": client.session_id,
        "session_ids": client.session_ids,
        "vars": client.vars,
        "counts": client.counts,
        "record": client.record,
        "error": client.error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ramp_up_spreads_starts_evenly_after_the_delay() {
        let group = GroupPlan {
            name: "g".into(),
            description: None,
            instances: Instances::Count(4),
            start_after: Duration::from_secs(10),
            ramp_up: Duration::from_secs(8),
            steps: Vec::new(),
            record: Vec::new(),
        };
        let delays: Vec<u64> = (1..=4).map(|id| start_delay(&group, 4, id).as_secs()).collect();
        assert_eq!(delays, [10, 12, 14, 16]);
    }
}
