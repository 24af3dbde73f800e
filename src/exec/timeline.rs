//! The session timeline that `report.html` draws: one lane per MCP session the clients opened,
//! from its handshake to its end, with a mark for each step sent on it and for each SQL step
//! whose parameters or rows named it.
//!
//! Memory is fixed however long a run goes: at most [`MAX_LANES`] lanes are kept, every
//! `every`-th session opened (`every` doubles, dropping every other lane kept, each time the
//! lanes fill up, so the sample spans the whole run), and each lane keeps its first
//! [`MAX_MARKS`] marks and counts the rest.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::session_metrics::SessionEnd;

pub const MAX_LANES: usize = 512;
pub const MAX_MARKS: usize = 64;

/// The lanes kept so far.
#[derive(Debug)]
pub(super) struct Timeline {
    /// Sessions opened: the next one's number.
    opened: u64,
    every: u64,
    /// By number, which is the order they opened in.
    lanes: Vec<Lane>,
    /// The kept lanes' session ids, for the SQL steps that name them.
    ids: HashMap<Box<str>, u64>,
}

/// What `report.json` keeps of the timeline (`timeline`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TimelineReport {
    /// Every session the clients opened, drawn or not.
    pub sessions: u64,
    /// Lanes hold every `every`-th session opened (1: all of them).
    pub every: u64,
    pub lanes: Vec<Lane>,
}

impl TimelineReport {
    /// True when no client opened a session.
    pub fn is_empty(&self) -> bool {
        self.sessions == 0
    }
}

/// One session, from its handshake.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lane {
    /// The order it opened in, from 0.
    pub n: u64,
    pub session_id: String,
    /// `group#id` of the client that held it.
    pub client: String,
    /// Milliseconds from the scenario's start.
    pub opened_ms: f64,
    /// Opened again after the server dropped the client's session before it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reinitialized: bool,
    /// Absent while the session was still held (a run stopped short).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<LaneEnd>,
    pub marks: Vec<Mark>,
    /// Marks past [`MAX_MARKS`], counted only; and how many of them failed.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub omitted: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub omitted_failed: u64,
}

/// How a lane ends: as [`SessionEnd`] says, without its figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LaneEnd {
    Closed,
    Expired,
    Rejected,
    LeftOpen,
}

/// A step on a lane's session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mark {
    /// When the step started, in milliseconds from the scenario's start.
    pub ms: f64,
    pub step: String,
    pub kind: MarkKind,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub failed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MarkKind {
    /// A step sent on the session.
    Call,
    /// An SQL step whose parameters or rows held the session's id.
    Check,
}

