//! A scenario's MCP sessions, counted as its clients open and end them: the sessions a client
//! holds on its connections (an `initialize` the server gave an id), not ids a step chose with
//! `session_id:`, which are not the client's to count. A session is active from its handshake
//! until a `close` ends it, a 404 or 400 answers it, or its client lets it go (`forget`, another
//! `initialize` on the connection, or the client's end).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::latency::{Samples, latency_with, micros};
use super::result::Latency;
use super::series::{Second, point_at};

/// How a session stopped being active.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEnd {
    /// `close` was answered 2xx.
    Closed,
    /// The server answered 404, `idle` after the session's last answered request.
    Expired { idle: Duration },
    /// The server answered 400.
    Rejected,
    /// The client let it go without a word from the server.
    LeftOpen,
}

/// The counts so far, and one point per second in which a session opened or ended.
#[derive(Debug, Default)]
pub(super) struct SessionTally {
    report: SessionMetrics,
    idle_to_expiry: Samples,
}

/// What `report.json` says of the scenario's MCP sessions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionMetrics {
    pub opened: u64,
    pub expired: u64,
    pub rejected: u64,
    /// Opened again after a 404 (`on_expired: reinitialize`); each also counts as opened.
    pub reinitialized: u64,
    pub closed: u64,
    /// `close` answered 405: the session stays active.
    pub termination_refused: u64,
    pub left_open: u64,
    /// Held right now; once every client has ended, none (each let go of its own).
    pub active: u64,
    pub peak_active: u64,
    /// How long expired sessions had been idle when the 404 came.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_to_expiry: Option<Latency>,
    /// One point per second in which a session opened or ended; in a second left out, the
    /// active count stayed as the point before says.
    pub series: Vec<SessionPoint>,
}

/// One second of the session series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionPoint {
    /// Seconds from the scenario's start.
    pub second: u64,
    pub opened: u64,
    pub ended: u64,
    /// Active at the end of the second.
    pub active: u64,
}

impl SessionTally {
    pub(super) fn opened(&mut self, second: u64) {
        let report = &mut self.report;
        report.opened += 1;
        report.active += 1;
        report.peak_active = report.peak_active.max(report.active);
        self.point(second).opened += 1;
    }

    pub(super) fn ended(&mut self, second: u64, end: SessionEnd) {
        let report = &mut self.report;
        match end {
            SessionEnd::Closed => report.closed += 1,
            SessionEnd::Expired { idle } => {
                report.expired += 1;
                self.idle_to_expiry.record(micros(idle));
            }
            SessionEnd::Rejected => report.rejected += 1,
            SessionEnd::LeftOpen => report.left_open += 1,
        }
        self.report.active = self.report.active.saturating_sub(1);
        self.point(second).ended += 1;
    }

    pub(super) fn reinitialized(&mut self) {
        self.report.reinitialized += 1;
    }

    pub(super) fn termination_refused(&mut self) {
        self.report.termination_refused += 1;
    }

    /// The sessions held now; none before the first one opened.
    pub(super) fn active(&self) -> Option<u64> {
        (self.report.opened > 0).then_some(self.report.active)
    }

    pub(super) fn report(&self, whole: bool) -> SessionMetrics {
        SessionMetrics {
            idle_to_expiry: latency_with(&self.idle_to_expiry.histogram(), whole),
            ..self.report.clone()
        }
    }

    /// The point of `second`, the last one or a new one after it, holding the active count.
    fn point(&mut self, second: u64) -> &mut SessionPoint {
        let active = self.report.active;
        let point = point_at(&mut self.report.series, second, || SessionPoint {
            second,
            opened: 0,
            ended: 0,
            active,
        });
        point.active = active;
        point
    }
}

impl Second for SessionPoint {
    fn second(&self) -> u64 {
        self.second
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_active_and_a_point_per_busy_second() {
        let mut tally = SessionTally::default();
        tally.opened(0);
        tally.opened(0);
        tally.opened(1);
        tally.ended(1, SessionEnd::Closed);
        tally.termination_refused();
        tally.ended(
            4,
            SessionEnd::Expired {
                idle: Duration::from_millis(1500),
            },
        );
        tally.reinitialized();
        tally.opened(4);
        tally.ended(6, SessionEnd::LeftOpen);
        tally.ended(6, SessionEnd::Rejected);
        let report = tally.report(false);
        let counts = (
            report.opened,
            report.closed,
            report.expired,
            report.rejected,
            report.left_open,
            report.reinitialized,
            report.termination_refused,
        );
        assert_eq!(counts, (4, 1, 1, 1, 1, 1, 1));
        assert_eq!((report.active, report.peak_active), (0, 3));
        let points: Vec<_> = (report.series.iter())
            .map(|p| (p.second, p.opened, p.ended, p.active))
            .collect();
        assert_eq!(points, [(0, 2, 0, 2), (1, 1, 1, 2), (4, 1, 1, 2), (6, 0, 2, 0)]);
        let idle = report.idle_to_expiry.unwrap();
        assert_eq!(idle.count, 1);
        assert!((idle.max_ms - 1500.0).abs() < 15.0, "{idle:?}");
    }
}
