//! Which MCP sessions are live, when each was last active, and why the next one to close does.
//!
//! rmcp reports every end of a session the same way (`close_session`), whether a client sent
//! DELETE, the lab's reaper expired it, or the server is stopping. The tracker remembers which
//! it was, so that every row in the store gets the right reason, exactly once.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use super::store::EndReason;

/// The lab's live sessions.
#[derive(Debug, Default)]
pub struct Tracker(Mutex<State>);

#[derive(Debug, Default)]
struct State {
    /// Initialized sessions and when each was last active.
    live: HashMap<String, Instant>,
    /// `initialize` requests admitted and not yet answered.
    pending: usize,
    /// Sessions a client asked to DELETE.
    deleting: HashSet<String>,
    /// Requests being served, by session: a session with one in flight is not idle.
    in_flight: HashMap<String, usize>,
}

impl Tracker {
    fn state(&self) -> MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Admits one more `initialize` unless `max` sessions are live or being opened.
    pub fn admit(&self, max: Option<usize>) -> bool {
        let mut state = self.state();
        if max.is_some_and(|max| state.live.len() + state.pending >= max) {
            return false;
        }
        state.pending += 1;
        true
    }

    /// An admitted `initialize` has been answered (its session, if any, is live by now).
    pub fn answered(&self) {
        let mut state = self.state();
        state.pending = state.pending.saturating_sub(1);
    }

    /// A session finished its handshake.
    pub fn started(&self, id: &str) {
        self.state().live.insert(id.to_string(), Instant::now());
    }

    /// Activity on a session; false when it is not live (ended, or never initialized).
    pub fn touch(&self, id: &str) -> bool {
        match self.state().live.get_mut(id) {
            Some(seen) => {
                *seen = Instant::now();
                true
            }
            None => false,
        }
    }

    /// A request on the session begins: if the session is live, it stays active until
    /// [`Tracker::finished`] and this is true; otherwise nothing is counted and this is false.
    /// The check and the count are one step, so a sweep cannot end the session in between.
    pub fn begin(&self, id: &str) -> bool {
        let mut state = self.state();
        let Some(seen) = state.live.get_mut(id) else {
            return false;
        };
        *seen = Instant::now();
        *state.in_flight.entry(id.to_string()).or_default() += 1;
        true
    }

    /// A request that [`Tracker::begin`] counted has ended.
    pub fn finished(&self, id: &str) {
        let mut state = self.state();
        if let Some(seen) = state.live.get_mut(id) {
            *seen = Instant::now();
        }
        if let Some(count) = state.in_flight.get_mut(id) {
            *count -= 1;
            if *count == 0 {
                state.in_flight.remove(id);
            }
        }
    }

    /// A client sent DELETE for this session (ignored unless it is live).
    pub fn delete_requested(&self, id: &str) {
        let mut state = self.state();
        if state.live.contains_key(id) {
            state.deleting.insert(id.to_string());
        }
    }

    /// rmcp closed a session: it is no longer live, and this is why. `None` when the lab had
    /// already ended it (the reaper) or it never finished its handshake.
    pub fn closed(&self, id: &str) -> Option<EndReason> {
        let mut state = self.state();
        let deleted = state.deleting.remove(id);
        state.live.remove(id)?;
        // With rmcp's own idle timeout off and the reaper's sessions already gone from `live`,
        // an initialized session ends only by DELETE or because the server stops (or its worker
        // quit on its own, which is the server's doing too).
        Some(match deleted {
            true => EndReason::ClientDelete,
            false => EndReason::ServerShutdown,
        })
    }

    /// The server is stopping and has recorded every live session's end: rmcp's closing of them
    /// records nothing more.
    pub fn end_all(&self) {
        let mut state = self.state();
        state.live.clear();
        state.deleting.clear();
    }

    /// Takes every session idle for longer than `timeout`: they are no longer live.
    pub fn expire(&self, timeout: Duration) -> Vec<String> {
        let mut state = self.state();
        let now = Instant::now();
        let idle: Vec<String> = state
            .live
            .iter()
            .filter(|(id, seen)| now.duration_since(**seen) > timeout && !state.in_flight.contains_key(*id))
            .map(|(id, _)| id.clone())
            .collect();
        for id in &idle {
            state.live.remove(id);
        }
        idle
    }

    /// Whether `id` is a live session.
    pub fn is_live(&self, id: &str) -> bool {
        self.state().live.contains_key(id)
    }

    /// How many sessions are live.
    pub fn live(&self) -> usize {
        self.state().live.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_session_expires_only_after_a_whole_timeout_of_silence() {
        let tracker = Tracker::default();
        tracker.started("a");
        tracker.started("b");
        tokio::time::advance(Duration::from_secs(4)).await;
        assert!(tracker.touch("b"));
        tokio::time::advance(Duration::from_millis(1001)).await;
        assert_eq!(tracker.expire(Duration::from_secs(5)), ["a"]);
        assert!(!tracker.touch("a"), "an expired session is no longer live");
        assert_eq!(tracker.closed("a"), None, "rmcp's later close of it records nothing");
        // `b` was last active 1.001 s ago; 3 s more is still under its timeout.
        tokio::time::advance(Duration::from_secs(3)).await;
        assert!(tracker.expire(Duration::from_secs(5)).is_empty());
        assert_eq!(tracker.live(), 1);
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(tracker.expire(Duration::from_secs(5)), ["b"]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_in_flight_keeps_its_session() {
        let tracker = Tracker::default();
        tracker.started("a");
        assert!(tracker.begin("a"));
        assert!(!tracker.begin("never-initialized"));
        tokio::time::advance(Duration::from_secs(10)).await;
        assert!(tracker.expire(Duration::from_secs(5)).is_empty(), "busy, not idle");
        tracker.finished("a");
        tokio::time::advance(Duration::from_secs(5)).await;
        assert!(
            tracker.expire(Duration::from_secs(5)).is_empty(),
            "idle only since the answer"
        );
        tokio::time::advance(Duration::from_millis(1)).await;
        assert_eq!(tracker.expire(Duration::from_secs(5)), ["a"]);
    }

    #[test]
    fn each_close_has_its_reason_once() {
        let tracker = Tracker::default();
        for id in ["deleted", "stopped", "unknown"] {
            tracker.started(id);
        }
        tracker.delete_requested("deleted");
        assert_eq!(tracker.closed("deleted"), Some(EndReason::ClientDelete));
        assert_eq!(tracker.closed("deleted"), None);
        assert_eq!(tracker.closed("stopped"), Some(EndReason::ServerShutdown));
        assert_eq!(tracker.closed("never-initialized"), None);
        tracker.end_all();
        assert_eq!(tracker.closed("unknown"), None, "ended with the server");
        assert_eq!(tracker.live(), 0);
    }

    #[test]
    fn admission_counts_sessions_being_opened() {
        let tracker = Tracker::default();
        assert!(tracker.admit(Some(2)));
        assert!(tracker.admit(Some(2)));
        assert!(!tracker.admit(Some(2)), "two handshakes in flight fill two places");
        tracker.started("a");
        tracker.answered();
        assert!(!tracker.admit(Some(2)), "one live, one in flight");
        tracker.answered();
        assert!(tracker.admit(Some(2)), "the second handshake opened no session");
        assert!(tracker.admit(None));
    }
}
