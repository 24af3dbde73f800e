//! The session timeline of `report.html`: one lane per MCP session across the run's time axis,
//! from its handshake to its end, with its calls and the SQL checks that named it; or, in a run
//! that opened no session, one lane per client instance with its steps.

use serde::Serialize;

use super::chart::{Px, Scale, Tick, ms_label};
use crate::exec::{ClientResult, Lane, LaneEnd, MAX_LANES, Mark, MarkKind, ScenarioResult, Status};

/// Where the lanes start (their labels are on the left) and how wide the time axis is.
const LABEL_WIDTH: f64 = 190.0;
const AXIS_WIDTH: f64 = 880.0;
const LANE_HEIGHT: f64 = 10.0;
const LANE_GAP: f64 = 4.0;
/// Room above the lanes for the time axis's labels.
const TOP: f64 = 18.0;

#[derive(Debug, Serialize)]
pub struct Timeline {
    /// `session` or `client`: what a lane stands for.
    pub per: &'static str,
    pub width: Px,
    pub height: Px,
    pub left: Px,
    pub lanes: Vec<LaneView>,
    pub ticks: Vec<Tick>,
    /// Lanes drawn, and what they were drawn from.
    pub drawn: usize,
    pub total: u64,
    /// Says how the lanes were sampled, when not all are drawn.
    pub sampled: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct LaneView {
    pub y: Px,
    /// The session's id; none on a client's lane.
    pub session_id: Option<String>,
    pub client: String,
    pub label: String,
    pub x: Px,
    pub width: Px,
    /// How it ended, as a class of the page's style: `closed`, `expired`, `rejected`,
    /// `left_open`, `open`; on a client's lane `passed`, `failed`, `interrupted`.
    pub end: &'static str,
    /// Opened again after a 404 ended the client's session before it.
    pub again: bool,
    pub title: String,
    pub marks: Vec<MarkView>,
}

#[derive(Debug, Serialize)]
pub struct MarkView {
    pub x: Px,
    /// `call`, `check`, with ` failed` when the step failed.
    pub class: String,
    /// An SQL check, drawn the lane's full height.
    pub check: bool,
    pub title: String,
}

/// The timeline of `result`: its sessions' lanes, or its clients' when it opened none.
pub fn timeline(result: &ScenarioResult) -> Option<Timeline> {
    let axis = Scale::new((0.0, result.elapsed_ms), (LABEL_WIDTH, LABEL_WIDTH + AXIS_WIDTH));
    let (per, lanes, total, sampled) = if result.timeline.is_empty() {
        let (lanes, total, sampled) = client_lanes(result, &axis);
        ("client", lanes, total, sampled)
    } else {
        let timeline = &result.timeline;
        let lanes = (timeline.lanes.iter().enumerate())
            .map(|(row, lane)| session_lane(row, lane, &axis, result.elapsed_ms))
            .collect();
        let sampled = (timeline.every > 1).then(|| {
            format!(
                "every {} session opened is drawn, so that the page stays light: a lane is kept for at most {MAX_LANES}",
                ordinal(timeline.every)
            )
        });
        ("session", lanes, timeline.sessions, sampled)
    };
    if lanes.is_empty() {
        return None;
    }
    let drawn = lanes.len();
    Some(Timeline {
        per,
        width: Px(LABEL_WIDTH + AXIS_WIDTH + 10.0),
        height: Px(row_y(drawn) + LANE_GAP),
        left: Px(LABEL_WIDTH),
        ticks: axis.ticks(10, ms_label),
        lanes,
        drawn,
        total,
        sampled,
    })
}

fn row_y(row: usize) -> f64 {
    TOP + row as f64 * (LANE_HEIGHT + LANE_GAP)
}

fn session_lane(row: usize, lane: &Lane, axis: &Scale, run_ms: f64) -> LaneView {
    let ended = lane.ended_ms.unwrap_or(run_ms);
    let (x, to) = (axis.at(lane.opened_ms), axis.at(ended));
    let end = match lane.end {
        Some(LaneEnd::Closed) => "closed",
        Some(LaneEnd::Expired) => "expired",
        Some(LaneEnd::Rejected) => "rejected",
        Some(LaneEnd::LeftOpen) => "left_open",
        None => "open",
    };
    let mut title = format!(
        "session {} of {}{}: {} to {}, {}",
        lane.session_id,
        lane.client,
        if lane.reinitialized {
            " (opened again after a 404)"
        } else {
            ""
        },
        seconds(lane.opened_ms),
        seconds(ended),
        end.replace('_', " "),
    );
    if lane.omitted > 0 {
        let failed = lane.omitted_failed;
        title += &format!("; {} more steps not drawn, {failed} of them failed", lane.omitted);
    }
    LaneView {
        y: Px(row_y(row)),
        session_id: Some(lane.session_id.clone()),
        client: lane.client.clone(),
        label: format!("{} {}", lane.client, short(&lane.session_id)),
        x,
        width: Px((to.0 - x.0).max(1.0)),
        end,
        again: lane.reinitialized,
        title,
        marks: lane.marks.iter().map(|mark| session_mark(mark, axis)).collect(),
    }
}

fn session_mark(mark: &Mark, axis: &Scale) -> MarkView {
    let kind = match mark.kind {
        MarkKind::Call => "call",
        MarkKind::Check => "check",
    };
    mark_view(axis.at(mark.ms), kind, mark.failed, &mark.step, mark.ms)
}

fn mark_view(x: Px, kind: &str, failed: bool, step: &str, ms: f64) -> MarkView {
    let verdict = if failed { ", failed" } else { "" };
    MarkView {
        x,
        class: if failed {
            format!("{kind} failed")
        } else {
            kind.to_string()
        },
        check: kind == "check",
        title: format!("{step} at {}{verdict}", seconds(ms)),
    }
}

/// A lane per client instance kept in the results (every `every`-th, past [`MAX_LANES`]), with
/// a mark per step of its own list.
fn client_lanes(result: &ScenarioResult, axis: &Scale) -> (Vec<LaneView>, u64, Option<String>) {
    let arrivals = result.arrivals.iter().flat_map(|a| &a.instances);
    let clients: Vec<&ClientResult> = result.clients.iter().chain(arrivals).collect();
    let every = clients.len().div_ceil(MAX_LANES).max(1);
    let lanes = (clients.iter().step_by(every).enumerate())
        .map(|(row, client)| client_lane(row, client, axis))
        .collect();
    let started: u64 = result.arrivals.iter().map(|a| a.started).sum();
    let total = result.clients.len() as u64 + started;
    let mut notes = Vec::new();
    if every > 1 {
        notes.push(format!(
            "every {} client is drawn, so that the page stays light",
            ordinal(every as u64)
        ));
    }
    if clients.len() as u64 != total {
        notes.push(format!(
            "{} arrivals are counted but not kept in full (see `--record`)",
            total - clients.len() as u64
        ));
    }
    (lanes, total, (!notes.is_empty()).then(|| notes.join("; ")))
}

fn client_lane(row: usize, client: &ClientResult, axis: &Scale) -> LaneView {
    let name = format!("{}#{}", client.group, client.client_id);
    let (x, to) = (axis.at(client.start_ms), axis.at(client.start_ms + client.elapsed_ms));
    let end = match client.status {
        Status::Passed => "passed",
        Status::Failed => "failed",
        Status::Interrupted => "interrupted",
    };
    let marks = (client.steps.iter())
        .map(|step| {
            let ms = client.start_ms + step.started_ms;
            mark_view(axis.at(ms), "call", step.status.failed(), &step.name, ms)
        })
        .collect();
    LaneView {
        y: Px(row_y(row)),
        session_id: None,
        title: format!(
            "{name}: {} to {}, {end}",
            seconds(client.start_ms),
            seconds(client.start_ms + client.elapsed_ms)
        ),
        label: name.clone(),
        client: name,
        x,
        width: Px((to.0 - x.0).max(1.0)),
        end,
        again: false,
        marks,
    }
}

fn seconds(ms: f64) -> String {
    format!("{:.3}s", ms / 1000.0)
}

/// The first 8 characters of a session id, which tell lanes apart; the whole id is in the
/// lane's title and `data-session-id`.
fn short(id: &str) -> String {
    match id.char_indices().nth(8) {
        Some((end, _)) => format!("{}…", &id[..end]),
        None => id.to_string(),
    }
}

/// `2nd`, `32nd`, `64th`.
fn ordinal(n: u64) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinals_and_short_ids_read_naturally() {
        assert_eq!([2, 3, 11, 32, 64].map(ordinal), ["2nd", "3rd", "11th", "32nd", "64th"]);
        assert_eq!(short("0123456789abcdef"), "01234567…");
        assert_eq!(short("abc"), "abc");
    }
}
