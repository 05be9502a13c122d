//! The version history of an agent and "Restore to draft".

use super::diff::config_changes;
use super::webhooks::agent;
use crate::error::AppError;
use crate::server::AppState;
use crate::server::auth::OwnerId;
use crate::server::store::OwnedAgent;
use crate::views::{ProcessingSettings, VersionList, VersionView};

/// Versions the history shows.
const HISTORY: i64 = 20;

pub async fn list(state: &AppState, owner: &OwnerId, agent_id: &str) -> Result<VersionList, AppError> {
    let agent = agent(state, owner, agent_id).await?;
    Ok(VersionList { versions: history(state, &agent).await? })
}

/// The latest versions, newest first, each compared with the version before it.
pub(super) async fn history(state: &AppState, agent: &OwnedAgent) -> Result<Vec<VersionView>, AppError> {
    let rows = state.store.versions(agent, HISTORY).await?;
    let mut views = Vec::with_capacity(rows.len());
    // Oldest first, so each version's config is read once and serves as the next one's "before".
    let mut before = match rows.last().map(|r| r.version - 1).filter(|v| *v > 0) {
        Some(v) => (state.store.deployed_webhooks(agent, v).await?, state.store.deployed_processing(agent, v).await?),
        None => (Vec::new(), ProcessingSettings::default()),
    };
    for row in rows.into_iter().rev() {
        let after = (state.store.deployed_webhooks(agent, row.version).await?, state.store.deployed_processing(agent, row.version).await?);
        let changes = config_changes(&after.0, &before.0, &after.1, &before.1);
        views.push(VersionView { version: row.version, deployed_at: row.deployed_at, deployed_by: row.deployed_by, changes });
        before = after;
    }
    views.reverse();
    Ok(views)
}

/// Copies version `version` into the draft (secrets and header values included, on the server).
/// The owner then reviews what Deploy would change and deploys.
pub async fn restore(state: &AppState, owner: &OwnerId, agent_id: &str, version: i64) -> Result<(), AppError> {
    let agent = agent(state, owner, agent_id).await?;
    state.store.restore_version(&agent, version).await?;
    tracing::info!(agent_id, version, "version restored to the draft");
    Ok(())
}
