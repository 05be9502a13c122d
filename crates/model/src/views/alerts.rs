//! Failure alerts as the API and the agent pages show them.

use serde::{Deserialize, Serialize};

/// An open incident: one of the owner's webhooks whose deliveries failed 5 times in a row (a
/// retry chain counts once, when it ends). It closes at the webhook's first success.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct AlertView {
    pub id: String,
    pub agent_id: String,
    pub agent_name: String,
    pub webhook_id: String,
    pub webhook_name: String,
    /// When the run of failures began (RFC 3339).
    pub failing_since: String,
    /// Failed deliveries in a row when the incident opened.
    pub failures: i64,
    /// The error of the delivery that opened it.
    pub last_error: Option<String>,
    pub opened_at: String,
    /// How the alert e-mail to the owner went: `sent`, `skipped` (no mail server), `failed`.
    pub alert_mail: Option<String>,
}

/// `GET /api/v1/alerts`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct AlertList {
    pub alerts: Vec<AlertView>,
}
