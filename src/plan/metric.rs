//! The metrics a threshold may name: `<subject>.<metric>`, where the subject is a step's or a
//! client group's name, or `mcp` for the scenario's MCP sessions, and the metric one of
//! [`CATALOGUE`]'s names for that kind of subject.
//!
//! A new metric is one row of the table (and the arm the executor's exhaustive match on
//! [`Measure`] then asks for); a new kind of subject is one variant of [`Of`], whose names the
//! compiler's resolution must learn.

use serde::{Deserialize, Serialize};

/// What a metric measures: its value's unit, and how a limit on it is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Milliseconds; a limit is a duration (`50ms`, `1.5s`).
    #[serde(rename = "ms")]
    Duration,
    /// Percent; a limit is a percentage (`1%`, `0.5%`).
    Percent,
    /// A whole number; a limit is one (`0`, `100`).
    Count,
}

/// One statistic of a histogram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stat {
    Min,
    P50,
    P90,
    P99,
    Max,
}

/// What is measured, of the subject the threshold names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// A step's latency over every answered request.
    Latency(Stat),
    /// A step's requests that got an answer.
    Requests,
    /// A step's runs that held.
    Passed,
    /// A step's runs that did not.
    Failed,
    /// A step's failed runs among its runs.
    ErrorRate,
    /// How late a fixed-rate loop's passes started, across every client.
    Lateness(Stat),
    /// A group's client instances that passed.
    ClientsPassed,
    /// A group's client instances that failed.
    ClientsFailed,
    /// An arrival group's arrivals in its schedule.
    Scheduled,
    /// An arrival group's arrivals that started an instance.
    Started,
    /// An arrival group's arrivals that came while `max_active` instances ran.
    Dropped,
    /// How late an arrival group's instances started.
    StartLateness(Stat),
    /// A count of the scenario's MCP sessions.
    Sessions(Sessions),
    /// How long the scenario's expired sessions had been idle when their 404 came.
    IdleToExpiry(Stat),
}

/// What is counted of the scenario's MCP sessions: those the clients opened on their
/// connections (an `initialize` the server gave a session id), not ids chosen with `session_id:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Sessions {
    Opened,
    /// Ended by a 404.
    Expired,
    /// Ended by a 400.
    Rejected,
    /// Opened again after a 404 (`on_expired: reinitialize`).
    Reinitialized,
    /// Ended by `close`.
    Closed,
    /// A `close` the server answered 405.
    TerminationRefused,
    /// Held when their client ended, or dropped by `forget` or a new `initialize`.
    LeftOpen,
    /// The most held at once.
    PeakActive,
}

/// The steps a step metric is measured on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Steps {
    /// Steps that send a request (MCP steps but `forget`, `http`, `sql`).
    Sending,
    /// Every step that is not a `group` or a `repeat`, whose nested steps count instead.
    Leaf,
    /// `repeat` loops with `every`.
    FixedRate,
}

/// The client groups a group metric is measured on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Groups {
    /// Every group.
    Any,
    /// Groups driven by `arrivals`.
    Arrivals,
}

/// What kind of subject a metric belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Of {
    Step(Steps),
    Group(Groups),
    /// The scenario's MCP sessions, named [`MCP_SUBJECT`].
    Mcp,
}

/// One metric of the catalogue.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    /// The name after the subject's: `latency.p99` in `echo.latency.p99`.
    pub name: &'static str,
    pub of: Of,
    pub measure: Measure,
    pub unit: Unit,
}

const fn entry(name: &'static str, of: Of, measure: Measure, unit: Unit) -> Entry {
    Entry {
        name,
        of,
        measure,
        unit,
    }
}

/// A count of the scenario's MCP sessions.
const fn session(name: &'static str, count: Sessions) -> Entry {
    entry(name, Mcp, Measure::Sessions(count), Count)
}

use Groups::{Any, Arrivals};
use Measure::{
    ClientsFailed, ClientsPassed, Dropped, ErrorRate, Failed, IdleToExpiry, Latency, Lateness, Passed, Requests,
    Scheduled, StartLateness, Started,
};
use Of::{Group, Mcp, Step};
use Steps::{FixedRate, Leaf, Sending};
use Unit::{Count, Duration, Percent};

