//! The version history of an agent and "Restore to draft".

use super::diff::config_changes;
use crate::OwnerRequest;
use crate::error::AppError;
use crate::store::VersionConfig;
use crate::views::{ProcessingSettings, VersionList, VersionView};

/// Versions the history shows.
pub(super) const HISTORY: i64 = 20;

pub async fn list(request: &OwnerRequest, agent_id: &str) -> Result<VersionList, AppError> {
    let agent = request.agent(agent_id).await?;
    // One more than shown: the oldest shown is compared with the one before it.
    let configs = request.store().version_configs(&agent, HISTORY + 1).await?;
    Ok(VersionList { versions: history_of(&configs) })
}

/// `configs` (the latest `HISTORY + 1` versions, newest first) as the history shows them: the
/// latest `HISTORY`, each compared with the version before it.
pub(super) fn history_of(configs: &[VersionConfig]) -> Vec<VersionView> {
    let empty = (Vec::new(), ProcessingSettings::default());
    configs
        .iter()
        .enumerate()
        .take(HISTORY as usize)
        .map(|(i, config)| {
            let (before_webhooks, before_processing) = match configs.get(i + 1) {
                Some(before) => (before.config.webhooks.as_slice(), &before.config.processing),
                None => (empty.0.as_slice(), &empty.1), // the first version: everything in it was added
            };
            VersionView {
                version: config.row.version,
                deployed_at: config.row.deployed_at.clone(),
                deployed_by: config.row.deployed_by.clone(),
                changes: config_changes(
                    &config.config.webhooks,
                    before_webhooks,
                    &config.config.processing,
                    before_processing,
                ),
            }
        })
        .collect()
}

/// Copies version `version` into the draft (secrets and header values included, on the server).
/// The owner then reviews what Deploy would change and deploys.
pub async fn restore(request: &OwnerRequest, agent_id: &str, version: i64) -> Result<(), AppError> {
    let agent = request.agent(agent_id).await?;
    request.store().restore_version(&agent, version).await?;
    tracing::info!(agent_id, version, "version restored to the draft");
    Ok(())
}
