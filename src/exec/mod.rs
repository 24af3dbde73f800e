//! The interpreter: `Plan` → one tokio task per client instance → results and events.
//!
//! Pass and fail are decided here; `report` only shows them.

mod attempt;
mod barriers;
mod client;
mod ctx;
mod databases;
mod error;
pub mod event;
mod kind;
pub mod latency;
mod result;
mod run;
mod scenario;
mod session;
mod shared;
mod step;
mod transcript;

pub use event::{Actor, Event, Exchange};
pub use result::{ClientResult, Iteration, Latency, ScenarioResult, Status, StepResult};
pub use run::Run;
pub use scenario::run_scenario;
pub use transcript::{FIRST_EXCHANGES, TranscriptMode};

#[cfg(test)]
mod tests;
