//! A webhook as the server holds it once read: what the dispatcher sends with and the config
//! views are made from.

use crate::domain::{CustomHeader, SigningSecret};
use crate::states::RetryPolicy;
use crate::views::{HeaderNameView, WebhookView};

/// A webhook as stored, secret and header values included. It stays on the server: what leaves
/// is `view()`, which has neither.
#[derive(Debug, Clone)]
pub struct StoredWebhook {
    pub id: String,
    pub name: String,
    pub url: String,
    pub secret: Option<SigningSecret>,
    pub headers: Vec<CustomHeader>,
    pub standard_webhooks: bool,
    pub retry_policy: RetryPolicy,
    pub created_at: String,
    pub updated_at: String,
}

impl StoredWebhook {
    pub fn view(&self) -> WebhookView {
        WebhookView {
            id: self.id.clone(),
            name: self.name.clone(),
            url: self.url.clone(),
            has_secret: self.secret.is_some(),
            headers: self
                .headers
                .iter()
                .map(|h| HeaderNameView { name: h.name.as_str().to_owned() })
                .collect(),
            standard_webhooks: self.standard_webhooks,
            retry_policy: self.retry_policy,
            paused: false,
            created_at: self.created_at.clone(),
            updated_at: self.updated_at.clone(),
        }
    }
}
