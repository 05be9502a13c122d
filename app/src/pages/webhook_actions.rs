//! The Webhooks section's server functions (read, add, edit, delete, deploy, restore), each a
//! call into the core's services, and the state the section's pieces share.

use crate::pages::webhook_tools::SendOutcome;
use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, Json};
use voicy_model::error::AppError;
use voicy_model::views::{
    DeploymentView, NewWebhook, WebhookPatch, WebhookView, WebhooksSectionView,
};

#[leptos::server(prefix = "/rpc", endpoint = "get_webhook_settings", input = GetUrl, output = voicy_model::codec::Json)]
pub async fn get_webhook_settings(agent_id: String) -> Result<WebhooksSectionView, AppError> {
    crate::server::page_reads::page_read!("get_webhook_settings", agent_id; {
        use crate::server::request_owner;
        use voicy_core::services::webhooks;
        let settings = webhooks::settings(&request_owner().await?, &agent_id).await?;
        Ok(WebhooksSectionView {
            count: settings.config.draft.webhooks.len(),
            settings: voicy_model::codec::Deferred::new(&settings).map_err(AppError::internal)?,
        })
    })
}

#[leptos::server(prefix = "/rpc", endpoint = "add_webhook", input = Json, output = voicy_model::codec::Json)]
pub async fn add_webhook(agent_id: String, input: NewWebhook) -> Result<WebhookView, AppError> {
    use crate::server::request_owner;
    use voicy_core::services::webhooks;
    webhooks::add(&request_owner().await?, &agent_id, &input).await
}

#[leptos::server(prefix = "/rpc", endpoint = "update_webhook", input = Json, output = voicy_model::codec::Json)]
pub async fn update_webhook(
    agent_id: String, webhook_id: String, patch: WebhookPatch,
) -> Result<WebhookView, AppError> {
    use crate::server::request_owner;
    use voicy_core::services::webhooks;
    webhooks::update(&request_owner().await?, &agent_id, &webhook_id, &patch).await
}

#[leptos::server(prefix = "/rpc", endpoint = "delete_webhook", output = voicy_model::codec::Json)]
pub async fn delete_webhook(agent_id: String, webhook_id: String) -> Result<(), AppError> {
    use crate::server::request_owner;
    use voicy_core::services::webhooks;
    webhooks::delete(&request_owner().await?, &agent_id, &webhook_id).await
}

#[leptos::server(prefix = "/rpc", endpoint = "set_webhook_paused", output = voicy_model::codec::Json)]
pub async fn set_webhook_paused(
    agent_id: String, webhook_id: String, paused: bool,
) -> Result<WebhookView, AppError> {
    use crate::server::request_owner;
    use voicy_core::services::pauses;
    pauses::set(&request_owner().await?, &agent_id, &webhook_id, paused).await
}

#[leptos::server(prefix = "/rpc", endpoint = "deploy_agent", output = voicy_model::codec::Json)]
pub async fn deploy_agent(agent_id: String) -> Result<DeploymentView, AppError> {
    use crate::server::request_owner;
    use voicy_core::services::webhooks;
    webhooks::deploy(&request_owner().await?, &agent_id).await
}

#[leptos::server(prefix = "/rpc", endpoint = "restore_version", output = voicy_model::codec::Json)]
pub async fn restore_version(agent_id: String, version: i64) -> Result<(), AppError> {
    use crate::server::request_owner;
    use voicy_core::services::versions;
    versions::restore(&request_owner().await?, &agent_id, version).await
}

/// Shared by the pieces of the section: what to reload and where to say how things ended.
#[derive(Clone, Copy)]
pub(crate) struct Section {
    pub agent_id: StoredValue<String>,
    pub refresh: RwSignal<u32>,
    pub outcome: RwSignal<Option<Result<String, String>>>,
    pub editing: RwSignal<Option<Editing>>,
    /// Whether the open form has changes that are not saved.
    pub dirty: RwSignal<bool>,
    /// The last test send of each webhook (by id): shown on its row across reloads.
    pub tests: RwSignal<Vec<(String, SendOutcome)>>,
    /// Where the keyboard focus goes once the list has been shown again after an action (a
    /// CSS selector), since the control that had it is gone with the old list.
    pub focus_after: StoredValue<Option<String>>,
}

impl Section {
    /// Opens a form (add, or edit a webhook). One form is open at a time: unsaved changes in the
    /// open one are not thrown away without asking.
    pub fn open(&self, editing: Editing) {
        if self.dirty.get_untracked() {
            let discard = window()
                .confirm_with_message(
                    "The webhook form that is open has unsaved changes. Discard them?",
                )
                .unwrap_or(false);
            if !discard {
                return;
            }
        }
        self.dirty.set(false);
        self.outcome.set(None);
        self.editing.set(Some(editing));
    }

    /// An action failed: why is shown, and the focus goes there.
    pub fn failed(&self, why: String) {
        self.outcome.set(Some(Err(why)));
        crate::components::focus_soon("#webhooks-outcome".to_owned());
    }

    /// Closes the open form; the focus goes back to the control that opened it.
    pub fn close(&self) {
        let opener = match self.editing.get_untracked() {
            Some(Editing::Existing(w)) => format!("#edit-{}", w.id),
            _ => "#add-webhook".to_owned(),
        };
        self.dirty.set(false);
        self.editing.set(None);
        crate::components::focus_soon(opener);
    }

    /// An action succeeded: its message is shown, the list reloads, and the focus goes to the
    /// message (a screen reader reads it; the next Tab continues from there).
    pub fn done(&self, message: String) {
        self.dirty.set(false);
        self.editing.set(None);
        self.outcome.set(Some(Ok(message)));
        self.focus_after.set_value(Some("#webhooks-outcome".to_owned()));
        self.refresh.update(|n| *n += 1);
    }
}

/// Which form is open: a new webhook's, or an existing one's.
#[derive(Clone, Debug, PartialEq)]
pub enum Editing {
    New,
    Existing(WebhookView),
}
