//! An agent's webhooks (its draft), deploy, the draft/deployed config, versions and restore.

use super::{
    ErrorBody,
    error::{ApiResult, Created, Invalid, NotFound, Unexpected},
    extract::{ApiJson, Owner, Path},
};
use axum::{Json, http::StatusCode};
use utoipa_axum::{router::OpenApiRouter, routes};
use voicy_core::{AppState, services, services::pauses, services::webhooks};
use voicy_model::views::{
    ConfigDiffView, ConfigView, DeploymentView, NewWebhook, VersionList, WebhookList, WebhookPatch,
    WebhookView,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_webhooks, create_webhook))
        .routes(routes!(update_webhook, delete_webhook))
        .routes(routes!(pause_webhook))
        .routes(routes!(resume_webhook))
        .routes(routes!(deploy))
        .routes(routes!(get_config))
        .routes(routes!(diff_config))
        .routes(routes!(list_versions))
        .routes(routes!(restore_version))
}

/// The draft's webhooks (at most 5). Secrets and header values are never returned.
#[utoipa::path(get, path = "/agents/{agent_id}/webhooks", tag = "webhooks", params(("agent_id" = String, Path)),
    responses((status = 200, description = "The draft's webhooks", body = WebhookList), NotFound, Unexpected))]
async fn list_webhooks(
    Owner(request): Owner, Path(agent_id): Path<String>,
) -> ApiResult<Json<WebhookList>> {
    Ok(Json(webhooks::list(&request, &agent_id).await?))
}

/// Adds a webhook to the draft. Phone calls use it once the agent is deployed; web calls at once.
#[utoipa::path(post, path = "/agents/{agent_id}/webhooks", tag = "webhooks", params(("agent_id" = String, Path)), request_body = NewWebhook,
    responses((status = 201, description = "The webhook as stored (no secret, no header values)", body = WebhookView), NotFound,
        (status = 409, description = "The agent already has 5 webhooks", body = ErrorBody),
        (status = 422, description = "Invalid fields, each named in `fields`", body = ErrorBody), Unexpected))]
async fn create_webhook(
    Owner(request): Owner, Path(agent_id): Path<String>, ApiJson(input): ApiJson<NewWebhook>,
) -> ApiResult<Created<WebhookView>> {
    Ok(Created(webhooks::add(&request, &agent_id, &input).await?))
}

/// Edits a draft webhook. Absent fields, a blank `secret` and blank header values keep what is stored.
#[utoipa::path(patch, path = "/agents/{agent_id}/webhooks/{webhook_id}", tag = "webhooks",
    params(("agent_id" = String, Path), ("webhook_id" = String, Path)), request_body = WebhookPatch,
    responses((status = 200, description = "The webhook as stored (no secret, no header values)", body = WebhookView), NotFound, Invalid, Unexpected))]
async fn update_webhook(
    Owner(request): Owner, Path((agent_id, webhook_id)): Path<(String, String)>,
    ApiJson(patch): ApiJson<WebhookPatch>,
) -> ApiResult<Json<WebhookView>> {
    Ok(Json(webhooks::update(&request, &agent_id, &webhook_id, &patch).await?))
}

/// Deletes a webhook from the draft.
#[utoipa::path(delete, path = "/agents/{agent_id}/webhooks/{webhook_id}", tag = "webhooks",
    params(("agent_id" = String, Path), ("webhook_id" = String, Path)),
    responses((status = 204, description = "Deleted from the draft"), NotFound, Unexpected))]
