//! `runner`: declarative YAML scenarios for MCP servers, HTTP services and their databases.
//!
//! The pipeline: [`load`] reads files into [`spec::Scenario`]s, [`compile`] turns each into an
//! immutable [`plan::Plan`], and the executor runs a plan; [`report`] shows what happened. A
//! [`suite`] runs the plans of one run and writes each one's results.

// Every line the runner prints goes through `report::console`, which masks secrets and escapes
// terminal controls; a stray `println!` would bypass both.
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod assert;
pub mod cli;
pub mod compile;
pub mod count;
pub mod diagnostic;
pub mod duration_text;
pub mod exec;
pub mod json;
pub mod kind;
#[allow(
    clippy::print_stderr,
    reason = "the reference server's own log lines, about its own state"
)]
pub mod lab;
pub mod load;
pub mod mask;
pub mod mcp_options;
pub mod operator;
pub mod plan;
pub mod proto;
pub mod report;
pub mod source;
pub mod spec;
mod suggest;
pub mod suite;
