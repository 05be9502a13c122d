//! Agents of the calling owner.

use super::{
    error::{ApiResult, Created, Invalid, NotFound, Unexpected},
    extract::{ApiJson, Owner, Path},
};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};
use voicy_core::{AppState, services::agents};
use voicy_model::views::AgentView;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_agents, create_agent)).routes(routes!(get_agent))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct NewAgent {
    #[schema(required = true)]
    #[serde(default)]
    name: String,
}

#[derive(Serialize, utoipa::ToSchema)]
struct AgentList {
    agents: Vec<AgentView>,
}

/// The owner's agents.
#[utoipa::path(get, path = "/agents", tag = "agents", responses((status = 200, description = "The owner's agents", body = AgentList), Unexpected))]
async fn list_agents(Owner(request): Owner) -> ApiResult<Json<AgentList>> {
    Ok(Json(AgentList { agents: agents::list(&request).await? }))
}

/// Creates an agent.
#[utoipa::path(post, path = "/agents", tag = "agents", request_body = NewAgent,
    responses((status = 201, description = "The agent", body = AgentView), Invalid, Unexpected))]
async fn create_agent(
    Owner(request): Owner, ApiJson(body): ApiJson<NewAgent>,
) -> ApiResult<Created<AgentView>> {
    Ok(Created(agents::create(&request, &body.name).await?))
}

/// One agent (404 when it is missing or another owner's).
#[utoipa::path(get, path = "/agents/{agent_id}", tag = "agents", params(("agent_id" = String, Path)),
    responses((status = 200, description = "The agent", body = AgentView), NotFound, Unexpected))]
async fn get_agent(
    Owner(request): Owner, Path(agent_id): Path<String>,
) -> ApiResult<Json<AgentView>> {
    Ok(Json(agents::get(&request, &agent_id).await?))
}