async fn delete_webhook(
    Owner(request): Owner, Path((agent_id, webhook_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    webhooks::delete(&request, &agent_id, &webhook_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Pauses a webhook, at once, in the draft and every deployed version (no deploy needed).
///
/// While paused, each call's delivery to it is recorded with outcome `paused` and not sent, and
/// its due retries wait. Resume it, then redeliver what it missed.
#[utoipa::path(post, path = "/agents/{agent_id}/webhooks/{webhook_id}/pause", tag = "webhooks",
    params(("agent_id" = String, Path), ("webhook_id" = String, Path)),
    responses((status = 200, description = "The webhook, now paused", body = WebhookView), NotFound, Unexpected))]
async fn pause_webhook(
    Owner(request): Owner, Path((agent_id, webhook_id)): Path<(String, String)>,
) -> ApiResult<Json<WebhookView>> {
    Ok(Json(pauses::set(&request, &agent_id, &webhook_id, true).await?))
}

/// Resumes a paused webhook: the next calls are sent to it again, and its due retries go out.
#[utoipa::path(post, path = "/agents/{agent_id}/webhooks/{webhook_id}/resume", tag = "webhooks",
    params(("agent_id" = String, Path), ("webhook_id" = String, Path)),
    responses((status = 200, description = "The webhook, now sending again", body = WebhookView), NotFound, Unexpected))]
async fn resume_webhook(
    Owner(request): Owner, Path((agent_id, webhook_id)): Path<(String, String)>,
) -> ApiResult<Json<WebhookView>> {
    Ok(Json(pauses::set(&request, &agent_id, &webhook_id, false).await?))
}

/// Publishes the draft as the next immutable version; phone calls use it from now on.
#[utoipa::path(post, path = "/agents/{agent_id}/deploy", tag = "webhooks", params(("agent_id" = String, Path)),
    responses((status = 201, description = "The new deployed version", body = DeploymentView), NotFound, Unexpected))]
async fn deploy(
    Owner(request): Owner, Path(agent_id): Path<String>,
) -> ApiResult<Created<DeploymentView>> {
    Ok(Created(webhooks::deploy(&request, &agent_id).await?))
}

/// The draft, the latest deployed version, and whether they differ.
#[utoipa::path(get, path = "/agents/{agent_id}/config", tag = "webhooks", params(("agent_id" = String, Path)),
    responses((status = 200, description = "The draft and the latest deployed version", body = ConfigView), NotFound, Unexpected))]
async fn get_config(
    Owner(request): Owner, Path(agent_id): Path<String>,
) -> ApiResult<Json<ConfigView>> {
    Ok(Json(webhooks::config(&request, &agent_id).await?))
}

/// What Deploy would change, in words (secrets and header values only described, never shown).
#[utoipa::path(get, path = "/agents/{agent_id}/config/diff", tag = "webhooks", params(("agent_id" = String, Path)),
    responses((status = 200, description = "What Deploy would change", body = ConfigDiffView), NotFound, Unexpected))]
async fn diff_config(
    Owner(request): Owner, Path(agent_id): Path<String>,
) -> ApiResult<Json<ConfigDiffView>> {
    Ok(Json(webhooks::diff(&request, &agent_id).await?))
}

/// The latest deployed versions: who deployed them, when, and what each changed.
#[utoipa::path(get, path = "/agents/{agent_id}/versions", tag = "webhooks", params(("agent_id" = String, Path)),
    responses((status = 200, description = "The latest deployed versions", body = VersionList), NotFound, Unexpected))]
async fn list_versions(
    Owner(request): Owner, Path(agent_id): Path<String>,
) -> ApiResult<Json<VersionList>> {
    Ok(Json(services::versions::list(&request, &agent_id).await?))
}

/// Restores a deployed version to the draft.
///
/// Copies version `version` into the draft (secrets and header values included, server-side)
/// and answers the config as it now is. Deploy to publish it.
#[utoipa::path(post, path = "/agents/{agent_id}/versions/{version}/restore", tag = "webhooks",
    params(("agent_id" = String, Path), ("version" = i64, Path)),
    responses((status = 200, description = "The draft and the latest deployed version", body = ConfigView), (status = 404, description = "No such version", body = ErrorBody), Unexpected))]
async fn restore_version(
    Owner(request): Owner, Path((agent_id, version)): Path<(String, i64)>,
) -> ApiResult<Json<ConfigView>> {
    services::versions::restore(&request, &agent_id, version).await?;
    Ok(Json(webhooks::config(&request, &agent_id).await?))
}
