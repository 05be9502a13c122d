//! The owner's manual sends: a test event to one webhook, a redelivery of a past delivery; and
//! each webhook's health.

use super::{
    ErrorBody,
    error::{ApiResult, Created, NotFound, Unexpected},
    extract::{Owner, Path},
};
use axum::Json;
use serde::Serialize;
use utoipa_axum::{router::OpenApiRouter, routes};
use voicy_core::{
    AppState,
    services::{alerts, deliveries, health},
};
use voicy_model::views::{AlertList, DeliveryView, WebhookHealth};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(send_test))
        .routes(routes!(get_webhook_health))
        .routes(routes!(redeliver))
        .routes(routes!(list_alerts))
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
