//! The scenario language's data model: serde and JSON Schema types, nothing else.
//!
//! Every node that a diagnostic may point at is wrapped in [`Spanned`].

mod arrivals;
mod assertion;
mod connection;
mod entries;
pub(crate) mod located;
mod node;
mod scalars;
mod scenario;
mod spanned;
mod step;
mod step_key;
mod step_read;
mod step_schema;
mod threshold;

pub use arrivals::{Arrivals, RateText, Stage};
pub use assertion::{Assertion, AssertionKind};
pub use connection::{ClientInfo, Connection, HttpConnection, McpConnection, SqlConnection};
pub use entries::Entries;
pub use node::Node;
pub use scalars::{Count, DurationText, Name, Text};
pub use scenario::{ClientGroup, LabSettings, Scenario};
pub use spanned::Spanned;
pub use step::{HttpStep, InitializeStep, Repeat, Retry, Step, StepKind};
pub use threshold::Threshold;

/// The JSON Schema (draft 2020-12) of a scenario file, as `runner schema` prints it.
pub fn json_schema() -> serde_json::Value {
    let schema = schemars::generate::SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<Scenario>();
    schema.to_value()
}
