//! How a connection's own session counts in the scenario's session metrics: it becomes active
//! when a handshake gets an id, and each answer either keeps it active (and marks when it was
//! last answered) or ends it. Kept apart from sending, so that the rules read in one place.

use tokio::time::Instant;

use super::{Message, Verdict};
use crate::exec::metrics::Metrics;
use crate::exec::session::Connection;
use crate::exec::session_metrics::SessionEnd;

/// A handshake on `connection` opened a session (one with an id); a session it still held is
/// let go, as the server keeps it.
pub(super) fn opened(connection: &mut Connection, metrics: &Metrics) {
    if connection.client.session_id().is_none() {
        return;
    }
    if connection.active.replace(Instant::now()).is_some() {
        metrics.session_ended(SessionEnd::LeftOpen);
    }
    metrics.session_opened();
}

/// `message` on the connection's own session got an answer of `status` that says `verdict`.
pub(super) fn answered(
    connection: &mut Connection,
    metrics: &Metrics,
    message: &Message,
    status: u16,
    verdict: Option<Verdict>,
) {
    let Some(last) = connection.active else {
        return;
    };
    let end = match verdict {
        Some(Verdict::Expired) => SessionEnd::Expired { idle: last.elapsed() },
        Some(Verdict::Rejected) => SessionEnd::Rejected,
        Some(Verdict::TerminationRefused) => {
            metrics.termination_refused();
            connection.active = Some(Instant::now());
            return;
        }
        None if matches!(message, Message::Close) && (200..300).contains(&status) => SessionEnd::Closed,
        None => {
            connection.active = Some(Instant::now());
            return;
        }
    };
    connection.active = None;
    metrics.session_ended(end);
}

/// The client lets go of `connections` (`forget`, or its end) without telling the server.
pub fn left<'c>(connections: impl IntoIterator<Item = &'c Connection>, metrics: &Metrics) {
    for connection in connections {
        if connection.active.is_some() {
            metrics.session_ended(SessionEnd::LeftOpen);
        }
    }
}