impl From<SessionEnd> for LaneEnd {
    fn from(end: SessionEnd) -> Self {
        match end {
            SessionEnd::Closed => LaneEnd::Closed,
            SessionEnd::Expired { .. } => LaneEnd::Expired,
            SessionEnd::Rejected => LaneEnd::Rejected,
            SessionEnd::LeftOpen => LaneEnd::LeftOpen,
        }
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Default for Timeline {
    fn default() -> Self {
        Self {
            opened: 0,
            every: 1,
            lanes: Vec::new(),
            ids: HashMap::new(),
        }
    }
}

impl Timeline {
    /// Session `id` of client `group#client_id` opened at `ms`; its number.
    pub(super) fn opened(&mut self, id: &str, client: (&str, u64), ms: f64, reinitialized: bool) -> u64 {
        let n = self.opened;
        self.opened += 1;
        if !n.is_multiple_of(self.every) {
            return n;
        }
        if self.lanes.len() == MAX_LANES {
            self.every *= 2;
            let every = self.every;
            self.lanes.retain(|lane| lane.n.is_multiple_of(every));
            self.ids.retain(|_, n| n.is_multiple_of(every));
            if !n.is_multiple_of(every) {
                return n;
            }
        }
        self.ids.insert(id.into(), n);
        self.lanes.push(Lane {
            n,
            session_id: id.to_string(),
            client: format!("{}#{}", client.0, client.1),
            opened_ms: ms,
            reinitialized,
            ended_ms: None,
            end: None,
            marks: Vec::new(),
            omitted: 0,
            omitted_failed: 0,
        });
        n
    }

    /// Session `n` stopped being active at `ms`.
    pub(super) fn ended(&mut self, n: u64, end: SessionEnd, ms: f64) {
        if let Some(lane) = self.lane(n) {
            lane.ended_ms = Some(ms);
            lane.end = Some(end.into());
        }
    }

    /// Step `step`, started at `ms`, went to session `n`.
    pub(super) fn marked(&mut self, n: u64, step: &str, kind: MarkKind, ms: f64, failed: bool) {
        let Some(lane) = self.lane(n) else {
            return;
        };
        if lane.marks.len() < MAX_MARKS {
            let step = step.to_string();
            lane.marks.push(Mark { ms, step, kind, failed });
        } else {
            lane.omitted += 1;
            lane.omitted_failed += u64::from(failed);
        }
    }

    /// The kept sessions whose ids appear as a string in `values`, each once, in order.
    pub(super) fn named_in<'v>(&self, values: impl IntoIterator<Item = &'v Value>) -> Vec<u64> {
        let mut found = Vec::new();
        if self.ids.is_empty() {
            return found;
        }
        let mut stack: Vec<&Value> = values.into_iter().collect();
        while let Some(value) = stack.pop() {
            match value {
                Value::String(text) => {
                    if let Some(&n) = self.ids.get(text.as_str())
                        && !found.contains(&n)
                    {
                        found.push(n);
                    }
                }
                Value::Array(items) => stack.extend(items),
                Value::Object(fields) => stack.extend(fields.values()),
                _ => {}
            }
        }
        found.sort_unstable();
        found
    }

    pub(super) fn report(&self) -> TimelineReport {
        TimelineReport {
            sessions: self.opened,
            every: self.every,
            lanes: self.lanes.clone(),
        }
    }

    fn lane(&mut self, n: u64) -> Option<&mut Lane> {
        let index = self.lanes.binary_search_by_key(&n, |lane| lane.n).ok()?;
        Some(&mut self.lanes[index])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_lane_runs_from_its_handshake_to_its_end_with_its_marks() {
        let mut timeline = Timeline::default();
        let n = timeline.opened("s1", ("users", 2), 10.0, false);
        timeline.marked(n, "call echo", MarkKind::Call, 20.0, false);
        timeline.marked(n, "call echo", MarkKind::Call, 30.0, true);
        timeline.ended(n, SessionEnd::Closed, 40.0);
        let report = timeline.report();
        assert_eq!((report.sessions, report.every), (1, 1));
        let lane = &report.lanes[0];
        assert_eq!(
            (lane.client.as_str(), lane.opened_ms, lane.ended_ms),
            ("users#2", 10.0, Some(40.0))
        );
        assert_eq!(lane.end, Some(LaneEnd::Closed));
        let marks: Vec<_> = lane.marks.iter().map(|m| (m.ms, m.failed)).collect();
        assert_eq!(marks, [(20.0, false), (30.0, true)]);
    }

    #[test]
    fn past_the_lane_limit_it_keeps_an_even_sample_of_the_whole_run() {
        let mut timeline = Timeline::default();
        let total = MAX_LANES as u64 * 5;
        for n in 0..total {
            let id = format!("s{n}");
            assert_eq!(timeline.opened(&id, ("g", 1), n as f64, false), n);
        }
        let report = timeline.report();
        assert_eq!((report.sessions, report.every), (total, 8));
        assert!(report.lanes.len() <= MAX_LANES && report.lanes.len() > MAX_LANES / 2);
        assert!(report.lanes.iter().all(|lane| lane.n.is_multiple_of(8)));
        assert_eq!(
            report.lanes.last().unwrap().n,
            total - 8,
            "the sample reaches the run's end"
        );
        assert_eq!(
            timeline.named_in([&json!("s8"), &json!("s9")]),
            [8],
            "a dropped lane is not found"
        );
    }

    #[test]
    fn a_lane_counts_the_marks_past_its_limit() {
        let mut timeline = Timeline::default();
        let n = timeline.opened("s", ("g", 1), 0.0, false);
        for i in 0..MAX_MARKS + 3 {
            timeline.marked(n, "ping", MarkKind::Call, i as f64, i == MAX_MARKS + 1);
        }
        let lane = &timeline.report().lanes[0];
        assert_eq!((lane.marks.len(), lane.omitted, lane.omitted_failed), (MAX_MARKS, 3, 1));
    }

    #[test]
    fn an_sql_step_names_the_sessions_whose_ids_its_values_hold() {
        let mut timeline = Timeline::default();
        for id in ["a", "b", "c"] {
            timeline.opened(id, ("g", 1), 0.0, false);
        }
        let rows = json!([{ "id": "c", "n": 1 }, { "id": "a" }, { "note": "c" }]);
        assert_eq!(timeline.named_in([&json!("b"), &rows]), [0, 1, 2]);
        assert!(timeline.named_in([&json!("z"), &json!(["x"])]).is_empty());
    }
}
