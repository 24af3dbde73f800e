//! The lab's own idle timeout. rmcp's is turned off: with it, an expired session would end the
//! same way as a deleted one, and its row could not say why it ended.

use std::sync::Arc;

use rmcp::transport::streamable_http_server::SessionManager;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use tokio_util::sync::CancellationToken;

use super::LabState;
use super::store::EndReason;

/// Every `cleanup_interval`, ends the sessions idle for longer than `session_timeout`, until
/// `stop` is cancelled. A session is therefore found expired between `session_timeout` and
/// `session_timeout + cleanup_interval` after its last activity.
pub async fn run(lab: Arc<LabState>, sessions: Arc<LocalSessionManager>, stop: CancellationToken) {
    let mut ticks = tokio::time::interval(lab.settings.cleanup_interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await;
    loop {
        tokio::select! {
            _ = ticks.tick() => sweep(&lab, &sessions).await,
            () = stop.cancelled() => return,
        }
    }
}

/// Ends every idle session: rmcp's first (later requests get 404), then its row.
async fn sweep(lab: &LabState, sessions: &LocalSessionManager) {
    for id in lab.tracker.expire(lab.settings.session_timeout) {
        if let Err(e) = sessions.close_session(&id.as_str().into()).await {
            lab.warn(format_args!("cannot end expired session {id}: {e}"));
        }
        lab.end(&id, EndReason::TimeoutNoActivity).await;
    }
}
