//! Calls (from the telephony layer), the Get Call API, deliveries, and processing settings.

use super::{error::ApiResult, extract::{ApiJson, Owner}};
use app::server::{AppState, services::calls};
use app::views::{CallDeliveries, CallPage, DeliveryView, NewCall, ProcessingSettings};
use axum::{
    Json, Router,
    extract::{Path, Query, State},
    http::{StatusCode, header::CONTENT_TYPE},
    response::IntoResponse,
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::{Value, json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/calls", post(create))
        .route("/calls/{call_id}", get(show))
        .route("/calls/{call_id}/deliveries", get(call_deliveries))
        .route("/agents/{agent_id}/calls", get(list))
        .route("/agents/{agent_id}/deliveries", get(agent_deliveries))
        .route("/agents/{agent_id}/processing", get(processing).put(set_processing))
}

/// 202: the call is stored; processing and the `call_ended` event follow.
async fn create(State(state): State<AppState>, Owner(owner): Owner, ApiJson(call): ApiJson<NewCall>) -> ApiResult<(StatusCode, Json<Value>)> {
    let id = calls::create(&state, &owner, call).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "id": id }))))
}

/// The stored bytes themselves, so they equal the event body exactly.
async fn show(State(state): State<AppState>, Owner(owner): Owner, Path(call_id): Path<String>) -> ApiResult<impl IntoResponse> {
    let body = calls::get_json(&state, &owner, &call_id).await?;
    Ok(([(CONTENT_TYPE, "application/json")], body))
}

async fn call_deliveries(State(state): State<AppState>, Owner(owner): Owner, Path(call_id): Path<String>) -> ApiResult<Json<CallDeliveries>> {
    Ok(Json(calls::deliveries(&state, &owner, &call_id).await?))
}

#[derive(Deserialize)]
struct ListQuery {
    before: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    Owner(owner): Owner,
    Path(agent_id): Path<String>,
    Query(query): Query<ListQuery>,
) -> ApiResult<Json<CallPage>> {
    Ok(Json(calls::list(&state, &owner, &agent_id, query.before.as_deref()).await?))
}

#[derive(Deserialize)]
struct DeliveriesQuery {
    webhook_id: Option<String>,
}

async fn agent_deliveries(
    State(state): State<AppState>,
    Owner(owner): Owner,
    Path(agent_id): Path<String>,
    Query(query): Query<DeliveriesQuery>,
) -> ApiResult<Json<Value>> {
    let deliveries: Vec<DeliveryView> = calls::agent_deliveries(&state, &owner, &agent_id, query.webhook_id.as_deref()).await?;
    Ok(Json(json!({ "deliveries": deliveries })))
}

async fn processing(State(state): State<AppState>, Owner(owner): Owner, Path(agent_id): Path<String>) -> ApiResult<Json<ProcessingSettings>> {
    Ok(Json(calls::processing(&state, &owner, &agent_id).await?))
}

async fn set_processing(
    State(state): State<AppState>,
    Owner(owner): Owner,
    Path(agent_id): Path<String>,
    ApiJson(input): ApiJson<ProcessingSettings>,
) -> ApiResult<Json<ProcessingSettings>> {
    Ok(Json(calls::set_processing(&state, &owner, &agent_id, &input).await?))
}
