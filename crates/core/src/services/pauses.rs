//! Pause and resume a webhook: `POST …/webhooks/{id}/pause` and `…/resume`. It takes effect at
//! once for the draft and every deployed version (no deploy needed): while paused, each call's
//! delivery to it is recorded as `paused` and not sent, and its due retries wait.

use crate::OwnerRequest;
use crate::error::AppError;
use crate::store::{OwnedAgent, StoredWebhook};
use crate::views::WebhookView;
use std::collections::HashSet;

/// Pauses (`paused` true) or resumes a webhook of the draft or of the latest deployed version,
/// and answers it as it now is.
pub async fn set(
    request: &OwnerRequest, agent_id: &str, webhook_id: &str, paused: bool,
) -> Result<WebhookView, AppError> {
    let agent = request.agent(agent_id).await?;
    let webhook = current_webhook(request, &agent, webhook_id).await?;
    request.store().set_paused(&agent, &webhook.id, paused).await?;
    tracing::info!(agent_id, webhook_id, paused, "webhook pause changed");
    let mut view = webhook.view();
    view.paused = paused;
    Ok(view)
}

/// A webhook of the agent's draft or, failing that, of its latest deployed version.
pub(super) async fn current_webhook(
    request: &OwnerRequest, agent: &OwnedAgent, webhook_id: &str,
) -> Result<StoredWebhook, AppError> {
    let store = request.store();
    if let Some(draft) = store.draft_webhooks(agent).await?.into_iter().find(|w| w.id == webhook_id)
    {
        return Ok(draft);
    }
    let latest = store.version_configs(agent, 1).await?;
    latest
        .into_iter()
        .flat_map(|v| v.config.webhooks.to_vec())
        .find(|w| w.id == webhook_id)
        .ok_or(AppError::NotFound)
}

/// Views of `webhooks`, each marked paused or not.
pub fn views(webhooks: &[StoredWebhook], paused: &HashSet<String>) -> Vec<WebhookView> {
    webhooks.iter().map(|w| WebhookView { paused: paused.contains(&w.id), ..w.view() }).collect()
}
