//! The owner's manual sends: a test event to one webhook, a redelivery of a past delivery, bulk
//! replays; each webhook's health; open failure alerts.

use super::{
    ErrorBody,
    error::{ApiResult, Created, Invalid, NotFound, Unexpected},
    extract::{ApiJson, Owner, Path, Query},
};
use axum::{Json, http::StatusCode};
use serde::Serialize;
use utoipa_axum::{router::OpenApiRouter, routes};
use voicy_core::{
    AppState,
    services::{alerts, deliveries, health, replays, stats, stats_chart},
};
use voicy_model::views::{
    AlertList, DeliveryView, NewReplay, ReplayView, WebhookHealth, WebhookStats,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(send_test))
        .routes(routes!(get_webhook_health))
        .routes(routes!(redeliver))
        .routes(routes!(list_alerts))
        .routes(routes!(create_replay))
        .routes(routes!(get_replay, cancel_replay))
        .routes(routes!(webhook_stats))
        .routes(routes!(webhook_stats_chart))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct StatsQuery {
    /// `24h` (hourly buckets, the default) or `30d` (daily buckets).
    window: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct HealthList {
    webhooks: Vec<WebhookHealth>,
}

/// Sends a test event to one webhook.
///
/// One `call_ended` request with a sample call (`"metadata":{"test":true}`) to this draft
/// webhook only, with its stored secret and header values; answers how it went (201 whatever
/// the receiver said: see `outcome`). Recorded in the deliveries log as `kind: test`.
#[utoipa::path(post, path = "/agents/{agent_id}/webhooks/{webhook_id}/test", tag = "deliveries",
    params(("agent_id" = String, Path), ("webhook_id" = String, Path)),
    responses((status = 201, description = "The delivery, whatever the receiver answered (see `outcome`)", body = DeliveryView), NotFound,
        (status = 429, description = "More than 20 test sends and redeliveries a minute by this owner; see Retry-After", body = ErrorBody),
        Unexpected))]
async fn send_test(
    Owner(request): Owner, Path((agent_id, webhook_id)): Path<(String, String)>,
) -> ApiResult<Created<DeliveryView>> {
    Ok(Created(deliveries::send_test(&request, &agent_id, &webhook_id).await?))
}

/// Redelivers a past delivery.
///
/// The same body bytes to the same webhook as it was in the config the call used, freshly
/// signed, as a new delivery (`redelivery_of` names the original). The owner's action: the
/// dispatcher itself never retries.
#[utoipa::path(post, path = "/deliveries/{delivery_id}/redeliver", tag = "deliveries", params(("delivery_id" = String, Path)),
    responses((status = 201, description = "The delivery, whatever the receiver answered (see `outcome`)", body = DeliveryView), NotFound,
        (status = 409, description = "A test send, a call not processed yet, or a webhook deleted since", body = ErrorBody),
        (status = 429, description = "More than 20 test sends and redeliveries a minute by this owner; see Retry-After", body = ErrorBody),
        Unexpected))]
async fn redeliver(
    Owner(request): Owner, Path(delivery_id): Path<String>,
) -> ApiResult<Created<DeliveryView>> {
    Ok(Created(deliveries::redeliver(&request, &delivery_id).await?))
}

/// Each webhook's health.
///
/// Over each draft webhook's latest 50 deliveries: status, success rate, p50/p95 latency and the
/// last failure.
#[utoipa::path(get, path = "/agents/{agent_id}/webhooks/health", tag = "deliveries", params(("agent_id" = String, Path)),
    responses((status = 200, description = "Each draft webhook's health", body = HealthList), NotFound, Unexpected))]
async fn get_webhook_health(
    Owner(request): Owner, Path(agent_id): Path<String>,
) -> ApiResult<Json<HealthList>> {
    Ok(Json(HealthList { webhooks: health::of_agent(&request, &agent_id).await? }))
}

/// The owner's open failure alerts.
///
/// A webhook whose deliveries failed 5 times in a row (a retry chain counts once, when it ends)
/// has an open incident until its first success; the owner's account e-mail got one message
/// when it opened and gets one when it closes.
#[utoipa::path(get, path = "/alerts", tag = "deliveries",
    responses((status = 200, description = "The open incidents, newest first", body = AlertList), Unexpected))]
async fn list_alerts(Owner(request): Owner) -> ApiResult<Json<AlertList>> {
    Ok(Json(alerts::list(&request).await?))
}

