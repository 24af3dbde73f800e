//! The lab's HTTP API: what the store knows about sessions, for scenarios' `http` steps.
//!
//! - `GET /health`: the lab is up.
//! - `GET /api/mcp/sessions/health`: counts, idle-age buckets, rates and recent activity.
//! - `GET /api/mcp/sessions[?status=active|disconnected]`: the sessions, newest first.
//! - `GET /api/mcp/sessions/{id}`: one session and its requests; 404 if unknown.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::LabState;
use super::store::{SessionRow, SessionStatus};

/// How many sessions `recent_activity` lists.
const RECENT: usize = 10;

/// The API's routes.
pub fn routes() -> axum::Router<Arc<LabState>> {
    axum::Router::new()
        .route("/health", get(health))
        .route("/api/mcp/sessions/health", get(sessions_health))
        .route("/api/mcp/sessions", get(sessions))
        .route("/api/mcp/sessions/{id}", get(session))
}

async fn health(State(lab): State<Arc<LabState>>) -> Json<Value> {
    Json(json!({
        "status": "ok",
        "store": lab.store.backend().to_string(),
        "live_sessions": lab.tracker.live(),
        "session_timeout_seconds": lab.settings.session_timeout.as_secs_f64(),
        "cleanup_interval_seconds": lab.settings.cleanup_interval.as_secs_f64(),
        "timestamp": timestamp(Utc::now()),
    }))
}

#[derive(Debug, Deserialize)]
struct Filter {
    status: Option<String>,
}

async fn sessions(State(lab): State<Arc<LabState>>, Query(filter): Query<Filter>) -> Response {
    let status = match filter.status.as_deref().map(str::parse::<SessionStatus>) {
        None => None,
        Some(Ok(status)) => Some(status),
        Some(Err(_)) => {
            return problem(
                StatusCode::BAD_REQUEST,
                "`status` must be `active` or `disconnected`".into(),
            );
        }
    };
    match lab.store.sessions(status).await {
        Ok(rows) => Json(rows).into_response(),
        Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

async fn session(State(lab): State<Arc<LabState>>, Path(id): Path<String>) -> Response {
    match lab.store.session(&id).await {
        Ok(Some((row, requests))) => {
            let mut body = serde_json::to_value(row).unwrap_or_default();
            body["requests"] = serde_json::to_value(requests).unwrap_or_default();
            Json(body).into_response()
        }
        Ok(None) => problem(StatusCode::NOT_FOUND, format!("no session `{id}`")),
        Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

async fn sessions_health(State(lab): State<Arc<LabState>>) -> Response {
    let now = Utc::now();
    match lab.store.sessions_since(now - chrono::Duration::hours(24)).await {
        Ok(rows) => Json(summary(&rows, &lab, now)).into_response(),
        Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// The health document over the sessions of the last 24 hours and those still active.
fn summary(rows: &[SessionRow], lab: &LabState, now: DateTime<Utc>) -> Value {
    let active: Vec<&SessionRow> = rows.iter().filter(|r| r.status == SessionStatus::Active).collect();
    let disconnected: Vec<&SessionRow> = rows
        .iter()
        .filter(|r| r.status == SessionStatus::Disconnected)
        .collect();
    let timeout = chrono::Duration::from_std(lab.settings.session_timeout).unwrap_or(chrono::Duration::MAX);
    let idle = |r: &&SessionRow| now - r.last_activity;
    let durations: Vec<f64> = disconnected
        .iter()
        .filter_map(|r| r.total_duration_ms)
        .map(|ms| ms as f64 / 1000.0)
        .collect();
    let mut recent: Vec<&SessionRow> = rows.iter().collect();
    recent.sort_by_key(|r| std::cmp::Reverse(r.last_activity));
    json!({
        "status_breakdown": {
            "active": active.len(),
            "disconnected": disconnected.len(),
            "total": rows.len(),
        },
        // Active sessions by idle time: under half the timeout, under the timeout, past it
        // (due to be reaped at the next sweep).
        "age_distribution": {
            "healthy": active.iter().filter(|r| idle(r) < timeout / 2).count(),
            "aging": active.iter().filter(|r| idle(r) >= timeout / 2 && idle(r) < timeout).count(),
            "stale": active.iter().filter(|r| idle(r) >= timeout).count(),
        },
        "connection_health": {
            "avg_duration_seconds": mean(&durations),
            "sessions_per_hour": rows.iter().filter(|r| now - r.connected_at <= chrono::Duration::hours(1)).count(),
            "disconnect_rate_percent": percent(disconnected.len(), rows.len()),
            "total_sessions_24h": rows.iter().filter(|r| now - r.connected_at <= chrono::Duration::hours(24)).count(),
        },
        "recent_activity": recent.iter().take(RECENT).map(|r| json!({
            "session_id": r.session_id,
            "status": r.status,
            "client_name": r.client_name,
            "last_activity": timestamp(r.last_activity),
            "request_count": r.request_count,
        })).collect::<Vec<_>>(),
        "timestamp": timestamp(now),
    })
}

fn mean(values: &[f64]) -> f64 {
    match values.len() {
        0 => 0.0,
        n => round2(values.iter().sum::<f64>() / n as f64),
    }
}

fn percent(part: usize, whole: usize) -> f64 {
    match whole {
        0 => 0.0,
        _ => round2(part as f64 * 100.0 / whole as f64),
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// An error answer: `{error}` with its status.
fn problem(status: StatusCode, error: String) -> Response {
    (status, Json(json!({ "error": error }))).into_response()
}
