//! How a connection's own session counts in the scenario's session metrics and timeline: it
//! becomes active when a handshake gets an id, and each answer either keeps it active (and marks
//! when it was last answered) or ends it. Kept apart from sending, so that the rules read in one
//! place.

use tokio::time::Instant;

use super::{Message, Verdict};
use crate::exec::event::Actor;
use crate::exec::metrics::Metrics;
use crate::exec::session::Connection;
use crate::exec::session_metrics::SessionEnd;

/// A handshake of `client` on `connection` opened a session (one with an id), `again` after the
/// server dropped the one before; a session it still held is let go, as the server keeps it.
pub(super) fn opened(connection: &mut Connection, metrics: &Metrics, client: &Actor, again: bool) {
    let Some(id) = connection.client.session_id() else {
        return;
    };
    let lane = metrics.session_opened(id, (&client.group, client.client_id), again);
    if let (Some(_), Some(before)) = (connection.active.replace(Instant::now()), connection.lane) {
        metrics.session_ended(before, SessionEnd::LeftOpen);
    }
    connection.lane = Some(lane);
}

/// `message` on the connection's own session got an answer of `status` that says `verdict`.
pub(super) fn answered(
    connection: &mut Connection,
    metrics: &Metrics,
    message: &Message,
    status: u16,
    verdict: Option<Verdict>,
) {
    let (Some(last), Some(lane)) = (connection.active, connection.lane) else {
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
    metrics.session_ended(lane, end);
}

/// The client lets go of `connections` (`forget`, or its end) without telling the server.
pub fn left<'c>(connections: impl IntoIterator<Item = &'c Connection>, metrics: &Metrics) {
    for connection in connections {
        if let (Some(_), Some(lane)) = (connection.active, connection.lane) {
            metrics.session_ended(lane, SessionEnd::LeftOpen);
        }
    }
}