/// Every metric a threshold may name.
pub const CATALOGUE: &[Entry] = &[
    entry("latency.min", Step(Sending), Latency(Stat::Min), Duration),
    entry("latency.p50", Step(Sending), Latency(Stat::P50), Duration),
    entry("latency.p90", Step(Sending), Latency(Stat::P90), Duration),
    entry("latency.p99", Step(Sending), Latency(Stat::P99), Duration),
    entry("latency.max", Step(Sending), Latency(Stat::Max), Duration),
    entry("requests", Step(Sending), Requests, Count),
    entry("passed", Step(Leaf), Passed, Count),
    entry("failed", Step(Leaf), Failed, Count),
    entry("errors.rate", Step(Leaf), ErrorRate, Percent),
    entry("lateness.min", Step(FixedRate), Lateness(Stat::Min), Duration),
    entry("lateness.p50", Step(FixedRate), Lateness(Stat::P50), Duration),
    entry("lateness.p90", Step(FixedRate), Lateness(Stat::P90), Duration),
    entry("lateness.p99", Step(FixedRate), Lateness(Stat::P99), Duration),
    entry("lateness.max", Step(FixedRate), Lateness(Stat::Max), Duration),
    entry("passed", Group(Any), ClientsPassed, Count),
    entry("failed", Group(Any), ClientsFailed, Count),
    entry("scheduled", Group(Arrivals), Scheduled, Count),
    entry("started", Group(Arrivals), Started, Count),
    entry("dropped", Group(Arrivals), Dropped, Count),
    entry("lateness.min", Group(Arrivals), StartLateness(Stat::Min), Duration),
    entry("lateness.p50", Group(Arrivals), StartLateness(Stat::P50), Duration),
    entry("lateness.p90", Group(Arrivals), StartLateness(Stat::P90), Duration),
    entry("lateness.p99", Group(Arrivals), StartLateness(Stat::P99), Duration),
    entry("lateness.max", Group(Arrivals), StartLateness(Stat::Max), Duration),
    session("sessions.opened", Sessions::Opened),
    session("sessions.expired", Sessions::Expired),
    session("sessions.rejected", Sessions::Rejected),
    session("sessions.reinitialized", Sessions::Reinitialized),
    session("sessions.closed", Sessions::Closed),
    session("sessions.termination_refused", Sessions::TerminationRefused),
    session("sessions.left_open", Sessions::LeftOpen),
    session("sessions.peak_active", Sessions::PeakActive),
    entry("sessions.idle_to_expiry.min", Mcp, IdleToExpiry(Stat::Min), Duration),
    entry("sessions.idle_to_expiry.p50", Mcp, IdleToExpiry(Stat::P50), Duration),
    entry("sessions.idle_to_expiry.p90", Mcp, IdleToExpiry(Stat::P90), Duration),
    entry("sessions.idle_to_expiry.p99", Mcp, IdleToExpiry(Stat::P99), Duration),
    entry("sessions.idle_to_expiry.max", Mcp, IdleToExpiry(Stat::Max), Duration),
];

/// The subject of the scenario's MCP session metrics (`mcp.sessions.expired`).
pub const MCP_SUBJECT: &str = "mcp";

/// Every way to read `name` as `<subject>.<entry>`: the subject before the dot, each entry
/// whose name ends `name`. Split from the right on the catalogue's names, so a subject may hold
/// dots and spaces of its own (`GET /v1.2/items.latency.p99`).
pub fn splits(name: &str) -> impl Iterator<Item = (&str, &'static Entry)> {
    CATALOGUE.iter().filter_map(move |entry| {
        let subject = name.strip_suffix(entry.name)?.strip_suffix('.')?;
        (!subject.is_empty()).then_some((subject, entry))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(name: &str) -> Vec<(&str, &'static str)> {
        splits(name).map(|(subject, entry)| (subject, entry.name)).collect()
    }

    #[test]
    fn names_split_from_the_right_on_the_catalogue() {
        assert_eq!(read("echo.latency.p99"), [("echo", "latency.p99")]);
        assert_eq!(
            read("GET /v1.2/items.errors.rate"),
            [("GET /v1.2/items", "errors.rate")]
        );
        assert_eq!(
            read("wait 1.5s.passed"),
            [("wait 1.5s", "passed"), ("wait 1.5s", "passed")]
        );
        assert!(read("latency.p99").is_empty());
        assert!(read(".latency.p99").is_empty());
        assert!(read("echo.latency").is_empty());
        assert!(read("echolatency.p99").is_empty());
        assert_eq!(read("mcp.sessions.expired"), [("mcp", "sessions.expired")]);
    }

    #[test]
    fn a_name_is_in_the_table_once_per_kind_of_subject() {
        for (i, a) in CATALOGUE.iter().enumerate() {
            for b in &CATALOGUE[i + 1..] {
                let same_kind = std::mem::discriminant(&a.of) == std::mem::discriminant(&b.of);
                assert!(!(a.name == b.name && same_kind), "{} twice", a.name);
            }
        }
    }
}