/// Redelivers a webhook's failed calls of a time range (bulk replay).
///
/// Every call of the agent received in `[since, until)` whose delivery to this webhook did not
/// end in a 2xx (`http_status`, `timeout`, `connect`, `dns`, `tls`, `interrupted`,
/// `in_flight_limit`, `paused`) and that no retry or redelivery has delivered since is redelivered
/// once (`kind: redelivery`, `replay_id`), at most `VOICY_REPLAY_RATE_PER_SECOND` a second. Any
/// instance carries it on after a restart; a second replay of the same window sends nothing the
/// first delivered.
#[utoipa::path(post, path = "/agents/{agent_id}/webhooks/{webhook_id}/replays", tag = "deliveries",
    params(("agent_id" = String, Path), ("webhook_id" = String, Path)), request_body = NewReplay,
    responses((status = 202, description = "Started; `total` calls to redeliver", body = ReplayView), NotFound,
        (status = 409, description = "A replay of this webhook is already running, or the window holds over 10,000 failed calls", body = ErrorBody),
        Invalid, Unexpected))]
async fn create_replay(
    Owner(request): Owner, Path((agent_id, webhook_id)): Path<(String, String)>,
    ApiJson(input): ApiJson<NewReplay>,
) -> ApiResult<(StatusCode, Json<ReplayView>)> {
    let replay = replays::create(&request, &agent_id, &webhook_id, &input).await?;
    Ok((StatusCode::ACCEPTED, Json(replay)))
}

/// How far a replay got: `state` (`running`, `done`, `cancelled`), `total`, `sent`, `ok`, `failed`.
#[utoipa::path(get, path = "/replays/{replay_id}", tag = "deliveries", params(("replay_id" = String, Path)),
    responses((status = 200, description = "The replay", body = ReplayView), NotFound, Unexpected))]
async fn get_replay(
    Owner(request): Owner, Path(replay_id): Path<String>,
) -> ApiResult<Json<ReplayView>> {
    Ok(Json(replays::get(&request, &replay_id).await?))
}

/// Cancels a running replay: nothing more is sent (a redelivery under way finishes).
#[utoipa::path(delete, path = "/replays/{replay_id}", tag = "deliveries", params(("replay_id" = String, Path)),
    responses((status = 200, description = "The replay, cancelled unless it had ended", body = ReplayView), NotFound, Unexpected))]
async fn cancel_replay(
    Owner(request): Owner, Path(replay_id): Path<String>,
) -> ApiResult<Json<ReplayView>> {
    Ok(Json(replays::cancel(&request, &replay_id).await?))
}

/// A webhook's success rate and p50/p95 latency, hourly over 24 hours or daily over 30 days.
///
/// Buckets are UTC hours or days, oldest first; paused deliveries (never sent) are not counted.
/// Latencies are estimated from a histogram of log-spaced bins, interpolated within the bin.
#[utoipa::path(get, path = "/agents/{agent_id}/webhooks/{webhook_id}/stats", tag = "deliveries",
    params(("agent_id" = String, Path), ("webhook_id" = String, Path), StatsQuery),
    responses((status = 200, description = "The buckets, oldest first", body = WebhookStats), NotFound, Invalid, Unexpected))]
async fn webhook_stats(
    Owner(request): Owner, Path((agent_id, webhook_id)): Path<(String, String)>,
    Query(query): Query<StatsQuery>,
) -> ApiResult<Json<WebhookStats>> {
    let window = stats::Window::parse(query.window.as_deref())?;
    Ok(Json(stats::of_webhook(&request, &agent_id, &webhook_id, window).await?.1))
}

/// The same figures drawn as an SVG image (what the dashboard shows, with a table beside it).
#[utoipa::path(get, path = "/agents/{agent_id}/webhooks/{webhook_id}/stats.svg", tag = "deliveries",
    params(("agent_id" = String, Path), ("webhook_id" = String, Path), StatsQuery),
    responses((status = 200, description = "An SVG image", content_type = "image/svg+xml"), NotFound, Invalid, Unexpected))]
async fn webhook_stats_chart(
    Owner(request): Owner, Path((agent_id, webhook_id)): Path<(String, String)>,
    Query(query): Query<StatsQuery>,
) -> ApiResult<impl axum::response::IntoResponse> {
    let window = stats::Window::parse(query.window.as_deref())?;
    let (name, figures) = stats::of_webhook(&request, &agent_id, &webhook_id, window).await?;
    let headers = [
        (axum::http::header::CONTENT_TYPE, "image/svg+xml"),
        (axum::http::header::CACHE_CONTROL, "private, no-cache"),
    ];
    Ok((headers, stats_chart::svg(&figures, &name)))
}
