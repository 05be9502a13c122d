//! Agents of the calling owner.

use super::{error::ApiResult, extract::{ApiJson, Owner}};
use app::server::{AppState, services::agents};
use app::views::AgentView;
use axum::{Json, Router, extract::{Path, State}, http::StatusCode, routing::get};
use serde::Deserialize;
use serde_json::{Value, json};

pub fn router() -> Router<AppState> {
    Router::new().route("/agents", get(list).post(create)).route("/agents/{agent_id}", get(show))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewAgent {
    #[serde(default)]
    name: String,
}

async fn list(State(state): State<AppState>, Owner(owner): Owner) -> ApiResult<Json<Value>> {
    Ok(Json(json!({ "agents": agents::list(&state.store, &owner).await? })))
}

async fn create(State(state): State<AppState>, Owner(owner): Owner, ApiJson(body): ApiJson<NewAgent>) -> ApiResult<(StatusCode, Json<AgentView>)> {
    Ok((StatusCode::CREATED, Json(agents::create(&state.store, &owner, &body.name).await?)))
}

async fn show(State(state): State<AppState>, Owner(owner): Owner, Path(agent_id): Path<String>) -> ApiResult<Json<AgentView>> {
    Ok(Json(agents::get(&state.store, &owner, &agent_id).await?))
}
