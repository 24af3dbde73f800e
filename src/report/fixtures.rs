//! Results and events for the report tests.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use serde_json::{Map, json};

use crate::exec::event::{Actor, Event, Live, Position};
use crate::exec::{ClientResult, ScenarioResult, Status, StepResult};
use crate::source::Pos;

/// A client instance of `group` that ended with `status`.
pub(crate) fn client(client_id: u64, group: &str, status: Status, error: Option<&str>) -> ClientResult {
    ClientResult {
        client_id,
        group: group.into(),
        index: client_id - 1,
        status,
        success: status.passed(),
        session_id: Some("s-1".into()),
        session_ids: vec!["s-1".into()],
        reinitialized: 0,
        started_at: Utc.with_ymd_and_hms(2025, 3, 4, 5, 6, 7).unwrap(),
        start_ms: 0.0,
        elapsed_ms: 12.5,
        error: error.map(Into::into),
        vars: Map::new(),
        counts: BTreeMap::from([("call heartbeat".to_string(), 3)]),
        record: Map::from_iter([("heartbeats_sent".to_string(), json!(3))]),
        steps: Vec::new(),
    }
}

/// A scenario that passed when every client did.
pub(crate) fn scenario(name: &str, clients: Vec<ClientResult>) -> ScenarioResult {
    let status = if clients.iter().all(|c| c.status.passed()) {
        Status::Passed
    } else {
        Status::Failed
    };
    ScenarioResult {
        name: name.into(),
        path: PathBuf::from(format!("scenarios/{name}.yaml")),
        status,
        error: None,
        started_at: Utc.with_ymd_and_hms(2025, 3, 4, 5, 6, 7).unwrap(),
        elapsed_ms: 1500.0,
        assertions_run: 4,
        before: Vec::new(),
        clients,
        arrivals: Vec::new(),
        after: Vec::new(),
        latency: BTreeMap::new(),
        metrics: Default::default(),
        thresholds: Vec::new(),
        timeline: Default::default(),
        shard: None,
    }
}

/// A step that ended with `status`.
pub(crate) fn step(name: &str, status: Status, error: Option<&str>) -> StepResult {
    StepResult {
        name: name.into(),
        kind: crate::kind::Kind::Sql,
        at: Pos {
            line: 3,
            col: 5,
            offset: 40,
        },
        status,
        started_ms: 0.0,
        elapsed_ms: 2.0,
        attempts: 1,
        time_to_success_ms: None,
        error: error.map(Into::into),
        result: None,
        assertions: Vec::new(),
        steps: Vec::new(),
        iterations: Vec::new(),
        passes: None,
    }
}

pub(crate) fn actor(scenario: &str, group: &str, client_id: u64) -> Actor {
    Actor {
        scenario: scenario.into(),
        group: group.into(),
        client_id,
    }
}

pub(crate) fn started(scenario: &str, groups: &[(&str, u64)]) -> Event {
    Event::ScenarioStarted {
        scenario: scenario.into(),
        groups: groups.iter().map(|(g, n)| (Arc::from(*g), *n)).collect(),
    }
}

pub(crate) fn step_started(scenario: &str, group: &str, client_id: u64, step: &str) -> Event {
    step_at(scenario, group, client_id, step, Position::default())
}

/// A step of a client of `group` started at `at` in its steps.
pub(crate) fn step_at(scenario: &str, group: &str, client_id: u64, step: &str, at: Position) -> Event {
    Event::StepStarted {
        actor: actor(scenario, group, client_id),
        step: step.into(),
        at,
    }
}

pub(crate) fn live(scenario: &str, figures: Live) -> Event {
    Event::Live {
        scenario: scenario.into(),
        figures,
    }
}

pub(crate) fn dropped(scenario: &str, group: &str) -> Event {
    Event::Dropped {
        scenario: scenario.into(),
        group: group.into(),
    }
}

pub(crate) fn client_finished(scenario: &str, group: &str, client_id: u64, passed: bool) -> Event {
    Event::ClientFinished {
        actor: actor(scenario, group, client_id),
        passed,
    }
}

pub(crate) fn finished(scenario: &str, passed: bool) -> Event {
    Event::ScenarioFinished {
        scenario: scenario.into(),
        passed,
    }
}
