//! `GET /metrics` in the Prometheus text format, on its own listen address
//! (`VOICY_METRICS_ADDR`; off by default, and the public port answers 404 there). Counters and
//! histograms are recorded where things happen, through the `metrics` facade (deliveries in the
//! client, takeovers in the queue, throttling in the quotas, HTTP requests in `record_http`);
//! the queue's depth and the connection pools are read when the page is scraped. Counters are
//! this instance's own: Prometheus sums a fleet.

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Router, routing::get};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Instant;
use voicy_core::AppState;

/// Latency buckets in seconds, for deliveries (up to the 5 s timeout) and HTTP requests.
const BUCKETS: [f64; 14] =
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 7.5, 10.0];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process's recorder, once; until then every metric is a no-op.
pub fn install() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("duration_seconds".into()), &BUCKETS)
                .expect("the buckets are not empty")
                .build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("another metrics recorder is installed: /metrics stays empty");
            }
            describe();
            handle
        })
        .clone()
}

/// Each metric's help text, for the page's `# HELP` lines.
const HELP: [(&str, &str); 14] = [
    ("voicy_deliveries_total", "Webhook requests by how they ended (outcome)."),
    ("voicy_delivery_duration_seconds", "Time from a webhook request's start to its answer."),
    ("voicy_retry_attempts_total", "Retry attempts started (opt-in retries)."),
    ("voicy_lease_takeovers_total", "Calls taken over from an instance whose lease lapsed."),
    (
        "voicy_calls_claimed_total",
        "Calls claimed by this instance: stored claimed by its intake, or from the queue (by).",
    ),
    (
        "voicy_events_started_total",
        "Events whose requests started: with the call's insert (intake) or by its worker (at).",
    ),
    ("voicy_processing_failures_total", "Failed processing attempts, by cause."),
    ("voicy_throttled_total", "Requests and e-mails refused by a quota (limit)."),
    ("voicy_http_requests_total", "HTTP requests by route, method and status."),
    ("voicy_http_request_duration_seconds", "Time to answer an HTTP request, by route."),
    ("voicy_queue_events", "Unfinished events in the queue, by state."),
    ("voicy_queue_oldest_pending_seconds", "How long the oldest pending call has waited."),
    ("voicy_db_pool_connections", "Database connections by pool and state."),
    ("voicy_retention_erased_calls_total", "Calls whose personal data retention erased."),
];

fn describe() {
    for (name, help) in HELP {
        if name.ends_with("_total") {
            metrics::describe_counter!(name, help);
        } else if name.ends_with("_duration_seconds") {
            metrics::describe_histogram!(name, metrics::Unit::Seconds, help);
        } else {
            metrics::describe_gauge!(name, help);
        }
    }
}

/// The metrics listener's router.
pub fn router(state: AppState, handle: PrometheusHandle) -> Router {
    Router::new().route("/metrics", get(scrape)).with_state((state, handle))
}

async fn scrape(State((state, handle)): State<(AppState, PrometheusHandle)>) -> Response {
    // A database that does not answer shows as missing queue figures, not as a failed scrape
    // (the store has logged why).
    if let Ok(depth) = state.store.queue_depth().await {
        for (event_state, count) in depth.by_state {
            metrics::gauge!("voicy_queue_events", "state" => event_state.as_str())
                .set(count as f64);
        }
        let waited = depth
            .oldest_pending
            .and_then(|at| chrono::DateTime::parse_from_rfc3339(&at).ok())
            .map(|at| (chrono::Utc::now() - at.with_timezone(&chrono::Utc)).num_milliseconds())
            .map_or(0.0, |ms| ms.max(0) as f64 / 1000.0);
        metrics::gauge!("voicy_queue_oldest_pending_seconds").set(waited);
    }
    for pool in state.store.pool_use() {
        let set = |what: &'static str, n: u32| {
            metrics::gauge!("voicy_db_pool_connections", "pool" => pool.name, "state" => what)
                .set(f64::from(n));
        };
        set("in_use", pool.open.saturating_sub(pool.idle));
        set("idle", pool.idle);
        set("max", pool.max);
    }
    handle.run_upkeep();
    ([(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], handle.render()).into_response()
}

/// Counts every HTTP request by its route's pattern (not its path: ids would make a series per
/// call), method and status, with its latency.
pub async fn record_http(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("voicy_http_requests_total", "route" => route.clone(), "method" => method, "status" => status)
        .increment(1);
    metrics::histogram!("voicy_http_request_duration_seconds", "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}
