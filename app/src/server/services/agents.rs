use crate::error::{AppError, FieldErrors};
use crate::server::auth::OwnerId;
use crate::server::domain::AgentName;
use crate::server::store::Store;
use crate::views::AgentView;

pub async fn create(store: &Store, owner: &OwnerId, name: &str) -> Result<AgentView, AppError> {
    let name = AgentName::parse(name).map_err(|m| FieldErrors::single("name", m))?;
    store.insert_agent(owner, &name).await
}

pub async fn list(store: &Store, owner: &OwnerId) -> Result<Vec<AgentView>, AppError> {
    store.agents(owner).await
}

pub async fn get(store: &Store, owner: &OwnerId, agent_id: &str) -> Result<AgentView, AppError> {
    Ok(
        crate::server::RequestMemo::owned_agent(store, owner, agent_id)
            .await?
            .view(),
    )
}
