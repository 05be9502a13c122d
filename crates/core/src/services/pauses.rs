//! Pause and resume a webhook: `POST …/webhooks/{id}/pause` and `…/resume`. It takes effect at
//! once for the draft and every deployed version (no deploy needed): while paused, each call's
//! delivery to it is recorded as `paused` and not sent, and its due retries wait.

use crate::OwnerRequest;
use crate::error::AppError;
use crate::store::StoredWebhook;
use crate::views::WebhookView;
use std::collections::HashSet;

/// Pauses (`paused` true) or resumes a webhook of the draft or of the latest deployed version,
/// and answers it as it now is.
pub async fn set(
    request: &OwnerRequest, agent_id: &str, webhook_id: &str, paused: bool,
) -> Result<WebhookView, AppError> {
    let agent = request.agent(agent_id).await?;
    let store = request.store();
    let mut webhook = store.draft_webhooks(&agent).await?.into_iter().find(|w| w.id == webhook_id);
    if webhook.is_none() {
        let latest = store.version_configs(&agent, 1).await?;
        webhook = latest
            .into_iter()
            .flat_map(|v| v.config.webhooks.to_vec())
            .find(|w| w.id == webhook_id);
    }
    let webhook = webhook.ok_or(AppError::NotFound)?;
    store.set_paused(&agent, &webhook.id, paused).await?;
    tracing::info!(agent_id, webhook_id, paused, "webhook pause changed");
    let mut view = webhook.view();
    view.paused = paused;
    Ok(view)
}

/// Views of `webhooks`, each marked paused or not.
pub fn views(webhooks: &[StoredWebhook], paused: &HashSet<String>) -> Vec<WebhookView> {
    webhooks.iter().map(|w| WebhookView { paused: paused.contains(&w.id), ..w.view() }).collect()
}
