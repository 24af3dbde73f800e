//! Barriers: every client instance that names one waits until all have arrived. A barrier that
//! can no longer open — a party failed or ended first, the wait timed out, the run was
//! interrupted — releases everyone waiting with the reason, so no client is left hanging.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::duration_text::format_duration;
use crate::plan::BarrierPlan;

/// Why a wait ended without the barrier opening.
#[derive(Debug, Clone, PartialEq)]
pub enum Released {
    /// The run was stopped.
    Interrupted,
    /// It can never open: the reason, for every waiter.
    Broken(String),
}

/// Every barrier of a scenario.
pub struct Barriers {
    by_name: HashMap<String, Arc<Barrier>>,
}

struct Barrier {
    parties: u64,
    /// The groups that meet here.
    groups: Vec<String>,
    state: Mutex<State>,
    /// Bumped on every opening or breaking, to wake the waiters.
    changed: watch::Sender<u64>,
}

#[derive(Default)]
struct State {
    arrived: u64,
    /// How many times the barrier has opened.
    generation: u64,
    /// Why it can never open again.
    broken: Option<String>,
}

impl Barriers {
    /// The barriers of a plan.
    pub fn new(plans: &[BarrierPlan]) -> Self {
        let by_name = plans
            .iter()
            .map(|b| {
                let barrier = Barrier {
                    parties: b.parties(),
                    groups: b.groups.iter().map(|(g, _)| g.clone()).collect(),
                    state: Mutex::new(State::default()),
                    changed: watch::channel(0).0,
                };
                (b.name.clone(), Arc::new(barrier))
            })
            .collect();
        Self { by_name }
    }

    /// Arrives at a barrier and waits until it opens, breaks, times out or the run is cancelled.
    pub async fn wait(&self, name: &str, timeout: Duration, cancel: &CancellationToken) -> Result<(), Released> {
        let barrier =
            (self.by_name.get(name)).ok_or_else(|| Released::Broken(format!("barrier `{name}` is not in the plan")))?;
        let mut changes = barrier.changed.subscribe();
        let generation = {
            let mut state = barrier.state.lock().expect("barrier lock");
            if let Some(reason) = &state.broken {
                return Err(Released::Broken(reason.clone()));
            }
            state.arrived += 1;
            if state.arrived == barrier.parties {
                state.arrived = 0;
                state.generation += 1;
                barrier.changed.send_modify(|n| *n += 1);
                return Ok(());
            }
            state.generation
        };
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                _ = changes.changed() => {
                    let state = barrier.state.lock().expect("barrier lock");
                    if state.generation > generation {
                        return Ok(());
                    }
                    if let Some(reason) = &state.broken {
                        return Err(Released::Broken(reason.clone()));
                    }
                }
                () = &mut deadline => {
                    let arrived = barrier.state.lock().expect("barrier lock").arrived;
                    let reason = format!(
                        "barrier `{name}` timed out after {}: {arrived} of {} clients arrived",
                        format_duration(timeout),
                        barrier.parties
                    );
                    barrier.break_with(&reason);
                    return Err(Released::Broken(reason));
                }
                () = cancel.cancelled() => return Err(Released::Interrupted),
            }
        }
    }

    /// A client of `group` has ended. It will not arrive again, so none of its barriers can
    /// open again: whoever waits there now or later is released with the reason. (Parties that
    /// met there already are past it.)
    pub fn leave(&self, group: &str, who: &str, failed: bool) {
        for (name, barrier) in &self.by_name {
            if barrier.groups.iter().any(|g| g == group) {
                let how = if failed { "failed" } else { "ended" };
                barrier.break_with(&format!("barrier `{name}` cannot open: {who} {how} without arriving"));
            }
        }
    }
}

impl Barrier {
    fn break_with(&self, reason: &str) {
        let mut state = self.state.lock().expect("barrier lock");
        state.broken.get_or_insert_with(|| reason.to_string());
        drop(state);
        self.changed.send_modify(|n| *n += 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn barriers(parties: &[(&str, u64)]) -> Arc<Barriers> {
        let plan = BarrierPlan {
            name: "go".into(),
            groups: parties.iter().map(|(g, n)| (g.to_string(), *n)).collect(),
        };
        Arc::new(Barriers::new(&[plan]))
    }

    #[tokio::test(start_paused = true)]
    async fn opens_when_every_party_arrives() {
        let b = barriers(&[("a", 3)]);
        let cancel = CancellationToken::new();
        let waits: Vec<_> = (0..3)
            .map(|i| {
                let (b, cancel) = (b.clone(), cancel.clone());
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_secs(i)).await;
                    b.wait("go", Duration::from_secs(60), &cancel).await
                })
            })
            .collect();
        for w in waits {
            assert_eq!(w.await.unwrap(), Ok(()));
        }
        // It is cyclic: the same parties can meet again.
        let again: Vec<_> = (0..3)
            .map(|_| {
                let (b, cancel) = (b.clone(), cancel.clone());
                tokio::spawn(async move { b.wait("go", Duration::from_secs(60), &cancel).await })
            })
            .collect();
        for w in again {
            assert_eq!(w.await.unwrap(), Ok(()));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn times_out_and_stays_broken() {
        let b = barriers(&[("a", 2)]);
        let cancel = CancellationToken::new();
        let start = tokio::time::Instant::now();
        let Released::Broken(err) = b.wait("go", Duration::from_secs(30), &cancel).await.unwrap_err() else {
            panic!("not broken");
        };
        assert_eq!(start.elapsed(), Duration::from_secs(30));
        assert!(err.contains("timed out after 30s: 1 of 2 clients arrived"), "{err}");
        let late = b.wait("go", Duration::from_secs(30), &cancel).await.unwrap_err();
        assert_eq!(late, Released::Broken(err));
    }

    #[tokio::test(start_paused = true)]
    async fn a_party_that_fails_releases_the_waiters() {
        let b = barriers(&[("a", 1), ("b", 1)]);
        let cancel = CancellationToken::new();
        let waiter = {
            let (b, cancel) = (b.clone(), cancel.clone());
            tokio::spawn(async move { b.wait("go", Duration::from_secs(600), &cancel).await })
        };
        tokio::time::sleep(Duration::from_secs(1)).await;
        b.leave("b", "b #1", true);
        let err = waiter.await.unwrap().unwrap_err();
        assert_eq!(
            err,
            Released::Broken("barrier `go` cannot open: b #1 failed without arriving".into())
        );
    }

    #[tokio::test(start_paused = true)]
    async fn cancellation_releases_the_waiters() {
        let b = barriers(&[("a", 2)]);
        let cancel = CancellationToken::new();
        let waiter = {
            let (b, cancel) = (b.clone(), cancel.clone());
            tokio::spawn(async move { b.wait("go", Duration::from_secs(600), &cancel).await })
        };
        tokio::time::sleep(Duration::from_secs(1)).await;
        cancel.cancel();
        assert_eq!(waiter.await.unwrap(), Err(Released::Interrupted));
    }
}
