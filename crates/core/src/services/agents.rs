use crate::OwnerRequest;
use crate::domain::AgentName;
use crate::error::{AppError, FieldErrors};
use crate::views::AgentView;

pub async fn create(request: &OwnerRequest, name: &str) -> Result<AgentView, AppError> {
    let name = AgentName::parse(name).map_err(|m| FieldErrors::single("name", m))?;
    request.store().insert_agent(request.owner(), &name).await
}

pub async fn list(request: &OwnerRequest) -> Result<Vec<AgentView>, AppError> {
    request.store().agents(request.owner()).await
}

pub async fn get(request: &OwnerRequest, agent_id: &str) -> Result<AgentView, AppError> {
    Ok(request.agent(agent_id).await?.view())
}
