//! The interpreter: `Plan` → one tokio task per client instance → results and events.
//!
//! Pass and fail are decided here; `report` only shows them.

mod abort;
mod arrivals;
mod attempt;
mod barriers;
mod client;
mod ctx;
mod databases;
mod error;
pub mod event;
mod kind;
mod latency;
mod live;
mod metrics;
mod record;
mod result;
mod run;
mod scenario;
mod scope;
mod series;
mod session;
mod session_metrics;
mod shard;
mod shared;
mod step;
mod thresholds;
mod timeline;
mod timer;
mod transcript;
mod window;

pub use event::{Actor, Event, Exchange};
pub use latency::{decoded as decoded_histogram, latency_with};
pub use metrics::{ArrivalMetrics, GroupMetrics, MetricsReport, Point, StepMetrics};
pub use record::Record;
pub use result::{
    ArrivalPoint, ArrivalsResult, ClientResult, Iteration, Latency, Passes, ScenarioResult, Spread, Status, StepResult,
};
pub use run::Run;
pub use scenario::run_scenario;
pub use session_metrics::{SessionMetrics, SessionPoint};
pub use shard::{Shard, ShardError};
pub use thresholds::{ThresholdResult, judge_at_end};
pub use timeline::{Lane, LaneEnd, MAX_LANES, MAX_MARKS, Mark, MarkKind, TimelineReport};
pub use transcript::{FIRST_EXCHANGES, TranscriptMode};

#[cfg(test)]
mod tests;
