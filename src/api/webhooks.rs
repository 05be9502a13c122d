//! An agent's webhooks (its draft), deploy, and the draft/deployed config.

use super::{error::ApiResult, extract::{ApiJson, Owner}};
use app::server::{AppState, services, services::webhooks};
use app::views::{ConfigDiffView, ConfigView, VersionList, DeploymentView, NewWebhook, WebhookList, WebhookPatch, WebhookView};
use axum::{Json, Router, extract::{Path, State}, http::StatusCode, routing::{get, patch, post}};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/agents/{agent_id}/webhooks", get(list).post(create))
        .route("/agents/{agent_id}/webhooks/{webhook_id}", patch(update).delete(remove))
        .route("/agents/{agent_id}/deploy", post(deploy))
        .route("/agents/{agent_id}/config", get(config))
        .route("/agents/{agent_id}/config/diff", get(diff))
        .route("/agents/{agent_id}/versions", get(versions))
        .route("/agents/{agent_id}/versions/{version}/restore", post(restore))
}

async fn list(State(state): State<AppState>, Owner(owner): Owner, Path(agent_id): Path<String>) -> ApiResult<Json<WebhookList>> {
    Ok(Json(webhooks::list(&state, &owner, &agent_id).await?))
}

async fn create(
    State(state): State<AppState>,
    Owner(owner): Owner,
    Path(agent_id): Path<String>,
    ApiJson(input): ApiJson<NewWebhook>,
) -> ApiResult<(StatusCode, Json<WebhookView>)> {
    Ok((StatusCode::CREATED, Json(webhooks::add(&state, &owner, &agent_id, &input).await?)))
}

async fn update(
    State(state): State<AppState>,
    Owner(owner): Owner,
    Path((agent_id, webhook_id)): Path<(String, String)>,
    ApiJson(patch): ApiJson<WebhookPatch>,
) -> ApiResult<Json<WebhookView>> {
    Ok(Json(webhooks::update(&state, &owner, &agent_id, &webhook_id, &patch).await?))
}

async fn remove(
    State(state): State<AppState>,
    Owner(owner): Owner,
    Path((agent_id, webhook_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    webhooks::delete(&state, &owner, &agent_id, &webhook_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn deploy(State(state): State<AppState>, Owner(owner): Owner, Path(agent_id): Path<String>) -> ApiResult<(StatusCode, Json<DeploymentView>)> {
    Ok((StatusCode::CREATED, Json(webhooks::deploy(&state, &owner, &agent_id).await?)))
}

async fn config(State(state): State<AppState>, Owner(owner): Owner, Path(agent_id): Path<String>) -> ApiResult<Json<ConfigView>> {
    Ok(Json(webhooks::config(&state, &owner, &agent_id).await?))
}

async fn diff(State(state): State<AppState>, Owner(owner): Owner, Path(agent_id): Path<String>) -> ApiResult<Json<ConfigDiffView>> {
    Ok(Json(webhooks::diff(&state, &owner, &agent_id).await?))
}

async fn versions(State(state): State<AppState>, Owner(owner): Owner, Path(agent_id): Path<String>) -> ApiResult<Json<VersionList>> {
    Ok(Json(services::versions::list(&state, &owner, &agent_id).await?))
}

/// 200 with the draft's config as it now is.
async fn restore(State(state): State<AppState>, Owner(owner): Owner, Path((agent_id, version)): Path<(String, i64)>) -> ApiResult<Json<ConfigView>> {
    services::versions::restore(&state, &owner, &agent_id, version).await?;
    Ok(Json(webhooks::config(&state, &owner, &agent_id).await?))
}
