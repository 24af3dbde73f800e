//! Deadlines to a tenth of a millisecond, for the passes of fixed-rate loops.
//!
//! tokio's timer rounds a deadline up to its next millisecond and then parks for whole
//! milliseconds counted from a truncated now, so a pass on it started 0–2 ms late, ~1 ms in
//! the middle: lateness of the clock's own, not the load's. Here one thread sleeps to
//! the earliest deadline on the OS's own timer (a futex wait, ~50 µs of slack on Linux) and
//! wakes that deadline's task. tokio's timer still runs beside it: it is what a test's paused
//! clock moves, and it ends the wait if the thread could not be started.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Condvar, Mutex, OnceLock, PoisonError};
use std::task::{Context, Poll, Waker};

use tokio::time::Instant;

/// Waits until `due`, on tokio's clock.
pub async fn sleep_until(due: Instant) {
    tokio::select! {
        biased;
        () = tokio::time::sleep_until(due) => {}
        () = Fine { at: due.into_std(), registered: false } => {
            // A paused test clock can be behind real time: its deadline has not come yet.
            if Instant::now() < due {
                tokio::time::sleep_until(due).await;
            }
        }
    }
}

/// The deadlines waited for, earliest first, and the condition their thread sleeps on.
struct Timer {
    due: Mutex<BinaryHeap<Reverse<Entry>>>,
    earlier: Condvar,
}

struct Entry {
    at: std::time::Instant,
    waker: Waker,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.at == other.at
    }
}

impl Eq for Entry {}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.at.cmp(&other.at)
    }
}

/// The process's deadlines.
static TIMER: Timer = Timer {
    due: Mutex::new(BinaryHeap::new()),
    earlier: Condvar::new(),
};

/// The process's timer, its thread started on first use; `None` when it could not be.
fn timer() -> Option<&'static Timer> {
    static STARTED: OnceLock<bool> = OnceLock::new();
    let started = *STARTED.get_or_init(|| {
        (std::thread::Builder::new().name("runner-timer".into()))
            .spawn(|| TIMER.run())
            .is_ok()
    });
    started.then_some(&TIMER)
}

impl Timer {
    fn run(&self) {
        let mut due = self.due.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            let now = std::time::Instant::now();
            match due.peek() {
                Some(Reverse(next)) if next.at <= now => {
                    let Some(Reverse(entry)) = due.pop() else { continue };
                    drop(due);
                    entry.waker.wake();
                    due = self.due.lock().unwrap_or_else(PoisonError::into_inner);
                }
                Some(Reverse(next)) => {
                    let wait = next.at - now;
                    due = (self.earlier.wait_timeout(due, wait))
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                }
                None => due = self.earlier.wait(due).unwrap_or_else(PoisonError::into_inner),
            }
        }
    }

    fn add(&self, entry: Entry) {
        let mut due = self.due.lock().unwrap_or_else(PoisonError::into_inner);
        let at = entry.at;
        due.push(Reverse(entry));
        // The thread sleeps to the earliest deadline; only a new earliest one changes that.
        if due.peek().is_some_and(|Reverse(first)| first.at == at) {
            self.earlier.notify_one();
        }
    }
}

/// Ready at `at` by the timer's thread; never, when there is no thread.
struct Fine {
    at: std::time::Instant,
    registered: bool,
}

impl Future for Fine {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if std::time::Instant::now() >= self.at {
            return Poll::Ready(());
        }
        // A task keeps its waker across polls, so one entry serves every poll; an entry left
        // behind by a dropped wait wakes its task once, which tasks allow.
        if !self.registered
            && let Some(timer) = timer()
        {
            timer.add(Entry {
                at: self.at,
                waker: cx.waker().clone(),
            });
            self.registered = true;
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn no_wait_ends_before_its_deadline() {
        let start = Instant::now();
        // Given latest first, so that each new deadline is the earliest and wakes the thread.
        let waits = (1..=20u64).rev().map(|i| {
            let due = start + Duration::from_micros(700 * i);
            tokio::spawn(async move {
                sleep_until(due).await;
                Instant::now() >= due
            })
        });
        for wait in waits.collect::<Vec<_>>() {
            assert!(wait.await.unwrap());
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_paused_clock_ends_the_wait_at_its_deadline_exactly() {
        let due = Instant::now() + Duration::from_secs(3600);
        sleep_until(due).await;
        assert_eq!(Instant::now(), due);
    }
}
