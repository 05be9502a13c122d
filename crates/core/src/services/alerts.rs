//! Open failure alerts: `GET /api/v1/alerts` and the banner of an agent's pages.

use crate::OwnerRequest;
use crate::error::AppError;
use crate::views::{AlertList, AlertView};

/// The owner's open incidents, newest first.
pub async fn list(request: &OwnerRequest) -> Result<AlertList, AppError> {
    Ok(AlertList { alerts: request.store().open_alerts(request.owner(), None).await? })
}

/// One agent's open incidents (after proving it is the owner's).
pub async fn of_agent(request: &OwnerRequest, agent_id: &str) -> Result<Vec<AlertView>, AppError> {
    let agent = request.agent(agent_id).await?;
    request.store().open_alerts(request.owner(), Some(agent.id())).await
}
