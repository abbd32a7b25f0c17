//! Operations endpoints: liveness, readiness, Prometheus metrics.
use std::sync::atomic::AtomicI64;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use sea_orm::DbBackend;
use serde_json::json;

use crate::api::state::AppState;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: String,
    /// The route template (`/api/v1/users/{id}`), never the raw path: ids would explode the series.
    pub route: String,
    pub status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    state: String,
}

/// Per-instance metrics: each instance is scraped on its own, so nothing is shared.
pub struct Metrics {
    registry: Registry,
    pub requests: Family<RequestLabels, Counter>,
    pub latency: Family<RequestLabels, Histogram>,
    pool: Family<PoolLabels, Gauge<i64, AtomicI64>>,
}

fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RequestLabels, Histogram>::new_with_constructor(
            latency_histogram as fn() -> Histogram,
        );
        let pool = Family::<PoolLabels, Gauge<i64, AtomicI64>>::default();
        registry.register(
            "http_requests",
            "HTTP requests by route and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route and status",
            latency.clone(),
        );
        registry.register(
            "db_pool_connections",
            "Database pool connections by state",
            pool.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            pool,
        }
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// The process is alive.
#[utoipa::path(get, path = "/health", tag = "operations", responses((status = 200, description = "Alive")))]
pub async fn health() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// The database answers.
#[utoipa::path(
    get,
    path = "/ready",
    tag = "operations",
    responses((status = 200, description = "Ready"), (status = 503, description = "Database unreachable"))
)]
pub async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    if crate::db::ping(&state.db).await {
        (StatusCode::OK, Json(json!({ "status": "ready" })))
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "detail": "Service unavailable" })),
        )
    }
}

/// Prometheus text exposition.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses((status = 200, description = "Prometheus metrics", content_type = "text/plain"))
)]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let metrics = &state.metrics;
    let (size, idle) = match state.db.get_database_backend() {
        DbBackend::Postgres => {
            let pool = state.db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle())
        }
        _ => {
            let pool = state.db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle())
        }
    };
    let gauge = |name: &str| {
        metrics
            .pool
            .get_or_create(&PoolLabels {
                state: name.to_string(),
            })
            .clone()
    };
    gauge("idle").set(idle as i64);
    gauge("in_use").set(i64::from(size) - idle as i64);
    gauge("max").set(i64::from(state.settings.database_pool_size));
    let mut body = String::new();
    if prometheus_client::encoding::text::encode(&mut body, &metrics.registry).is_err() {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response()
}
