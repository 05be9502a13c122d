//! What leaves the server: the JSON of the REST API and the values of server functions.
//! None of these types has a field that could hold a signing secret or a header value; the
//! inputs that carry them in (`NewWebhook`, `WebhookPatch`) redact them from `Debug`.

use crate::states::RetryPolicy;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Webhooks an agent may have (the doc's "Up to 5 webhooks per agent").
pub const WEBHOOK_LIMIT: usize = 5;
/// Custom headers a webhook may have (the doc's "Up to 10 headers per webhook").
pub const HEADER_LIMIT: usize = 10;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct UserView {
    pub id: String,
    pub email: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct AgentView {
    pub id: String,
    pub name: String,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ApiKeyView {
    pub id: String,
    pub name: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
}

/// A key as created: the only time its plaintext leaves the server.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct CreatedApiKey {
    pub id: String,
    pub name: String,
    pub key: String,
}

impl fmt::Debug for CreatedApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreatedApiKey")
            .field("id", &self.id)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// A custom header as shown: its name only, never its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct HeaderNameView {
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct WebhookView {
    pub id: String,
    pub name: String,
    pub url: String,
    pub has_secret: bool,
    pub headers: Vec<HeaderNameView>,
    /// Also signed the Standard Webhooks way (`webhook-id`, `webhook-timestamp`, `webhook-signature`).
    pub standard_webhooks: bool,
    /// `none` (the default: one request, no retries) or `backoff` (failed deliveries are tried
    /// again on the operator's schedule).
    #[cfg_attr(feature = "server", schema(value_type = String))]
    pub retry_policy: RetryPolicy,
    /// Paused by the owner: deliveries to it are recorded as `paused` and not sent, whatever
    /// the config (draft or deployed). Not part of the config: pausing needs no deploy.
    pub paused: bool,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct WebhookList {
    pub limit: usize,
    pub webhooks: Vec<WebhookView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct DeploymentView {
    pub version: i64,
    pub deployed_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct DraftConfigView {
    pub webhooks: Vec<WebhookView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct DeployedConfigView {
    pub version: i64,
    pub deployed_at: String,
    pub webhooks: Vec<WebhookView>,
}

/// `GET /api/v1/agents/{id}/config`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ConfigView {
    pub draft: DraftConfigView,
    pub deployed: Option<DeployedConfigView>,
    pub has_undeployed_changes: bool,
}

/// What the Settings page's Webhooks section is sent: the number of draft webhooks, which its
/// toggle shows while it is closed, and everything else, read only once the section is opened
/// (by the list's own wasm chunk, `pages/webhook_list.rs`).
#[derive(Clone, Serialize, Deserialize)]
pub struct WebhooksSectionView {
    pub count: usize,
    pub settings: crate::codec::Deferred<WebhookSettings>,
}

/// Everything the Webhooks section of the Settings tab shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct WebhookSettings {
    pub config: ConfigView,
    /// What Deploy would change, in words.
    pub changes: Vec<ChangeView>,
    /// The latest deployed versions, newest first, each with what it changed.
    pub history: Vec<VersionView>,
    /// The latest 5 deliveries of each draft webhook, newest first.
    pub recent_deliveries: Vec<DeliveryView>,
    /// Each draft webhook's health, in the draft's order.
    pub health: Vec<WebhookHealth>,
}

/// One difference between the draft and the deployed version. `kind` is one of `webhook_added`,
/// `webhook_removed`, `webhook_renamed`, `url_changed`, `secret_set`, `secret_changed`,
/// `secret_removed`, `standard_webhooks_on`, `standard_webhooks_off`, `retry_policy_changed`, `header_added`, `header_removed`, `header_value_changed`, `variable_added`,
/// `variable_removed`, `variable_changed`, `email_added`, `email_removed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ChangeView {
    pub kind: String,
    pub webhook_id: Option<String>,
    pub description: String,
}

/// A deployed version in the history: when, by whom, and what it changed from the one before.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct VersionView {
    pub version: i64,
    pub deployed_at: String,
    /// The e-mail of the account that deployed it (none for versions deployed before this was kept).
    pub deployed_by: Option<String>,
    pub changes: Vec<ChangeView>,
}

/// `GET /api/v1/agents/{id}/versions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct VersionList {
    pub versions: Vec<VersionView>,
}

/// `GET /api/v1/agents/{id}/config/diff`: what Deploy would change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ConfigDiffView {
    /// The version the draft is compared with; none when nothing was deployed yet.
    pub deployed_version: Option<i64>,
    pub changes: Vec<ChangeView>,
}

/// One custom header as typed in: a name, and a value that may be blank when editing.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct HeaderInput {
    #[cfg_attr(feature = "server", schema(required = true))]
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub value: Option<String>,
}

impl fmt::Debug for HeaderInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HeaderInput")
            .field("name", &self.name)
            .field("value", &redacted(&self.value))
            .finish()
    }
}

/// `POST …/webhooks`: a webhook to add. Missing fields default to blank so that validation,
/// not JSON decoding, says what is missing.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    #[cfg_attr(feature = "server", schema(required = true))]
    #[serde(default)]
    pub name: String,
    #[cfg_attr(feature = "server", schema(required = true))]
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub secret: Option<String>,
    #[serde(default)]
    pub headers: Vec<HeaderInput>,
    #[serde(default)]
    pub standard_webhooks: bool,
    /// `none` (the default) or `backoff`.
    #[serde(default)]
    pub retry_policy: Option<String>,
}

impl fmt::Debug for NewWebhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewWebhook")
            .field("name", &self.name)
            .field("url", &self.url)
            .field("secret", &redacted(&self.secret))
            .field("headers", &self.headers)
            .field("standard_webhooks", &self.standard_webhooks)
            .field("retry_policy", &self.retry_policy)
            .finish()
    }
}

/// `PATCH …/webhooks/{id}`: absent fields keep what is stored (see the service for the rules).
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WebhookPatch {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub secret: Option<String>,
    #[serde(default)]
    pub clear_secret: bool,
    #[serde(default)]
    pub headers: Option<Vec<HeaderInput>>,
    #[serde(default)]
    pub standard_webhooks: Option<bool>,
    /// `none` or `backoff`; absent keeps what is stored.
    #[serde(default)]
    pub retry_policy: Option<String>,
}

impl fmt::Debug for WebhookPatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookPatch")
            .field("name", &self.name)
            .field("url", &self.url)
            .field("secret", &redacted(&self.secret))
            .field("clear_secret", &self.clear_secret)
            .field("headers", &self.headers)
            .field("standard_webhooks", &self.standard_webhooks)
            .field("retry_policy", &self.retry_policy)
            .finish()
    }
}

fn redacted(value: &Option<String>) -> &'static str {
    match value {
        Some(v) if !v.is_empty() => "[redacted]",
        _ => "[blank]",
    }
}

mod alerts;
mod calls;
mod reference;
pub use alerts::*;
pub use calls::*;
pub use reference::*;
