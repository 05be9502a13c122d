use crate::Caller;
use crate::domain::AgentName;
use crate::error::{AppError, FieldErrors};
use crate::store::Store;
use crate::views::AgentView;

pub async fn create(store: &Store, owner: &Caller, name: &str) -> Result<AgentView, AppError> {
    let name = AgentName::parse(name).map_err(|m| FieldErrors::single("name", m))?;
    store.insert_agent(owner, &name).await
}

pub async fn list(store: &Store, owner: &Caller) -> Result<Vec<AgentView>, AppError> {
    store.agents(owner).await
}

pub async fn get(store: &Store, owner: &Caller, agent_id: &str) -> Result<AgentView, AppError> {
    Ok(owner.agent(store, agent_id).await?.view())
}
