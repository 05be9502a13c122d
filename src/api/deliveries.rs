//! The owner's manual sends: a test event to one webhook, a redelivery of a past delivery; and
//! each webhook's health.

use super::{error::ApiResult, extract::Owner};
use app::server::{AppState, services::{deliveries, health}};
use app::views::{DeliveryView, WebhookHealth};
use axum::{Json, Router, extract::{Path, State}, http::StatusCode, routing::{get, post}};
use serde_json::{Value, json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/agents/{agent_id}/webhooks/{webhook_id}/test", post(send_test))
        .route("/agents/{agent_id}/webhooks/health", get(webhook_health))
        .route("/deliveries/{delivery_id}/redeliver", post(redeliver))
}

/// 201 with the test's delivery, whatever the receiver answered (its outcome says how it went).
async fn send_test(
    State(state): State<AppState>,
    Owner(owner): Owner,
    Path((agent_id, webhook_id)): Path<(String, String)>,
) -> ApiResult<(StatusCode, Json<DeliveryView>)> {
    Ok((StatusCode::CREATED, Json(deliveries::send_test(&state, &owner, &agent_id, &webhook_id).await?)))
}

/// 201 with the new delivery (its `redelivery_of` names the original).
async fn redeliver(State(state): State<AppState>, Owner(owner): Owner, Path(delivery_id): Path<String>) -> ApiResult<(StatusCode, Json<DeliveryView>)> {
    Ok((StatusCode::CREATED, Json(deliveries::redeliver(&state, &owner, &delivery_id).await?)))
}

async fn webhook_health(State(state): State<AppState>, Owner(owner): Owner, Path(agent_id): Path<String>) -> ApiResult<Json<Value>> {
    let webhooks: Vec<WebhookHealth> = health::of_agent(&state, &owner, &agent_id).await?;
    Ok(Json(json!({ "webhooks": webhooks })))
}
